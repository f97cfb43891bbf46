"""Invariants over every row of a demo (built once, small, with all of its history in the last
six days, where steps run into "now"): nothing happened after now, customers sit where their
names say, addresses do not repeat the province, city and district, and engineers are sent only
into their own service areas."""

import datetime as dt
import io

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import models, transaction
from django.utils import timezone

from fieldservice.accounts.models import ServiceArea
from fieldservice.customers.models import Site
from fieldservice.demo.management.commands.load_demo import LOCATIONS
from fieldservice.dispatch.models import Assignment
from fieldservice.field.models import JobStep, JobTemplate
from fieldservice.planning.inputs import site_in_area
from fieldservice.scheduling.models import Visit
from fieldservice.workorders.models import WorkOrder

# Times that are plans, promises or limits: they may lie ahead.
AHEAD = {
    ("SlaClock", "due_at"),
    ("SlaClock", "at_risk_at"),
    ("SlaClock", "next_check_at"),
    ("PoolOffer", "expires_at"),
    ("Visit", "planned_start"),
    ("Visit", "window_start"),
    ("Visit", "window_end"),
    ("Absence", "starts_at"),
    ("Absence", "ends_at"),
    ("Equipment", "warranty_ends_on"),
    ("Contract", "starts_on"),
    ("Contract", "ends_on"),
    ("Bill", "due_on"),
    ("Quotation", "valid_until"),
    ("QuotationVersion", "valid_until"),
    # A care touch counts the requests that follow it for some days, past today.
    ("CareTouch", "effect_until"),
    # The maintenance visits the plans opened ahead of their day.
    ("DueVisit", "due_on"),
    ("WorkOrder", "planned_for"),
}


@pytest.fixture(scope="module")
def recent_demo(django_db_setup, django_db_blocker):
    """One demo for the module (9 engineers: the teams split their areas), rolled back after."""
    with django_db_blocker.unblock(), transaction.atomic():
        out = io.StringIO()
        call_command("load_demo", scale=0.45, orders=120, history_days=6, stdout=out)
        yield timezone.now()
        transaction.set_rollback(True)


def test_nothing_in_the_demo_is_dated_after_now(recent_demo, db):
    now = recent_demo
    late = []
    checked = 0
    for model in apps.get_models():
        if not model.__module__.startswith("fieldservice."):
            continue
        for field in model._meta.concrete_fields:
            if (model.__name__, field.name) in AHEAD:
                continue
            if isinstance(field, models.DateTimeField):
                limit = now
            elif isinstance(field, models.DateField):
                limit = timezone.localdate(now)
            else:
                continue
            checked += 1
            rows = model.objects.filter(**{f"{field.name}__gt": limit})
            if rows.exists():
                latest = max(rows.values_list(field.name, flat=True))
                late.append(f"{model.__name__}.{field.name}: {rows.count()} rows, latest {latest}")
    assert checked > 50
    assert not late, late


def test_the_recent_history_is_there_to_check(recent_demo, db):
    """The invariants above are not empty: orders were closed and rated within the last days."""
    from fieldservice.feedback.models import Evaluation
    from fieldservice.workorders.models import WorkOrder

    since = recent_demo - dt.timedelta(days=7)
    assert WorkOrder.objects.filter(created_at__lt=since).count() == 0
    assert WorkOrder.objects.filter(status="closed").count() >= 5
    assert Evaluation.objects.count() >= 2


def test_customers_sites_are_where_their_names_say(recent_demo, db):
    places = {(short, city, district) for short, _province, city, district, *_rest in LOCATIONS}
    sites = Site.objects.select_related("customer")
    assert sites.count() >= 90
    for site in sites:
        assert any(
            site.customer.name.startswith(short) and (short, site.city, site.district) in places for short, *_ in places
        ), (site.customer.name, site.city, site.district)


def test_site_addresses_do_not_repeat_province_city_or_district(recent_demo, db):
    for site in Site.objects.all():
        for part in (site.province, site.city, site.district):
            assert part and part not in site.address, (site.address, part)


def covers(profile, site) -> bool:
    return any(site_in_area(site, area) for area in profile.areas.all())


def test_engineers_are_sent_only_into_their_service_areas(recent_demo, db):
    assignments = Assignment.objects.filter(engineer__isnull=False).select_related(
        "work_order__site", "engineer__engineer_profile"
    )
    assert assignments.count() >= 50
    for assignment in assignments:
        site = assignment.work_order.site
        assert covers(assignment.engineer.engineer_profile, site), (assignment.engineer, site.city, site.district)
    for visit in Visit.objects.select_related("work_order__site", "engineer__engineer_profile"):
        assert covers(visit.engineer.engineer_profile, visit.work_order.site), visit


def test_the_ningbo_boundary_holds_exactly_the_ningbo_sites(recent_demo, db):
    ningbo = ServiceArea.objects.get(name="宁波")
    assert ningbo.polygon
    for site in Site.objects.all():
        assert site_in_area(site, ningbo) == (site.city == "宁波市"), (site.city, site.district)


def test_the_recall_campaign_covers_a_lot_range_and_is_about_half_done(recent_demo, db):
    from fieldservice.maintenance.models import Campaign
    from fieldservice.maintenance.models.campaigns import CampaignStatus, TargetStatus

    campaign = Campaign.objects.get(action="recall")
    assert campaign.status == CampaignStatus.LAUNCHED
    targets = list(campaign.targets.select_related("equipment", "work_order"))
    assert targets and all(campaign.lot_from <= t.equipment.lot_number <= campaign.lot_to for t in targets)
    assert all(t.work_order_id for t in targets)
    statuses = [t.status for t in targets]
    assert statuses.count(TargetStatus.DONE) == len(targets) // 2
    assert TargetStatus.REFUSED in statuses and TargetStatus.UNREACHABLE in statuses
    assert all(t.work_order.status in ("completed", "closed") for t in targets if t.status == TargetStatus.DONE)


def test_completed_visits_answered_their_job_steps(recent_demo, db):
    """The demo's templates give maintenance and inspection orders their steps, and the history's
    engineer answers them before completing (completion refuses an open required step)."""
    assert JobTemplate.objects.filter(product_model__code="HR-1000").exists()
    assert JobTemplate.objects.filter(report_layout="certificate").exists()
    done = WorkOrder.objects.filter(job_steps__isnull=False, status__in=["completed", "closed"]).distinct()
    assert done.exists()
    assert not JobStep.objects.filter(work_order__in=done, required=True, answered_at__isnull=True).exists()
    assert not JobStep.objects.filter(answered_at__isnull=False, out_of_range=True, comment="").exists()
    # The templates cover a share of the orders: most repairs have no steps.
    assert WorkOrder.objects.filter(job_steps__isnull=True, service_type="repair").exists()
