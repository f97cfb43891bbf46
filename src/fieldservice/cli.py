"""The `fsm` command: manage.py with a few friendlier verbs.

`fsm serve` runs the web server, `fsm demo` loads demo data; every other
argument is passed to Django's management commands (`fsm migrate`, ...).
"""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fieldservice.settings")
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "serve":
        address = args[1] if len(args) > 1 else "127.0.0.1:8000"
        args = ["runserver", address, "--noreload", *args[2:]]
    elif args and args[0] == "demo":
        args = ["load_demo", *args[1:]]

    from django.core.management import execute_from_command_line

    execute_from_command_line(["fsm", *args])


if __name__ == "__main__":
    main()
