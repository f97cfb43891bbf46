from django.http import Http404


def equipment_list(request, *args, **kwargs):
    raise Http404


def product_model_list(request, *args, **kwargs):
    raise Http404
