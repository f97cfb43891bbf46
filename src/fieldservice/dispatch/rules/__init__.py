"""Auto-dispatch rules: the conditions language (`conditions`), the engine that ranks engineers
(`engine`), the rule pass that writes its decisions (`autodispatch`, run by the outbox consumer in
`consumers`), and the administrator's rule pages and API (`services`, `api`, `views`, `forms`)."""
