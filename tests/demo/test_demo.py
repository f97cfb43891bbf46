"""`fsm demo` (load_demo) at a small scale: logins, content that makes sense, idempotence."""

import datetime as dt
import io
from decimal import Decimal

import phonenumbers
import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.db import transaction

from fieldservice.accounts.choices import OrganisationKind, Role
from fieldservice.accounts.models import EngineerProfile, Organisation, ServiceTeam, Skill, User
from fieldservice.assets.models import BomLine, Equipment, FittedPart, ProductModel
from fieldservice.core.models import Event
from fieldservice.customers.models import Contact, Customer, Site
from fieldservice.customers.selectors import customers_for
from fieldservice.inventory.models import Part

LOGINS = {
    "admin": Role.ADMINISTRATOR,
    "agent": Role.AGENT,
    "dispatcher": Role.DISPATCHER,
    "director": Role.DIRECTOR,
    "keeper": Role.PARTS_KEEPER,
    "engineer": Role.ENGINEER,
    "provider": Role.PROVIDER_ADMIN,
    "customer": Role.CUSTOMER,
}
MODELS = [Organisation, User, Skill, ServiceTeam, EngineerProfile, Part, ProductModel, BomLine]
MODELS += [Customer, Contact, Site, Equipment, FittedPart, Event]


def load(scale=0.05, orders=12, **options) -> str:
    out = io.StringIO()
    call_command("load_demo", scale=scale, orders=orders, stdout=out, **options)
    return out.getvalue()


def counts():
    return {model.__name__: model.objects.count() for model in MODELS}


