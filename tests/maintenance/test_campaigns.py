"""Campaigns and recalls: selection by each criterion, launch, progress, marks, notices, sources."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from fieldservice.core.errors import DomainError
from fieldservice.core.models import OutboxMessage
from fieldservice.core.outbox import drain
from fieldservice.field.models import JobStep
from fieldservice.maintenance.models import Campaign, CampaignTarget
from fieldservice.maintenance.models.campaigns import CampaignStatus, TargetStatus
from fieldservice.maintenance.selectors import campaigns as selectors
from fieldservice.maintenance.services import campaigns as services
from fieldservice.notifications.models import Notification
from fieldservice.workorders.choices import Channel
from fieldservice.workorders.models import NeededPart, WorkOrder
from fieldservice.workorders.services.lifecycle import close_work_order
from tests import factories
from tests.maintenance import campaign_data


@pytest.fixture
def p(personas):
    campaign_data.build(personas)
    personas.field_engineer = factories.engineer(personas.own)
    return personas


def picked(p, **criteria) -> set[str]:
    selection = services.check_selection(**criteria)
    names = {machine.pk: name for name, machine in p.machines.items()}
    return {names[m.pk] for m in selection.machines()}


def error_fields(error: ValidationError) -> set[str]:
    return set(error.message_dict)


# --- selection ---------------------------------------------------------------------------------


def test_selection_by_product_model(p):
    assert picked(p, product_models=[p.im300.pk]) == {"a3"}
    assert picked(p, product_models=[p.im200]) == {"a1", "a2", "z1", "z2", "odd"}  # never the invalidated one


def test_lot_range_includes_both_bounds_and_only_equal_width(p):
    assert picked(p, lot_from="2024-B02", lot_to="2024-B10") == {"a2", "a3", "z1"}
    # One-sided ranges keep the width of the bound given.
    assert picked(p, lot_from="2024-B10") == {"z1", "z2"}
    assert picked(p, lot_to="2024-B01") == {"a1"}
    # Another width is its own range.
    assert picked(p, lot_from="2024-B5", lot_to="2024-B5") == {"odd"}


def test_lot_range_bounds_of_different_width_are_refused(p):
    with pytest.raises(ValidationError) as error:
        services.check_selection(lot_from="2024-B2", lot_to="2024-B10")
    assert error_fields(error.value) == {"lot_to"}
    with pytest.raises(ValidationError) as error:
        services.check_selection(lot_from="2024-B10", lot_to="2024-B02")
    assert error.value.error_dict["lot_to"][0].code == "reversed"


def test_selection_by_serial_range(p):
    assert picked(p, serial_from="IM200-0002", serial_to="IM200-0010") == {"a2", "z1"}


def test_selection_by_install_date_customer_and_area(p):
    import datetime as dt

    assert picked(p, installed_from=dt.date(2024, 11, 1), installed_to="2025-03-01") == {"a3", "z1"}
    assert picked(p, customers=[p.customer_a.pk]) == {"a1", "a2", "a3"}
    assert picked(p, areas=[p.south.pk]) == {"z1", "z2", "odd"}
    # Criteria add up: every one must hold.
    assert picked(p, areas=[p.north.pk], product_models=[p.im200.pk]) == {"a1", "a2"}


def test_selection_by_list_of_serials(p):
    assert picked(p, serials="IM200-0001\nIM200-0011, IM300-0003") == {"a1", "z2", "a3"}
    with pytest.raises(ValidationError) as error:
        services.check_selection(serials="IM200-0001\nNOPE-1")
    assert error_fields(error.value) == {"serials"}
    assert "NOPE-1" in str(error.value)
    # An invalidated machine is not registered: not on a list either.
    with pytest.raises(ValidationError):
        services.check_selection(serials="IM200-0004")


def test_serials_from_a_csv_upload(p):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("list.csv", b"Serial number\nIM200-0001\nIM200-0010\n")
    assert services.serials_from_upload(upload) == "IM200-0001\nIM200-0010"


def test_preview_counts_and_shows_the_first(p):
    result = services.preview(services.check_selection(product_models=[p.im200.pk]), actor=p.director, size=2)
    assert result.count == 5
    assert len(result.first) == 2


# --- create, launch ----------------------------------------------------------------------------


def recall(p, **fields):
    fields.setdefault("title", "Hose recall")
    fields.setdefault("action", "recall")
    fields.setdefault("reason", "Hoses of some lots crack.")
    fields.setdefault("lot_from", "2024-B01")
    fields.setdefault("lot_to", "2024-B05")
    fields.setdefault("job_template", p.template)
    fields.setdefault("parts", [(p.hose, Decimal("2"))])
    return services.create_campaign(actor=p.admin, **fields)


def test_a_campaign_with_no_machines_is_refused_naming_machines(p):
    campaign = recall(p, lot_from="2030-B01", lot_to="2030-B09")
    with pytest.raises(ValidationError) as error:
        services.launch_campaign(campaign, actor=p.admin)
    assert error_fields(error.value) == {"machines"}
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT
    assert not CampaignTarget.objects.exists()
    # No criterion at all is no machine either (not every machine).
    empty = services.create_campaign(actor=p.admin, title="Nothing", action="notify")
    with pytest.raises(ValidationError):
        services.launch_campaign(empty, actor=p.admin)


def test_launch_opens_one_proactive_order_per_machine_with_steps_and_parts(p):
    campaign = recall(p)
    services.launch_campaign(campaign, actor=p.admin)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.LAUNCHED
    targets = list(campaign.targets.select_related("work_order"))
    assert {t.equipment_id for t in targets} == {p.machines[n].pk for n in ("a1", "a2", "a3")}
    orders = [t.work_order for t in targets]
    assert all(o is not None and o.request.channel == Channel.PROACTIVE for o in orders)
    assert {o.equipment_id for o in orders} == {t.equipment_id for t in targets}
    for order in orders:
        assert list(JobStep.objects.filter(work_order=order).values_list("title", flat=True)) == [
            "Check the hose",
            "Hose replaced?",
        ]
        assert list(NeededPart.objects.filter(work_order=order).values_list("part_id", "quantity")) == [
            (p.hose.pk, Decimal("2.000"))
        ]
    assert {t.area_id for t in targets} == {p.north.pk}


def test_launching_twice_creates_nothing_twice(p):
    campaign = recall(p)
    services.launch_campaign(campaign, actor=p.admin)
    orders = WorkOrder.objects.count()
    messages = OutboxMessage.objects.filter(topic="maintenance.campaign_notice").count()
    with pytest.raises(DomainError) as error:
        services.launch_campaign(campaign, actor=p.admin)
    assert error.value.code == "illegal_transition"
    assert WorkOrder.objects.count() == orders
    assert CampaignTarget.objects.filter(campaign=campaign).count() == 3
    assert OutboxMessage.objects.filter(topic="maintenance.campaign_notice").count() == messages
    # The pieces are idempotent by themselves too.
    assert services.notify_customers(campaign) == 0
    assert services.open_orders(campaign, list(campaign.targets.all()), actor=p.admin) == 0


def test_illegal_moves_are_409_and_change_nothing(p):
    campaign = recall(p)
    with pytest.raises(DomainError):
        services.close_campaign(campaign, actor=p.admin)
    services.cancel_campaign(campaign, actor=p.admin, reason="Wrong lots")
    with pytest.raises(DomainError):
        services.launch_campaign(campaign, actor=p.admin)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.CANCELLED
    assert not campaign.targets.exists()


def test_a_launched_campaigns_selection_is_frozen(p):
    campaign = recall(p)
    services.launch_campaign(campaign, actor=p.admin)
    with pytest.raises(DomainError) as error:
        services.update_campaign(campaign, actor=p.admin, lot_to="2024-B11")
    assert error.value.code == "campaign_launched"
    services.update_campaign(campaign, actor=p.admin, title="Hose recall 2024")
    campaign.refresh_from_db()
    assert campaign.title == "Hose recall 2024"
    assert campaign.lot_to == "2024-B05"


def test_only_campaign_managers_write(p):
    with pytest.raises(PermissionDenied):
        services.create_campaign(actor=p.dispatcher, title="x", action="notify", customers=[p.customer_a.pk])
    with pytest.raises(PermissionDenied):
        services.create_campaign(actor=p.customer_user_a, title="x", action="notify", customers=[p.customer_a.pk])
    assert not Campaign.objects.exists()


def test_parts_only_for_replacement_or_recall(p):
    with pytest.raises(ValidationError) as error:
        services.create_campaign(
            actor=p.admin, title="x", action="inspect", customers=[p.customer_a.pk], parts=[(p.hose, 1)]
        )
    assert error_fields(error.value) == {"parts"}


# --- progress ----------------------------------------------------------------------------------


def test_progress_follows_the_orders(p):
    campaign = recall(p, lot_to="2024-B11")  # a1, a2, a3 (north), z1, z2 (south)
    services.launch_campaign(campaign, actor=p.admin)
    by_machine = {t.equipment_id: t for t in campaign.targets.select_related("work_order")}
    first = by_machine[p.machines["a1"].pk]
    campaign_data.complete(first.work_order, p)
    first.refresh_from_db()
    assert first.status == TargetStatus.DONE and first.done_at is not None
    second = by_machine[p.machines["z1"].pk]
    campaign_data.complete(second.work_order, p)
    close_work_order(second.work_order, actor=p.dispatcher)
    second.refresh_from_db()
    assert second.status == TargetStatus.DONE
    services.mark_target(by_machine[p.machines["a2"].pk], actor=p.director, status="refused", note="Sold the line")
    services.mark_target(by_machine[p.machines["z2"].pk], actor=p.director, status="unreachable", note="No answer x3")
    overall, areas = selectors.progress_of(campaign.targets.all())
    assert (overall.total, overall.done, overall.refused, overall.unreachable, overall.pending) == (5, 2, 1, 1, 1)
    assert overall.percent == 40
    assert [(a.label, a.total, a.done, a.percent) for a in areas] == [("North", 3, 1, 33), ("South", 2, 1, 50)]


def test_refused_and_unreachable_need_a_reason_and_done_stays_done(p):
    campaign = recall(p)
    services.launch_campaign(campaign, actor=p.admin)
    target = campaign.targets.select_related("work_order").first()
    with pytest.raises(ValidationError) as error:
        services.mark_target(target, actor=p.director, status="refused", note=" ")
    assert error_fields(error.value) == {"note"}
    target.refresh_from_db()
    assert target.status == TargetStatus.PENDING
    marked = services.mark_target(target, actor=p.director, status="refused", note="Customer declines")
    assert (marked.status, marked.note, marked.decided_by) == (TargetStatus.REFUSED, "Customer declines", p.director)
    # The customer changed his mind and the visit was done: done follows the order.
    campaign_data.complete(target.work_order, p)
    target.refresh_from_db()
    assert target.status == TargetStatus.DONE
    with pytest.raises(DomainError) as error:
        services.mark_target(target, actor=p.director, status="unreachable", note="x")
    assert error.value.code == "target_done"


# --- notices -----------------------------------------------------------------------------------


def test_each_customer_is_notified_once_and_the_notifications_are_written(p, django_capture_on_commit_callbacks):
    other_user_a = factories.user("customer", organisation=p.customer_a.organisation, username="cust_a2")
    campaign = services.create_campaign(
        actor=p.director, title="Firmware 2.1", action="notify", product_models=[p.im200.pk]
    )
    services.launch_campaign(campaign, actor=p.director)  # notify only: no order, the director may launch
    assert not WorkOrder.objects.exists()
    messages = OutboxMessage.objects.filter(topic="maintenance.campaign_notice")
    assert messages.count() == 2  # customers A and Z
    with django_capture_on_commit_callbacks(execute=True):
        drain()
    notes = Notification.objects.filter(event="maintenance.campaign_notice")
    assert {n.recipient_id for n in notes} == {p.customer_user_a.pk, other_user_a.pk, p.customer_user_z.pk}
    mine = notes.get(recipient=p.customer_user_a)
    assert "Firmware 2.1" in mine.title
    assert "IM200-0001" in mine.body and "IM200-0010" not in mine.body  # only A's machines
    assert mine.url == "/maintenance/campaigns/notices/"


def test_customer_acknowledges_a_notice_of_his_own_machine_only(p):
    campaign = services.create_campaign(actor=p.director, title="Notice", action="notify", customers=[p.customer_a.pk])
    services.launch_campaign(campaign, actor=p.director)
    target = campaign.targets.first()
    with pytest.raises(PermissionDenied):
        services.acknowledge_notice(target, actor=p.customer_user_z)
    target.refresh_from_db()
    assert target.status == TargetStatus.PENDING
    services.acknowledge_notice(target, actor=p.customer_user_a)
    target.refresh_from_db()
    assert target.status == TargetStatus.DONE


# --- scope -------------------------------------------------------------------------------------


def test_customers_see_only_their_own_machines_and_never_drafts(p):
    draft = recall(p, lot_to="2024-B11", title="Draft")
    campaign = recall(p, lot_to="2024-B11")
    services.launch_campaign(campaign, actor=p.admin)
    a_targets = selectors.targets_for(p.customer_user_a)
    assert {t.customer_id for t in a_targets} == {p.customer_a.pk}
    assert a_targets.count() == 3
    assert {t.customer_id for t in selectors.targets_for(p.customer_user_z)} == {p.customer_z.pk}
    assert list(selectors.campaigns_for(p.customer_user_a)) == [campaign]
    z_target = selectors.targets_for(p.customer_user_z).first()
    from django.http import Http404

    with pytest.raises(Http404):
        selectors.get_target_for(p.customer_user_a, z_target.pk)
    with pytest.raises(Http404):
        selectors.get_campaign_for(p.customer_user_a, draft.pk)
    assert selectors.targets_for(p.engineer).count() == 0  # engineers do not read campaigns


def test_providers_see_only_the_targets_dispatched_to_them(p):
    from django.http import Http404

    from fieldservice.dispatch.assignments.services import dispatch_to_provider

    campaign = recall(p)
    services.launch_campaign(campaign, actor=p.admin)
    assert selectors.campaigns_for(p.provider_admin).count() == 0
    with pytest.raises(Http404):
        selectors.get_campaign_for(p.provider_admin, campaign.pk)
    target = campaign.targets.select_related("work_order").first()
    dispatch_to_provider(target.work_order, actor=p.dispatcher, provider=p.provider)
    assert list(selectors.targets_for(p.provider_admin)) == [target]
    assert selectors.get_campaign_for(p.provider_admin, campaign.pk) == campaign
    assert selectors.targets_for(p.other_provider_admin).count() == 0


# --- early intervention --------------------------------------------------------------------------


def test_start_campaign_from_a_quality_alert(p):
    ids = [p.machines["a1"].pk, p.machines["z1"].pk]
    campaign = services.start_campaign_from(
        "quality_alert", 42, actor=p.director, equipment_ids=ids, title="Pump wear alert", action="inspect"
    )
    assert (campaign.status, campaign.source_kind, campaign.source_id) == ("draft", "quality_alert", 42)
    assert set(campaign.listed.values_list("pk", flat=True)) == set(ids)
    services.launch_campaign(campaign, actor=p.admin)
    assert set(campaign.targets.values_list("equipment_id", flat=True)) == set(ids)


def test_start_campaign_from_refuses_bad_input(p):
    with pytest.raises(ValidationError) as error:
        services.start_campaign_from("rumour", 1, actor=p.director, equipment_ids=[p.machines["a1"].pk], title="x")
    assert error_fields(error.value) == {"source_kind"}
    with pytest.raises(ValidationError) as error:
        services.start_campaign_from("quality_alert", 1, actor=p.director, equipment_ids=[], title="x")
    assert error_fields(error.value) == {"machines"}
    with pytest.raises(ValidationError) as error:
        services.start_campaign_from(
            "quality_alert", 1, actor=p.director, equipment_ids=[p.machines["gone"].pk], title="x"
        )
    assert error_fields(error.value) == {"equipment_ids"}
    with pytest.raises(PermissionDenied):
        services.start_campaign_from("quality_alert", 1, actor=p.agent, equipment_ids=[p.machines["a1"].pk], title="x")
    assert not Campaign.objects.exists()


def test_start_campaign_from_a_knowledge_article_needs_the_article(p):
    from fieldservice.knowledge.models import Article

    article = Article.objects.create(title="Hose cracks", product_model=p.im200, status="published")
    campaign = services.start_campaign_from(
        "knowledge", article.pk, actor=p.director, equipment_ids=[], product_models=[p.im200.pk], title="Hoses"
    )
    assert (campaign.source_kind, campaign.source_id) == ("knowledge", article.pk)
    assert list(campaign.product_models.all()) == [p.im200]
    with pytest.raises(ValidationError) as error:
        services.start_campaign_from(
            "knowledge", article.pk + 1000, actor=p.director, equipment_ids=[p.machines["a1"].pk], title="x"
        )
    assert error_fields(error.value) == {"source_id"}
    assert Campaign.objects.count() == 1


def test_the_hook_marks_many_orders_at_once_and_ignores_other_moves(p, django_assert_max_num_queries):
    from django.utils import timezone

    from fieldservice.workorders.hooks import Move

    campaign = recall(p, lot_to="2024-B11")
    services.launch_campaign(campaign, actor=p.admin)
    targets = list(campaign.targets.order_by("pk"))
    now = timezone.now()

    def move(target, to):
        return Move(target.work_order_id, "x", "on_site", to, None, "", now)

    with django_assert_max_num_queries(1):
        services.follow_orders(
            [move(targets[0], "completed"), move(targets[1], "closed"), move(targets[2], "cancelled")]
        )
    statuses = dict(CampaignTarget.objects.values_list("pk", "status"))
    assert [statuses[t.pk] for t in targets] == ["done", "done", "pending", "pending", "pending"]
