"""Outbox consumer (first cut: the notifications app fills it in)."""


def consume(message) -> None:
    pass
