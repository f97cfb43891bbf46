"""The call-back queue and the evaluation list: who may open them, what they show, and that a
call back is recorded once from the page. And the engineer score tag."""

import re

import pytest
from django.template import Context, Template
from django.urls import reverse

from fieldservice.core.listing import XLSX_TYPE
from fieldservice.feedback.models import Evaluation

CALLBACKS = reverse("feedback:callbacks")
EVALUATIONS = reverse("feedback:evaluations")


def test_pages_need_sign_in(client, world):
    assert client.get(CALLBACKS).status_code == 302
    assert client.get(EVALUATIONS).status_code == 302


@pytest.mark.parametrize(
    ("who", "callbacks", "evaluations"),
    [
        ("agent", 200, 200),
        ("admin", 200, 200),
        ("director", 403, 200),
        ("dispatcher", 403, 200),
        ("engineer", 403, 403),
        ("parts_keeper", 403, 403),
        ("provider_admin", 403, 403),
        ("customer_user_a", 403, 403),
    ],
)
def test_who_may_open_the_pages(client_for, world, who, callbacks, evaluations):
    client = client_for(getattr(world, who))
    assert client.get(CALLBACKS).status_code == callbacks
    assert client.get(EVALUATIONS).status_code == evaluations


def test_the_call_back_queue_shows_low_scores_with_the_customers_phone(client_for, make_order, evaluate, world):
    low = evaluate(make_order("completed"), overall=1, comment="Nobody told us when he would come")
    good = evaluate(make_order("completed", customer="z"), overall=5, comment="Great job")
    body = client_for(world.agent).get(CALLBACKS).content.decode()
    assert low.work_order.number in body
    assert "Customer A" in body and "Li Na" in body and "13800138000" in body
    assert "Nobody told us when he would come" in body
    assert reverse("feedback:callback", args=[low.pk]) in body
    assert good.work_order.number not in body and "Great job" not in body and "Zhao Lei" not in body


def test_recording_a_call_back_from_the_page(client_for, make_order, evaluate, world):
    evaluation = evaluate(make_order("completed"), overall=2)
    client = client_for(world.agent)
    url = reverse("feedback:callback", args=[evaluation.pk])
    response = client.post(url, {"result": ""})
    assert response.status_code == 200
    assert 'class="error"' in response.content.decode()
    evaluation.refresh_from_db()
    assert evaluation.callback_at is None
    response = client.post(url, {"result": "Apologised, will send the team lead next time"})
    assert response.status_code == 302 and response.url == CALLBACKS
    evaluation.refresh_from_db()
    assert evaluation.callback_result == "Apologised, will send the team lead next time"
    assert list(client.get(CALLBACKS).context["objects"]) == []
    response = client.post(url, {"result": "Called again"}, follow=True)
    assert "already been recorded" in response.content.decode()
    evaluation.refresh_from_db()
    assert evaluation.callback_result == "Apologised, will send the team lead next time"


def test_no_call_back_on_an_evaluation_one_may_not_see_or_without_the_right(client_for, make_order, evaluate, world):
    evaluation = evaluate(make_order("completed"), overall=1)
    url = reverse("feedback:callback", args=[evaluation.pk])
    assert client_for(world.customer_user_z).post(url, {"result": "x"}).status_code == 404
    assert client_for(world.customer_user_a).post(url, {"result": "x"}).status_code == 403
    assert client_for(world.director).post(url, {"result": "x"}).status_code == 403
    evaluation.refresh_from_db()
    assert evaluation.callback_at is None


def test_the_evaluation_list_shows_averages_and_filters(client_for, make_order, evaluate, world):
    evaluate(make_order("completed"), overall=5, timeliness=5, attitude=5, quality=5)
    low = evaluate(make_order("completed", customer="z", engineer=world.chen), overall=2, timeliness=3)
    client = client_for(world.director)
    response = client.get(EVALUATIONS)
    body = response.content.decode()
    assert response.context["averages"]["overall"] == 3.5
    assert "3.5" in body and "Customer A" in body and "Customer Z" in body
    response = client.get(EVALUATIONS, {"needs_callback": "yes"})
    assert [e.pk for e in response.context["objects"]] == [low.pk]
    assert response.context["averages"]["count"] == 1
    response = client.get(EVALUATIONS, {"engineer": world.chen.pk})
    assert [e.pk for e in response.context["objects"]] == [low.pk]
    response = client.get(EVALUATIONS, {"customer": world.customer_a.pk})
    assert low not in response.context["objects"]


def test_the_evaluation_list_exports(client_for, make_order, evaluate, world):
    evaluate(make_order("completed"), overall=4)
    response = client_for(world.director).get(EVALUATIONS, {"export": "xlsx"})
    assert response.status_code == 200 and response["Content-Type"] == XLSX_TYPE


def render_score(user) -> str:
    return Template("{% load feedback_tags %}{% engineer_score person %}").render(Context({"person": user})).strip()


def test_the_engineer_score_tag(make_order, evaluate, world):
    assert "—" in render_score(world.wang)
    evaluate(make_order("completed", engineer=world.wang), overall=5)
    evaluate(make_order("completed", engineer=world.wang), overall=4)
    assert "4.5 ★ (2)" in render_score(world.wang)
    # The engineer pages have the profile at hand; it works too.
    assert "4.5 ★ (2)" in render_score(world.wang.engineer_profile)
    assert "—" in render_score(world.chen)
    assert Evaluation.objects.count() == 2


@pytest.mark.parametrize(("who", "may_call_back"), [("director", False), ("dispatcher", False), ("agent", True)])
def test_the_evaluation_list_links_to_call_backs_only_for_those_who_may_make_them(
    client_for, make_order, evaluate, world, who, may_call_back
):
    """The role table gives directors the ratings to read and agents the calls to make: a
    director sees what is due but gets no button that would answer 403."""
    due = evaluate(make_order("completed"), overall=1)
    client = client_for(getattr(world, who))
    body = client.get(EVALUATIONS).content.decode()
    callback_links = [CALLBACKS, reverse("feedback:callback", args=[due.pk])]
    assert all((f'href="{link}"' in body) == may_call_back for link in callback_links)
    assert 'class="badge warn"' in body  # the call back still shows as due
    for link in re.findall(r'href="(/feedback/[^"]*)"', body):
        assert client.get(link).status_code == 200, link
