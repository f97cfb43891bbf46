"""Sign-in throttling (django-axes) in front of the model backend."""

from axes.backends import AxesStandaloneBackend


class ThrottledSignIn(AxesStandaloneBackend):
    """Refuses a sign-in while its account or client address is locked after failed tries.

    A call without a request is not a sign-in from the web (a script, a management command, the
    test client's login): there is no client to throttle, so it is left to the next backend."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
