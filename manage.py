#!/usr/bin/env python
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "src"))
# manage.py is the developer's tool inside a checkout; deployments use `fsm`, which stays strict.
os.environ.setdefault("DEBUG", "1")

from fieldservice.cli import main  # noqa: E402

if __name__ == "__main__":
    main()
