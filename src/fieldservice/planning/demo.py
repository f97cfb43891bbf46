"""Demo data of the planning app: none. An optimisation run is something the dispatcher starts from the
demo's teams and open orders (/planning/); a pre-computed proposal would only go stale."""


def seed(*, rng, now) -> dict:
    return {}
