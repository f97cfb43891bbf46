from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from fieldservice.accounts.models import User
from fieldservice.accounts.permissions import Capability, can
from fieldservice.inventory.models import Part


def parts_for(actor: User, text: str = "") -> QuerySet[Part]:
    if not can(actor, Capability.VIEW_PARTS):
        return Part.objects.none()
    parts = Part.objects.all()
    text = (text or "").strip()
    if text:
        parts = parts.filter(Q(part_number__icontains=text) | Q(name__icontains=text))
    return parts


def get_part_for(actor: User, pk: int) -> Part:
    return get_object_or_404(parts_for(actor), pk=pk)
