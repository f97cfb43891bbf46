from django.http import Http404


def list(request, *args, **kwargs):
    raise Http404
