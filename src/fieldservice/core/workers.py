"""Placeholder replaced by the workers branch."""

import os
import socket

_name = None
_release_hooks = []


def current_name() -> str:
    return _name or f"{socket.gethostname()}-{os.getpid()}"


def register_release_hook(hook) -> None:
    _release_hooks.append(hook)
