"""An order held by one of a provider's engineers is the provider's: every way of giving it to
that engineer records the provider, and the provider's admin sees and manages it on every page
and endpoint, while another provider still sees nothing of it."""

import datetime as dt
import importlib

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from fieldservice.accounts.models import EngineerSkill
from fieldservice.dispatch.assignments import services
from fieldservice.dispatch.choices import AssignmentRole, AssignmentStatus
from fieldservice.dispatch.models import Assignment, DispatchRule
from fieldservice.dispatch.rules import services as rule_services
from fieldservice.dispatch.rules.autodispatch import auto_dispatch, auto_dispatch_many
from fieldservice.pool import services as pool_services
from fieldservice.scheduling.services import move_visit, schedule_visit
from fieldservice.workorders.models import WorkOrder
from fieldservice.workorders.services.intake import attach_file
from tests.assets.images import png_bytes
from tests.dispatch.conftest import order_for

API = "/api/v1"


def lead(order):
    return Assignment.objects.get(work_order=order, role=AssignmentRole.LEAD, status__in=["offered", "accepted"])


def only_provider_engineers(world):
    """Rules pick among the qualified; leave the provider's engineer the only one."""
    EngineerSkill.objects.exclude(engineer__user=world.provider_engineer).delete()


def rule(world, **fields):
    return rule_services.create_rule(actor=world.dispatcher, **{"name": f"R{DispatchRule.objects.count()}", **fields})


def by_dispatch(world, order):
    services.dispatch_to_engineer(order, actor=world.dispatcher, engineer=world.provider_engineer)


def by_page(world, order, client_for):
    response = client_for(world.dispatcher).post(
        reverse("dispatch:order", args=[order.pk]),
        {"action": "dispatch_engineer", "engineer": world.provider_engineer.pk},
    )
    assert response.status_code == 302


