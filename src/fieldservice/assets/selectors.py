"""What each user may see of product models and the installed base."""

import datetime as dt

from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from fieldservice.accounts.models import User
from fieldservice.accounts.permissions import Capability, can
from fieldservice.assets.choices import EquipmentStatus, WarrantyState
from fieldservice.assets.models import BomLine, Equipment, EquipmentDocument, FittedPart, ProductModel
from fieldservice.customers.selectors import customers_for


def product_models_for(actor: User) -> QuerySet[ProductModel]:
    """The catalogue is not secret: everyone who may see equipment sees every model."""
    if not can(actor, Capability.VIEW_ASSETS):
        return ProductModel.objects.none()
    return ProductModel.objects.all()


def get_product_model_for(actor: User, pk: int) -> ProductModel:
    return get_object_or_404(product_models_for(actor), pk=pk)


def search_product_models(actor: User, text: str = "") -> QuerySet[ProductModel]:
    """Models with `machine_count`: how many of the actor's visible machines are of that model
    (never the whole installed base, which is other customers' business)."""
    visible = equipment_for(actor).values("pk")
    models = (
        product_models_for(actor)
        .annotate(machine_count=Count("equipment", filter=Q(equipment__pk__in=visible), distinct=True))
        .order_by("code")
    )
    text = (text or "").strip()
    if text:
        models = models.filter(Q(code__icontains=text) | Q(name__icontains=text) | Q(product_line__icontains=text))
    return models


def bom_lines_of(product_model: ProductModel) -> QuerySet[BomLine]:
    return product_model.bom_lines.select_related("part")


def equipment_for(actor: User) -> QuerySet[Equipment]:
    if not can(actor, Capability.VIEW_ASSETS):
        return Equipment.objects.none()
    return Equipment.objects.select_related("product_model", "customer", "site").filter(
        customer__in=customers_for(actor)
    )


def search_equipment(actor: User, text: str = "") -> QuerySet[Equipment]:
    equipment = equipment_for(actor)
    text = (text or "").strip()
    if text:
        equipment = equipment.filter(
            Q(serial_number__icontains=text)
            | Q(lot_number__icontains=text)
            | Q(product_model__code__icontains=text)
            | Q(customer__name__icontains=text)
        )
    return equipment


def filter_equipment(
    equipment: QuerySet[Equipment],
    *,
    status: str = "",
    product_model: ProductModel | int | None = None,
    customer=None,
    lot_number: str = "",
    warranty: str = "",
    today: dt.date | None = None,
) -> QuerySet[Equipment]:
    """The list filters shared by the pages and the API; empty values filter nothing."""
    if status:
        equipment = equipment.filter(status=status)
    if product_model:
        equipment = equipment.filter(product_model=product_model)
    if customer:
        equipment = equipment.filter(customer=customer)
    if lot_number:
        equipment = equipment.filter(lot_number__iexact=lot_number.strip())
    if warranty:
        today = today or timezone.localdate()
        if warranty == WarrantyState.IN_WARRANTY:
            equipment = equipment.filter(warranty_starts_on__lte=today, warranty_ends_on__gte=today)
        elif warranty == WarrantyState.EXPIRED:
            equipment = equipment.filter(warranty_ends_on__lt=today)
    return equipment


def registered_equipment_for(actor: User) -> QuerySet[Equipment]:
    """What may be chosen for a new service request."""
    return equipment_for(actor).filter(status=EquipmentStatus.REGISTERED)


def get_equipment_for(actor: User, pk: int) -> Equipment:
    return get_object_or_404(equipment_for(actor).select_related("parent__product_model"), pk=pk)


def parent_candidates_for(actor: User, equipment: Equipment | None = None) -> QuerySet[Equipment]:
    """Machines a module may hang under: registered, visible, and not the module itself or
    anything below it (that would make a loop)."""
    candidates = registered_equipment_for(actor)
    if equipment is not None:
        below, frontier = {equipment.pk}, [equipment.pk]
        while frontier:
            frontier = list(Equipment.objects.filter(parent_id__in=frontier).values_list("pk", flat=True))
            frontier = [pk for pk in frontier if pk not in below]
            below.update(frontier)
        candidates = candidates.exclude(pk__in=below)
    return candidates


def modules_of(actor: User, equipment: Equipment) -> QuerySet[Equipment]:
    return equipment_for(actor).filter(parent=equipment)


def fitted_parts_of(equipment: Equipment) -> QuerySet[FittedPart]:
    """Call with a machine from `get_equipment_for`, which did the scoping."""
    return equipment.fitted_parts.select_related("part")


def find_equipment_by_serial(actor: User, serial_number: str) -> QuerySet[Equipment]:
    """Serials are unique per model, so one serial may match machines of several models."""
    return equipment_for(actor).filter(serial_number__iexact=(serial_number or "").strip())


def equipment_by_public_token(token: str) -> Equipment:
    """The public QR page: no user, only the token. 404 for an unknown token."""
    return get_object_or_404(Equipment.objects.select_related("product_model"), public_token=token)


def documents_for(actor: User, equipment: Equipment) -> QuerySet[EquipmentDocument]:
    return EquipmentDocument.objects.filter(equipment__in=equipment_for(actor).filter(pk=equipment.pk))


def get_document_for(actor: User, equipment: Equipment, pk: int) -> EquipmentDocument:
    return get_object_or_404(documents_for(actor, equipment), pk=pk)
