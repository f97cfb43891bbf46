"""Builders of maintenance plans for the tests, through the services."""

import datetime as dt

from django.utils import timezone

from fieldservice.maintenance.models import PlanScope
from fieldservice.maintenance.services import plans as services
from tests import factories


def plan(actor=None, parts=None, **fields):
    fields.setdefault("name", f"Plan {factories.seq()}")
    if "equipment" in fields:
        fields.setdefault("scope", PlanScope.MACHINE)
    elif "product_model" in fields:
        fields.setdefault("scope", PlanScope.MODEL)
    elif "contract" in fields:
        fields.setdefault("scope", PlanScope.CONTRACT)
    fields.setdefault("starts_on", timezone.localdate() - dt.timedelta(days=400))
    if "interval_months" not in fields and "interval_hours" not in fields and fields["scope"] != PlanScope.CONTRACT:
        fields["interval_months"] = 6
    return services.create_plan(actor=actor or factories.system_user(), parts=parts, **fields)


def machine(customer_obj=None, *, installed_on=None, model=None, **fields):
    customer_obj = customer_obj or factories.customer()
    site = fields.pop("site", None) or factories.site(customer_obj)
    if model is not None:
        fields["product_model"] = model
    return factories.equipment(customer_obj, site=site, installed_on=installed_on, **fields)
