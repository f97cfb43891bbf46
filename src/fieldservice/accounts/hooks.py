"""Extension points of accounts, for the apps above it.

An app that keeps something per engineer (inventory gives every engineer his own stock, a van)
registers here from its `ready()`; accounts calls the hooks inside the transaction that created the
engineer's profile, so a hook that raises undoes the whole creation. accounts never imports them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fieldservice.accounts.models import EngineerProfile

_profile_created: list[Callable[[EngineerProfile], None]] = []


def on_engineer_profile_created(hook: Callable[[EngineerProfile], None]) -> None:
    if hook not in _profile_created:
        _profile_created.append(hook)


def engineer_profile_created(profile: EngineerProfile) -> None:
    for hook in _profile_created:
        hook(profile)
