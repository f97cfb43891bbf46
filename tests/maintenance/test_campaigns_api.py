"""The campaigns API: create, preview, launch, the verbs, targets and marks, scoped reads."""

import pytest

from fieldservice.maintenance.models import Campaign, CampaignTarget
from fieldservice.maintenance.models.campaigns import TargetStatus
from fieldservice.maintenance.services import campaigns as services
from tests import factories
from tests.maintenance import campaign_data

BASE = "/api/v1/maintenance/campaigns"


@pytest.fixture
def p(personas):
    campaign_data.build(personas)
    personas.field_engineer = factories.engineer(personas.own)
    return personas


def body(p, **fields):
    data = {
        "title": "Hose recall",
        "action": "recall",
        "lot_from": "2024-B01",
        "lot_to": "2024-B05",
        "parts": [{"part": p.hose.pk, "quantity": "2"}],
    }
    data.update(fields)
    return data


def test_create_preview_launch_and_read(p, api_client_for):
    admin = api_client_for(p.admin)
    preview = admin.post(
        f"{BASE}/preview", {"lot_from": "2024-B01", "lot_to": "2024-B05"}, content_type="application/json"
    )
    assert preview.status_code == 200, preview.content
    assert preview.json()["count"] == 3
    created = admin.post(BASE, body(p), content_type="application/json")
    assert created.status_code == 201, created.content
    campaign_id = created.json()["id"]
    assert created.json()["status"] == "draft"
    assert created.json()["parts"][0]["part_number"] == "HOSE-1"
    launched = admin.post(f"{BASE}/{campaign_id}/launch")
    assert launched.status_code == 200, launched.content
    assert launched.json()["status"] == "launched"
    assert launched.json()["progress"]["total"] == 3
    again = admin.post(f"{BASE}/{campaign_id}/launch")
    assert again.status_code == 409
    assert CampaignTarget.objects.filter(campaign_id=campaign_id).count() == 3
    targets = admin.get(f"{BASE}/{campaign_id}/targets").json()
    assert targets["count"] == 3
    assert all(t["work_order_number"] for t in targets["items"])


def test_bad_input_names_the_field_and_writes_nothing(p, api_client_for):
    admin = api_client_for(p.admin)
    response = admin.post(BASE, body(p, lot_from="2024-B1"), content_type="application/json")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "lot_to"]
    response = admin.post(BASE, body(p, action="inspect"), content_type="application/json")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "parts"]
    response = admin.post(BASE, body(p, colour="red"), content_type="application/json")
    assert response.status_code == 422
    assert not Campaign.objects.exists()
    empty = admin.post(BASE, body(p, lot_from="2031-B01", lot_to="2031-B02"), content_type="application/json")
    launched = admin.post(f"{BASE}/{empty.json()['id']}/launch")
    assert launched.status_code == 422
    assert launched.json()["detail"][0]["loc"] == ["body", "machines"]


def test_mark_close_and_cancel(p, api_client_for):
    campaign = services.create_campaign(
        actor=p.admin, title="Recall", action="recall", lot_from="2024-B01", lot_to="2024-B02"
    )
    services.launch_campaign(campaign, actor=p.admin)
    target = campaign.targets.first()
    director = api_client_for(p.director)
    url = f"{BASE}/{campaign.pk}/targets/{target.pk}/mark"
    response = director.post(url, {"status": "refused", "note": ""}, content_type="application/json")
    assert response.status_code == 422
    response = director.post(
        url, {"status": "refused", "note": "No downtime this year"}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "refused"
    assert (
        director.post(f"{BASE}/{campaign.pk}/cancel", {"reason": ""}, content_type="application/json").status_code
        == 422
    )
    closed = director.post(f"{BASE}/{campaign.pk}/close", {}, content_type="application/json")
    assert closed.json()["status"] == "closed"
    assert (
        director.post(f"{BASE}/{campaign.pk}/cancel", {"reason": "x"}, content_type="application/json").status_code
        == 409
    )


def test_customer_reads_only_his_targets_and_writes_nothing(p, api_client_for):
    campaign = services.create_campaign(
        actor=p.admin, title="Recall", action="recall", lot_from="2024-B01", lot_to="2024-B11"
    )
    services.launch_campaign(campaign, actor=p.admin)
    customer = api_client_for(p.customer_user_a)
    listed = customer.get(BASE).json()
    assert [c["id"] for c in listed["items"]] == [campaign.pk]
    targets = customer.get(f"{BASE}/{campaign.pk}/targets").json()
    assert {t["customer"] for t in targets["items"]} == {p.customer_a.pk}
    detail = customer.get(f"{BASE}/{campaign.pk}").json()
    assert detail["progress"]["total"] == 3  # his three, not the five
    z_target = campaign.targets.get(equipment=p.machines["z1"])
    response = customer.post(
        f"{BASE}/{campaign.pk}/targets/{z_target.pk}/mark",
        {"status": "refused", "note": "x"},
        content_type="application/json",
    )
    assert response.status_code in (403, 404)
    a_target = campaign.targets.get(equipment=p.machines["a1"])
    response = customer.post(
        f"{BASE}/{campaign.pk}/targets/{a_target.pk}/mark",
        {"status": "refused", "note": "x"},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert customer.post(f"{BASE}/{campaign.pk}/close", {}, content_type="application/json").status_code == 403
    assert set(CampaignTarget.objects.values_list("status", flat=True)) == {TargetStatus.PENDING}


def test_provider_not_dispatched_gets_404(p, api_client_for):
    campaign = services.create_campaign(actor=p.admin, title="Recall", action="inspect", customers=[p.customer_a.pk])
    services.launch_campaign(campaign, actor=p.admin)
    provider = api_client_for(p.provider_admin)
    assert provider.get(f"{BASE}/{campaign.pk}").status_code == 404
    assert provider.get(f"{BASE}/{campaign.pk}/targets").status_code == 404
    assert provider.get(BASE).json()["count"] == 0
