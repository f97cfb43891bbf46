"""The customer's follow page: progress of each work order in plain words, the report and the
rating once the work is done; nothing internal and nothing of anyone else; 404 for anything
the token does not cover."""

import pytest
from django.urls import reverse

from fieldservice.dispatch.assignments.services import dispatch_to_engineer, reject_assignment
from fieldservice.dispatch.models import Assignment
from fieldservice.feedback.models import Evaluation
from fieldservice.portal import views as portal_views
from fieldservice.workorders.services.lifecycle import put_on_hold
from tests.feedback.conftest import SCORES


def follow_url(order) -> str:
    return reverse("portal:follow", args=[order.request.follow_token])


def assert_private(response):
    assert response["Referrer-Policy"] == "same-origin"
    assert "noindex" in response["X-Robots-Tag"]


def test_the_page_shows_the_progress_without_sign_in(client, make_order, world):
    order = make_order("on_site")
    response = client.get(follow_url(order))
    assert response.status_code == 200
    assert_private(response)
    body = response.content.decode()
    assert order.request.number in body and order.number in body
    assert "Injection moulder 200" in body and "A-0001" in body
    assert 'aria-current="step">On site<' in body
    assert "Wang Wei" in body  # the lead's display name once accepted
    assert "The engineer arrived on site." in body and "The engineer is on the way." in body
    assert "Arrived" in body
    # Not finished: no report, no rating yet.
    assert "Download service report" not in body and "How did we do?" not in body


def test_the_engineer_is_named_only_once_accepted(client, make_order):
    order = make_order("dispatched")
    body = client.get(follow_url(order)).content.decode()
    assert 'aria-current="step">Engineer assigned<' in body
    assert "Wang Wei" not in body


def test_the_page_tells_nothing_internal(client, make_order, world):
    order = make_order("dispatched")
    assignment = Assignment.objects.get(work_order=order)
    reject_assignment(assignment, actor=world.wang, reason="Customer site is dangerous, refuse")
    accepted = dispatch_to_engineer(order, actor=world.dispatcher, engineer=world.chen, note="Chen knows this plant")
    from fieldservice.dispatch.assignments.services import accept_assignment

    accept_assignment(accepted, actor=world.chen)
    put_on_hold(order, actor=world.chen, hold_reason="other", note="Engineer forgot his tools")
    body = client.get(follow_url(order)).content.decode()
    for secret in ("dangerous", "Chen knows", "forgot his tools", "wang", "Wang Wei", "chen", "Provider B"):
        assert secret not in body, secret
    assert "Chen Jing" in body
    assert "We are finding another engineer for the job." in body
    assert "Work is paused for now." in body


def test_the_page_shows_nothing_of_other_requests_or_customers(client, make_order, world):
    order = make_order("completed")
    other = make_order("completed", customer="z", engineer=world.chen)
    sibling = make_order("completed")  # same customer, another request
    body = client.get(follow_url(order)).content.decode()
    for secret in (
        other.number,
        other.request.number,
        other.request.follow_token,
        "Z-0001",
        "Customer Z",
        sibling.number,
        sibling.request.follow_token,
        "13800138000",
        "Li Na",
        "88 Harbour Road",
    ):
        assert secret not in body, secret


def test_a_request_with_two_orders_shows_both(client, make_order, world):
    first = make_order("closed")
    second = make_order("new", request=first.request)
    body = client.get(follow_url(first)).content.decode()
    assert first.number in body and second.number in body


def test_an_unknown_token_is_a_friendly_404(client, world):
    response = client.get(reverse("portal:follow", args=["not-a-real-token-at-all"]))
    assert response.status_code == 404
    assert_private(response)
    assert "We could not find this request" in response.content.decode()


def test_a_completed_order_offers_the_report_and_the_rating(client, make_order):
    order = make_order("completed")
    body = client.get(follow_url(order)).content.decode()
    assert "Download service report (PDF)" in body
    assert reverse("portal:report_pdf", args=[order.request.follow_token, order.pk]) in body
    assert "How did we do?" in body
    assert reverse("portal:evaluate", args=[order.request.follow_token, order.pk]) in body


def test_rating_on_the_page(client, make_order):
    order = make_order("completed")
    url = reverse("portal:evaluate", args=[order.request.follow_token, order.pk])
    response = client.post(url, {**SCORES, "overall": 9, "comment": "ok"})
    assert response.status_code == 200
    assert not Evaluation.objects.exists()
    assert 'class="has-error"' in response.content.decode()
    response = client.post(url, {**SCORES, "comment": "Fast and friendly"}, follow=True)
    assert response.redirect_chain[-1][0] == follow_url(order)
    body = response.content.decode()
    assert "Thank you for rating our service." in body
    assert "Your rating" in body and "Fast and friendly" in body and "How did we do?" not in body
    assert "You rated our service. Thank you!" in body
    response = client.post(url, {**SCORES, "overall": 1}, follow=True)
    assert "already been evaluated" in response.content.decode()
    assert Evaluation.objects.get(work_order=order).overall == SCORES["overall"]


def test_rating_an_unfinished_order_on_the_page_is_refused(client, make_order):
    order = make_order("on_site")
    url = reverse("portal:evaluate", args=[order.request.follow_token, order.pk])
    response = client.post(url, SCORES, follow=True)
    assert "not finished yet" in response.content.decode()
    assert not Evaluation.objects.exists()


@pytest.fixture
def fake_report(monkeypatch):
    """Stand-in for the field app's report renderer."""
    calls = []

    def render_service_report(order) -> bytes:
        calls.append(order.pk)
        return b"%PDF-1.4 fake report"

    monkeypatch.setattr(portal_views, "render_service_report", render_service_report)
    return calls


def test_the_report_downloads_for_a_finished_order(client, make_order, fake_report):
    order = make_order("closed")
    response = client.get(reverse("portal:report_pdf", args=[order.request.follow_token, order.pk]))
    assert response.status_code == 200
    assert_private(response)
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response.content == b"%PDF-1.4 fake report"
    assert fake_report == [order.pk]


def test_no_report_before_the_work_is_done(client, make_order, fake_report):
    order = make_order("on_site")
    response = client.get(reverse("portal:report_pdf", args=[order.request.follow_token, order.pk]))
    assert response.status_code == 404
    assert fake_report == []


def test_an_order_of_another_request_under_a_token_is_404(client, make_order, world, fake_report):
    order = make_order("completed")
    other = make_order("completed", customer="z", engineer=world.chen)
    token = order.request.follow_token
    assert client.get(reverse("portal:report_pdf", args=[token, other.pk])).status_code == 404
    response = client.post(reverse("portal:evaluate", args=[token, other.pk]), SCORES)
    assert response.status_code == 404
    assert_private(response)
    assert client.get(reverse("portal:report_pdf", args=["unknown-token", order.pk])).status_code == 404
    assert fake_report == []
    assert not Evaluation.objects.exists()


def test_the_real_report_is_a_pdf(client, make_order):
    pytest.importorskip("fieldservice.field.report")
    order = make_order("completed")
    response = client.get(reverse("portal:report_pdf", args=[order.request.follow_token, order.pk]))
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")
