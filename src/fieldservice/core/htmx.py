"""The one answer to "does this request want a fragment or the whole page?"."""


def wants_fragment(request) -> bool:
    """An htmx request that swaps part of a page wants the fragment. A boosted one (a link or
    form that hx-boost turned into htmx) wants the whole page, as a plain request does."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted
