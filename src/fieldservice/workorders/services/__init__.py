"""Business rules for service requests and work orders, split by sub-domain:
`intake` (requests from every channel, work orders made from them), `mail_filing` (mails from the
service mailbox filed as requests or replies; `workorders.mail` reads the mailbox), `lifecycle`
(the transition table and the verbs a desk user performs), `log` (the service log writer)."""
