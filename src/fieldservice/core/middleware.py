"""Refuse NUL bytes at the door. PostgreSQL cannot store or even compare text holding one (the
driver raises, a 500), and no person types one: a path, query string, form or JSON body carrying
one is refused before any view sees it, the API's answer naming the field."""

import json

from django.http import HttpResponseBadRequest, JsonResponse
from django.utils.translation import gettext as _

from fieldservice.core.validation import has_nul


def _nul_at(value, where: list) -> list | None:
    """The location of the first NUL byte in a parsed JSON body, naming the field."""
    if isinstance(value, str):
        return where if "\x00" in value else None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        if has_nul(key):
            return where
        found = _nul_at(item, [*where, key])
        if found:
            return found
    return None


def _nul_in_request(request) -> list | None:
    """Where a NUL byte is, as a Ninja error location, or None."""
    if "\x00" in request.path:
        return ["path"]
    for name, values in request.GET.lists():
        if has_nul(name) or has_nul(values):
            return ["query", name]
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for name, values in request.POST.lists():
            if has_nul(name) or has_nul(values):
                return ["body", name]
    elif request.path.startswith("/api/") and request.content_type == "application/json" and request.body:
        try:
            body = json.loads(request.body)
        except ValueError:
            return None  # not JSON: the API answers that itself
        return _nul_at(body, ["body"])
    return None


class RefuseNulBytesMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        where = _nul_in_request(request)
        if where is None:
            return self.get_response(request)
        message = _("Text may not contain NUL characters.")
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": [{"loc": where, "msg": message, "type": "nul_character"}]}, status=422)
        return HttpResponseBadRequest(message)
