"""Worker processes in tests: the environment an `fsm worker` subprocess runs with (the test
database, test settings, no mail server), and the wait for what it does."""

import os
import time

from django.db import connection


def worker_env(**extra) -> dict:
    settings_dict = connection.settings_dict
    url = (
        f"postgres://{settings_dict['USER']}:{settings_dict['PASSWORD'] or ''}@{settings_dict['HOST'] or '127.0.0.1'}"
        f":{settings_dict['PORT'] or 5432}/{settings_dict['NAME']}"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "fieldservice.settings",
        "DATABASE_URL": url,
        "SECRET_KEY": "worker-test",
        "DEBUG": "false",
        "FSM_TESTING": "1",
        "EMAIL_HOST": "",
    }
    env.pop("FSM_TASK_BACKEND", None)
    env.update(extra)
    return env


def wait_until(condition, timeout: float = 30.0, poll: float = 0.1) -> bool:
    """Poll `condition` until it holds (True) or `timeout` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(poll)
    return False
