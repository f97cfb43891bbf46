"""Campaign pages: the list and its export, the form's preview and save, the detail's progress,
the machines with marks, the customer's notices, the knowledge article's panel."""

import pytest

from fieldservice.knowledge.models import Article
from fieldservice.maintenance.models import Campaign, CampaignTarget
from fieldservice.maintenance.models.campaigns import TargetStatus
from fieldservice.maintenance.services import campaigns as services
from tests import factories
from tests.maintenance import campaign_data


@pytest.fixture
def p(personas):
    campaign_data.build(personas)
    personas.field_engineer = factories.engineer(personas.own)
    return personas


def launched(p, **fields):
    fields.setdefault("lot_from", "2024-B01")
    fields.setdefault("lot_to", "2024-B11")
    campaign = services.create_campaign(actor=p.admin, title="Hose recall", action="recall", **fields)
    return services.launch_campaign(campaign, actor=p.admin)


def test_form_previews_then_saves_a_draft(p, client_for):
    client = client_for(p.director)
    data = {
        "title": "Firmware 2.1",
        "action": "firmware",
        "service_type": "maintenance",
        "priority": "normal",
        "product_models": [p.im300.pk],
    }
    preview = client.post("/maintenance/campaigns/new/", {**data, "preview": "1"})
    assert preview.status_code == 200
    assert "IM300-0003" in preview.content.decode()
    assert not Campaign.objects.exists()
    saved = client.post("/maintenance/campaigns/new/", data)
    campaign = Campaign.objects.get()
    assert saved.status_code == 302 and saved["Location"] == f"/maintenance/campaigns/{campaign.pk}/"
    bad = client.post("/maintenance/campaigns/new/", {**data, "lot_from": "A1", "lot_to": "A10"})
    assert bad.status_code == 200 and "same number of characters" in bad.content.decode()
    assert Campaign.objects.count() == 1


def test_list_detail_and_export(p, client_for):
    campaign = launched(p)
    client = client_for(p.director)
    page = client.get("/maintenance/campaigns/?q=Hose")
    assert campaign.number in page.content.decode()
    export = client.get("/maintenance/campaigns/?export=xlsx")
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")
    detail = client.get(f"/maintenance/campaigns/{campaign.pk}/").content.decode()
    assert "North" in detail and "South" in detail and "<progress" in detail
    machines = client.get(f"/maintenance/campaigns/{campaign.pk}/machines/?export=xlsx")
    assert machines.status_code == 200


def test_mark_a_machine_from_the_list(p, client_for):
    campaign = launched(p)
    target = campaign.targets.get(equipment=p.machines["a1"])
    client = client_for(p.director)
    response = client.post(
        f"/maintenance/campaigns/{campaign.pk}/machines/{target.pk}/mark/",
        {"status": "unreachable", "note": "No answer"},
    )
    assert response.status_code == 302
    target.refresh_from_db()
    assert (target.status, target.note) == (TargetStatus.UNREACHABLE, "No answer")
    # A dispatcher reads but does not mark.
    other = campaign.targets.get(equipment=p.machines["a2"])
    response = client_for(p.dispatcher).post(
        f"/maintenance/campaigns/{campaign.pk}/machines/{other.pk}/mark/", {"status": "refused", "note": "x"}
    )
    assert response.status_code == 403
    other.refresh_from_db()
    assert other.status == TargetStatus.PENDING


def test_customer_pages_show_his_machines_only(p, client_for):
    campaign = launched(p)
    client = client_for(p.customer_user_a)
    notices = client.get("/maintenance/campaigns/notices/").content.decode()
    assert "IM200-0001" in notices and "IM200-0010" not in notices
    machines = client.get(f"/maintenance/campaigns/{campaign.pk}/machines/").content.decode()
    assert "IM200-0002" in machines and "IM200-0011" not in machines
    z_target = campaign.targets.get(equipment=p.machines["z1"])
    response = client.post(f"/maintenance/campaigns/notices/{z_target.pk}/acknowledge/")
    assert response.status_code == 404
    assert CampaignTarget.objects.get(pk=z_target.pk).status == TargetStatus.PENDING


def test_start_from_a_knowledge_article(p, client_for):
    article = Article.objects.create(
        title="Hose cracks at high oil temperature", product_model=p.im200, symptoms="Oil leak", status="published"
    )
    client = client_for(p.director)
    page = client.get(f"/knowledge/{article.pk}/").content.decode()
    assert f"/maintenance/campaigns/new/?article={article.pk}" in page
    form = client.get(f"/maintenance/campaigns/new/?article={article.pk}").content.decode()
    assert "Hose cracks at high oil temperature" in form
    assert f'value="{p.im200.pk}" selected' in form
    # An agent reads the article but runs no campaigns: no button.
    assert "/maintenance/campaigns/new/" not in client_for(p.agent).get(f"/knowledge/{article.pk}/").content.decode()


def test_the_machines_qr_page_shows_an_open_recall(p, client):
    campaign = launched(p)
    machine = p.machines["a1"]
    page = client.get(f"/e/{machine.public_token}/").content.decode()
    assert "Hose recall" in page and campaign.number in page
    target = campaign.targets.get(equipment=machine)
    services.mark_target(target, actor=p.director, status="refused", note="Declined")
    assert "Hose recall" not in client.get(f"/e/{machine.public_token}/").content.decode()
    # A machine outside the campaign shows nothing of it.
    assert "Hose recall" not in client.get(f"/e/{p.machines['odd'].public_token}/").content.decode()
