"""webhooks services (first cut)."""


def requeue_stalled() -> int:
    return 0
