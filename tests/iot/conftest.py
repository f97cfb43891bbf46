import pytest
import time_machine


@pytest.fixture(autouse=True)
def _clock_from_the_modules_now(request):
    """A module that works from a fixed NOW (taken when it is imported) runs each test with the
    clock set there and ticking: pages and services that ask for the time agree with it however
    long the suite ran before the test."""
    now = getattr(request.module, "NOW", None)
    if now is None:
        yield
        return
    with time_machine.travel(now, tick=True):
        yield
