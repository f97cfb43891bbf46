"""Outbox consumer (first cut: the webhooks app fills it in)."""


def consume(message) -> None:
    pass
