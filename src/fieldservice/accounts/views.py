from django.http import Http404


def me(request, *args, **kwargs):
    raise Http404


def engineer_list(request, *args, **kwargs):
    raise Http404


def team_list(request, *args, **kwargs):
    raise Http404


def user_list(request, *args, **kwargs):
    raise Http404
