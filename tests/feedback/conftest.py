"""Work orders walked through the real services to the state a test needs, and a small world
of two customers (A served by provider B, Z not), each with a machine and a contact."""

import pytest

from fieldservice.accounts import services as account_services
from fieldservice.accounts.choices import Role
from fieldservice.dispatch.assignments.services import accept_assignment, dispatch_to_engineer
from fieldservice.workorders.models import WorkOrder
from fieldservice.workorders.services.intake import create_work_order, file_request
from fieldservice.workorders.services.lifecycle import close_work_order, transition
from tests import factories

STEPS = ["new", "dispatched", "accepted", "travelling", "on_site", "completed", "closed"]


def named_engineer(display_name: str, username: str | None = None, organisation=None):
    """An engineer of our company (or `organisation`) with a profile, as dispatch lists them."""
    person = factories.user(Role.ENGINEER, organisation=organisation, username=username, display_name=display_name)
    account_services.save_engineer_profile(person, actor=factories.system_user(), skills={})
    return person


def build_order(
    *,
    desk,
    customer,
    engineer=None,
    until: str = "completed",
    equipment=None,
    contact=None,
    fault_category=None,
    description: str = "Hydraulic oil temperature alarm",
    fault_cause: str = "Cooler fan blocked by dust",
    actions_taken: str = "Cleaned the cooler, replaced the fan fuse, ran for 30 minutes",
    request=None,
) -> WorkOrder:
    """A request filed by `desk` (a dispatcher can do every desk step) made into a work order and
    walked to `until` (one of STEPS) by the desk and `engineer`."""
    if request is None:
        request = file_request(
            actor=desk,
            channel="phone",
            customer=customer,
            equipment=equipment,
            contact=contact,
            fault_category=fault_category,
            description=description,
        )
    order = create_work_order(request, actor=desk)
    target = STEPS.index(until)
    if target >= 1:
        assignment = dispatch_to_engineer(order, actor=desk, engineer=engineer)
    if target >= 2:
        accept_assignment(assignment, actor=engineer)
    if target >= 3:
        transition(order, "start_travel", actor=engineer)
    if target >= 4:
        transition(order, "check_in", actor=engineer)
    if target >= 5:
        transition(order, "complete", actor=engineer, fault_cause=fault_cause, actions_taken=actions_taken)
    if target >= 6:
        close_work_order(order, actor=desk)
    order.refresh_from_db()
    return order


@pytest.fixture
def world(personas):
    p = personas
    p.model = factories.product_model(code="IM-200", name="Injection moulder 200")
    p.site_a = factories.site(p.customer_a, name="Plant A", address="88 Harbour Road, Ningbo")
    p.site_z = factories.site(p.customer_z, name="Plant Z", address="1 Secret Lane, Suzhou")
    p.machine_a = factories.equipment(p.customer_a, product_model=p.model, serial_number="A-0001", site=p.site_a)
    p.machine_z = factories.equipment(p.customer_z, product_model=p.model, serial_number="Z-0001", site=p.site_z)
    p.contact_a = factories.contact(p.customer_a, name="Li Na", phone="13800138000")
    p.contact_z = factories.contact(p.customer_z, name="Zhao Lei", phone="13900139000")
    p.wang = named_engineer("Wang Wei", username="wang")
    p.chen = named_engineer("Chen Jing", username="chen")
    return p


@pytest.fixture
def make_order(world):
    """make_order(until="completed", customer="a"|"z", engineer=None, **build_order kwargs)."""

    def make(until: str = "completed", customer: str = "a", engineer=None, **kwargs) -> WorkOrder:
        kwargs.setdefault("equipment", world.machine_a if customer == "a" else world.machine_z)
        kwargs.setdefault("contact", world.contact_a if customer == "a" else world.contact_z)
        return build_order(
            desk=world.dispatcher,
            customer=world.customer_a if customer == "a" else world.customer_z,
            engineer=engineer or world.wang,
            until=until,
            **kwargs,
        )

    return make


SCORES = {"overall": 5, "timeliness": 4, "attitude": 5, "quality": 4}


@pytest.fixture
def evaluate():
    """evaluate(order, **scores): the customer's answer through the service."""
    from fieldservice.feedback.services import submit_evaluation

    def rate(order: WorkOrder, comment: str = "", **scores):
        return submit_evaluation(
            order, follow_token=order.request.follow_token, comment=comment, **{**SCORES, **scores}
        )

    return rate
