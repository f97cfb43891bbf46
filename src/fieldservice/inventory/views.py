from django.http import Http404


def part_list(request, *args, **kwargs):
    raise Http404