def by_api(world, order, api_client_for):
    response = api_client_for(world.dispatcher).post(
        f"{API}/work-orders/{order.pk}/dispatch",
        {"engineer": world.provider_engineer.pk},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content


def by_reassign(world, order):
    services.dispatch_to_engineer(order, actor=world.dispatcher, engineer=world.engineer)
    services.reassign(order, actor=world.dispatcher, engineer=world.provider_engineer, reason="Closer")


def by_rule(world, order):
    only_provider_engineers(world)
    rule(world, strategy="best_match")
    auto_dispatch(order)


def by_fixed_rule(world, order):
    rule(world, target_kind="engineer", target_engineer=world.provider_engineer, strategy="fixed")
    auto_dispatch(order)


def by_batch(world, order):
    only_provider_engineers(world)
    rule(world, strategy="least_open")
    assert auto_dispatch_many([order])["assigned"] == 1


def by_pool(world, order):
    offer = pool_services.publish_to_pool(order, actor=world.dispatcher)
    pool_services.grab(offer, actor=world.provider_engineer)


def by_board(world, order):
    services.dispatch_to_engineer(order, actor=world.dispatcher, engineer=world.engineer)
    day = timezone.localdate() + dt.timedelta(days=14)
    start = timezone.make_aware(dt.datetime.combine(day, dt.time(10, 0)))
    visit = schedule_visit(order, actor=world.dispatcher, planned_start=start, duration_minutes=60)
    move_visit(
        visit, actor=world.dispatcher, engineer=world.provider_engineer, planned_start=start, version=visit.version
    )


PATHS = [by_dispatch, by_page, by_api, by_reassign, by_rule, by_fixed_rule, by_batch, by_pool, by_board]


@pytest.mark.parametrize("give", PATHS, ids=[p.__name__ for p in PATHS])
def test_every_way_of_giving_an_order_to_a_providers_engineer_records_the_provider(
    world, give, client_for, api_client_for
):
    order = world.order
    extra = {"by_page": (client_for,), "by_api": (api_client_for,)}.get(give.__name__, ())
    give(world, order, *extra)
    assignment = lead(order)
    assert (assignment.engineer, assignment.provider) == (world.provider_engineer, world.provider)


def test_a_helper_from_a_provider_records_the_provider_and_our_engineer_none(world):
    services.dispatch_to_engineer(world.order, actor=world.dispatcher, engineer=world.engineer)
    helper = services.add_helper(world.order, actor=world.dispatcher, engineer=world.provider_engineer)
    assert helper.provider == world.provider
    assert lead(world.order).provider is None


def test_old_assignments_get_their_provider_from_the_migration(world):
    # A row as the old dispatch wrote it: the provider's engineer, no provider.
    legacy = Assignment.objects.create(work_order=world.order, engineer=world.provider_engineer)
    ours = Assignment.objects.create(work_order=order_for(world), engineer=world.engineer)
    migration = importlib.import_module("fieldservice.dispatch.migrations.0005_assignment_provider_of_engineer")
    migration.record_providers(apps, None)
    legacy.refresh_from_db()
    ours.refresh_from_db()
    assert (legacy.provider_id, ours.provider_id) == (world.provider.pk, None)


@pytest.fixture
def held(world):
    """WO held by provider B's engineer, on site, with a visit and a photo; and as the old dispatch
    left such orders: no provider recorded on the assignment (the selectors must not rely on it)."""
    order = world.order
    Assignment.objects.create(
        work_order=order,
        engineer=world.provider_engineer,
        role=AssignmentRole.LEAD,
        status=AssignmentStatus.ACCEPTED,
    )
    WorkOrder.objects.filter(pk=order.pk).update(status="on_site")
    start = timezone.make_aware(dt.datetime.combine(timezone.localdate() + dt.timedelta(days=3), dt.time(9, 0)))
    world.visit = schedule_visit(order, actor=world.dispatcher, planned_start=start, duration_minutes=60)
    world.photo = attach_file(
        order,
        actor=world.provider_engineer,
        file=SimpleUploadedFile("p.png", png_bytes(), content_type="image/png"),
        kind="photo",
    )
    return world


def pages(w):
    order = w.order
    return [
        reverse("workorders:order_detail", args=[order.pk]),
        reverse("workorders:request_detail", args=[order.request_id]),
        reverse("workorders:attachment", args=[w.photo.pk]),
    ]


def endpoints(w):
    order = w.order
    return [
        f"{API}/work-orders/{order.pk}",
        f"{API}/work-orders/{order.pk}/log",
        f"{API}/requests/{order.request_id}",
        f"{API}/visits/{w.visit.pk}",
    ]


def test_the_provider_admin_sees_its_engineers_orders_on_every_page(client_for, held):
    client = client_for(held.provider_admin)
    listing = client.get(reverse("workorders:order_list"))
    assert held.order.number in listing.content.decode()
    for url in pages(held):
        assert client.get(url).status_code == 200, url
    queue = client.get(reverse("dispatch:provider_queue")).content.decode()
    assert held.order.number in queue


def test_the_provider_admin_sees_its_engineers_orders_through_the_api(api_client_for, held):
    client = api_client_for(held.provider_admin)
    numbers = [row["number"] for row in client.get(f"{API}/work-orders").json()["items"]]
    assert numbers == [held.order.number]
    for url in endpoints(held):
        assert client.get(url).status_code == 200, url
    visits = client.get(f"{API}/visits").json()["items"]
    assert [v["id"] for v in visits] == [held.visit.pk]
    assignments = client.get(f"{API}/assignments").json()["items"]
    assert [a["work_order"] for a in assignments] == [held.order.pk]


def test_another_provider_sees_nothing_of_it(client_for, api_client_for, held):
    before = (WorkOrder.objects.get(pk=held.order.pk).status, Assignment.objects.count())
    client = client_for(held.other_provider_admin)
    assert held.order.number not in client.get(reverse("workorders:order_list")).content.decode()
    for url in pages(held):
        assert client.get(url).status_code == 404, url
    assert held.order.number not in client.get(reverse("dispatch:provider_queue")).content.decode()
    api = api_client_for(held.other_provider_admin)
    assert api.get(f"{API}/work-orders").json()["items"] == []
    assert api.get(f"{API}/visits").json()["items"] == []
    assert api.get(f"{API}/assignments").json()["items"] == []
    for url in endpoints(held):
        assert api.get(url).status_code == 404, url
    assert (WorkOrder.objects.get(pk=held.order.pk).status, Assignment.objects.count()) == before


def test_the_provider_admin_may_give_back_an_order_offered_to_its_engineer(client_for, world):
    services.dispatch_to_engineer(world.order, actor=world.dispatcher, engineer=world.provider_engineer)
    assignment = lead(world.order)
    services.reject_assignment(assignment, actor=world.provider_admin, reason="He is off sick")
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.REJECTED