@pytest.fixture(scope="module")
def loaded_demo(django_db_setup, django_db_blocker):
    """One small demo for the module's tests (each runs in its own rolled-back transaction on top
    of it), rolled back after them: loading it costs more than all the tests that read it."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield load()
        transaction.set_rollback(True)


@pytest.fixture
def demo(loaded_demo, db):
    return loaded_demo


def test_every_role_has_a_login_with_the_demo_password(demo):
    for username, role in LOGINS.items():
        user = authenticate(username=username, password="demo1234")
        assert user is not None, username
        assert user.role_codes == {role}
    assert User.objects.get(username="engineer").organisation.kind == OrganisationKind.OWN
    assert User.objects.get(username="provider").organisation.kind == OrganisationKind.PROVIDER


def test_the_output_shows_the_url_and_the_logins(demo):
    assert "http://127.0.0.1:8000" in demo
    for username in LOGINS:
        assert f"  {username} " in demo
    assert demo.count("demo1234") >= len(LOGINS)


def test_the_customer_login_sees_only_its_own_company(demo):
    user = User.objects.get(username="customer")
    visible = customers_for(user).get()
    assert visible.organisation == user.organisation
    assert visible.tier == "strategic"


def test_machines_carry_their_models_bill_of_materials(demo):
    assert Equipment.objects.count() == 50
    # Machines whose parts were never replaced in the demo's service history.
    machines = Equipment.objects.select_related("product_model").exclude(
        fitted_parts__source__in=["replacement", "added"]
    )
    assert machines.count() >= 40
    for machine in machines:
        bom = dict(machine.product_model.bom_lines.values_list("part_id", "quantity"))
        fitted = dict(machine.fitted_parts.values_list("part_id", "quantity"))
        assert fitted == bom and 8 <= len(bom) <= 15, machine
        assert machine.lot_number.startswith(f"{machine.installed_on.year - 1}-B") or machine.lot_number.startswith(
            f"{machine.installed_on.year}-B"
        )
    assert machines.filter(parent__isnull=False).exists()
    assert machines.filter(status="invalidated").exclude(invalidated_reason="").exists()
    for module in machines.filter(parent__isnull=False):
        assert module.customer_id == module.parent.customer_id


def test_places_have_coordinates_in_east_china_and_contacts_have_mobile_numbers(demo):
    for site in Site.objects.all():
        assert site.latitude is not None and site.longitude is not None
        assert Decimal(27) < site.latitude < Decimal(32.5) and Decimal(119) < site.longitude < Decimal(122.5)
        assert site.province and site.city and site.district
    for profile in EngineerProfile.objects.all():
        assert Decimal(27) < profile.home_latitude < Decimal(32.5)
        assert profile.working_hours["mon"] == [["08:30", "12:00"], ["13:00", "17:30"]]
        assert profile.skills.count() >= 1 and all(1 <= s.level <= 5 for s in profile.skills.all())
    for contact in Contact.objects.all():
        number = phonenumbers.parse(contact.phone)
        assert phonenumbers.is_valid_number(number) and str(number.national_number)[:2] in {"13", "15", "18"}
    for customer in Customer.objects.all():
        assert 1 <= customer.contacts.count() <= 2 and 1 <= customer.sites.count() <= 2


def test_teams_providers_and_tiers(demo):
    own_teams = ServiceTeam.objects.filter(organisation__kind=OrganisationKind.OWN)
    assert own_teams.count() == 3 and all(team.leader_id for team in own_teams)
    provider = Organisation.objects.get(kind=OrganisationKind.PROVIDER)
    assert Customer.objects.filter(service_provider=provider).exists()
    assert EngineerProfile.objects.filter(user__organisation=provider).exists()
    assert {c.tier for c in Customer.objects.all()} >= {"strategic", "standard"}
    assert Customer.objects.count() == 10
    assert Skill.objects.count() == 6


def test_everything_was_created_by_the_demo_administrator(demo):
    admin = User.objects.get(username="admin")
    created = Event.objects.filter(action="created", content_type__model="equipment")
    assert created.count() == Equipment.objects.count()
    assert set(created.values_list("actor", flat=True)) == {admin.pk}


def test_running_twice_creates_nothing_new(demo):
    before = counts()
    again = load()
    assert "already loaded" in again and "  customer " in again and "http://127.0.0.1:8000" in again
    assert counts() == before
    # Another scale does not add to an existing demo either.
    load(seed=7)
    assert counts() == before


def test_the_history_walks_orders_through_the_real_lifecycle(demo):
    from fieldservice.workorders.models import ServiceRequest, WorkOrder

    # Proactive service's orders (the recall campaign's, the inspections', the machine in alarm)
    # come after the history.
    reactive = WorkOrder.objects.exclude(request__channel__in=["proactive", "iot"])
    # The history's twelve, and the money walk-through's open chargeable repair when the history
    # left none (reported just now, still new).
    assert reactive.count() in (12, 13)
    if reactive.count() == 13:
        extra = reactive.order_by("-pk").first()
        assert (extra.status, extra.service_type, extra.entitlement) == ("new", "repair", "chargeable")
    for order in WorkOrder.objects.all():
        log = list(order.events.order_by("at", "pk"))
        assert log[0].action == "created"
        # Each move starts where the previous one ended, in time order.
        moves = [entry for entry in log if entry.to_status]
        for before, after in zip(moves, moves[1:], strict=False):
            assert after.from_status == before.to_status and after.at >= before.at
        assert order.status == (moves[-1].to_status if moves else "new")
    assert ServiceRequest.objects.filter(status="resolved").exists()


def test_connected_machines_a_month_of_readings_one_in_alarm_one_worn_one_silent(demo):
    from django.utils import timezone

    from fieldservice.dispatch.rules.autodispatch import auto_dispatch
    from fieldservice.iot import demo as iot_demo
    from fieldservice.iot.models import Device, Incident, Reading
    from fieldservice.iot.selectors.machines import connected_machines_for, offline_machines_for
    from fieldservice.iot.services.forecast import predictions_for

    now = timezone.now()
    admin = User.objects.get(username="admin")
    devices = Device.objects.filter(revoked_at__isnull=True)
    assert devices.count() >= 3
    first, last = Reading.objects.order_by("at").first(), Reading.objects.order_by("at").last()
    assert now - last.at < dt.timedelta(hours=1)
    days = iot_demo.history_days(0.05)  # the scale `load` builds
    assert dt.timedelta(days=days - 1) < last.at - first.at <= dt.timedelta(days=days)

    # The customer login sees its own connected machines, and only those.
    customer = User.objects.get(username="customer")
    own = connected_machines_for(customer)
    assert own.exists()
    assert {m.customer.organisation_id for m in own} == {customer.organisation_id}

    # One machine in alarm: three raises, one incident, one IoT order, which a rule dispatches.
    incident = Incident.objects.get(closed_at__isnull=True)
    assert (incident.cause, incident.fired) == ("alarm:TEMPERATURE_HIGH", 3)
    order = incident.work_order
    assert order.request.channel == "iot" and order.fault_category.code == "hyd-oil-temp"
    assert order.status == "new"  # the worker dispatches it when the demo is served
    decision = auto_dispatch(order)
    order.refresh_from_db()
    assert decision is not None and decision.rule is not None
    assert order.status == "dispatched", decision

    # The worn machine is predicted to reach its wear limit within the planning horizon.
    serials = [m.serial_number for d in iot_demo.live_devices() for m in d.machines.all()]
    worn = iot_demo.worn_machine(serials)
    predicted = {(row.equipment.serial_number, row.prediction.metric): row for row in predictions_for(admin)}
    assert (worn, "wear") in predicted
    assert 5 < predicted[(worn, "wear")].prediction.days_left < 25

    # The silent gateway's machine is the longest silent of the offline machines.
    silent = Device.objects.get(name__endswith=iot_demo.SILENT_SUFFIX).machines.get()
    assert offline_machines_for(admin).first() == silent
    assert f"{silent.serial_number} is offline" in demo and "Connected machines:" in demo
