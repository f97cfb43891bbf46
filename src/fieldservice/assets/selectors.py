"""What each user may see of product models and the installed base."""

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from fieldservice.accounts.models import User
from fieldservice.accounts.permissions import Capability, can
from fieldservice.assets.choices import EquipmentStatus
from fieldservice.assets.models import Equipment, EquipmentDocument, ProductModel
from fieldservice.customers.selectors import customers_for


def product_models_for(actor: User) -> QuerySet[ProductModel]:
    """The catalogue is not secret: everyone who may see equipment sees every model."""
    if not can(actor, Capability.VIEW_ASSETS):
        return ProductModel.objects.none()
    return ProductModel.objects.all()


def get_product_model_for(actor: User, pk: int) -> ProductModel:
    return get_object_or_404(product_models_for(actor), pk=pk)


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


def registered_equipment_for(actor: User) -> QuerySet[Equipment]:
    """What may be chosen for a new service request."""
    return equipment_for(actor).filter(status=EquipmentStatus.REGISTERED)


def get_equipment_for(actor: User, pk: int) -> Equipment:
    return get_object_or_404(equipment_for(actor), pk=pk)


def find_equipment_by_serial(actor: User, serial_number: str) -> QuerySet[Equipment]:
    """Serials are unique per model, so one serial may match machines of several models."""
    return equipment_for(actor).filter(serial_number__iexact=(serial_number or "").strip())


def equipment_by_public_token(token: str) -> Equipment:
    """The public QR page: no user, only the token. 404 for an unknown token."""
    return get_object_or_404(Equipment.objects.select_related("product_model"), public_token=token)


def documents_for(actor: User, equipment: Equipment) -> QuerySet[EquipmentDocument]:
    return EquipmentDocument.objects.filter(equipment__in=equipment_for(actor).filter(pk=equipment.pk))
