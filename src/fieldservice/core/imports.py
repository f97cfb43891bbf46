from django.http import Http404


def import_view(request):
    raise Http404


def template_view(request, kind):
    raise Http404
