"""The evaluation endpoints: the customer's answer through the follow link (no sign-in), the
desk's list and call backs, and the engineers' scores. Every refusal changes nothing."""

import pytest

from fieldservice.feedback.models import Evaluation
from tests.feedback.conftest import SCORES

API = "/api/v1"


def post(client, url, data=None):
    return client.post(url, data or {}, content_type="application/json")


def evaluation_url(order, token=None) -> str:
    return f"{API}/portal/{token or order.request.follow_token}/orders/{order.pk}/evaluation"


def error_fields(response) -> set:
    return {item["loc"][-1] if item["loc"][1] == "payload" else item["loc"][1] for item in response.json()["detail"]}


# The customer's answer


def test_the_customer_rates_without_signing_in(client, make_order):
    order = make_order("completed")
    response = post(client, evaluation_url(order), {**SCORES, "overall": 2, "comment": "Late"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["work_order"] == order.pk and body["overall"] == 2 and body["comment"] == "Late"
    assert "needs_callback" not in body  # internal
    evaluation = Evaluation.objects.get(work_order=order)
    assert evaluation.needs_callback is True


def test_a_second_answer_is_409_and_changes_nothing(client, make_order):
    order = make_order("completed")
    assert post(client, evaluation_url(order), SCORES).status_code == 201
    response = post(client, evaluation_url(order), {**SCORES, "overall": 1})
    assert response.status_code == 409
    assert response.json()["code"] == "already_evaluated"
    assert Evaluation.objects.get(work_order=order).overall == SCORES["overall"]


@pytest.mark.parametrize("field", ["overall", "quality"])
@pytest.mark.parametrize("bad", [0, 6, "bad", None, 2.5])
def test_a_bad_score_is_422_naming_the_field(client, make_order, field, bad):
    order = make_order("completed")
    response = post(client, evaluation_url(order), {**SCORES, field: bad})
    assert response.status_code == 422, response.content
    assert error_fields(response) == {field}
    assert not Evaluation.objects.exists()


def test_a_missing_score_is_422_naming_the_field(client, make_order):
    order = make_order("completed")
    response = post(client, evaluation_url(order), {"overall": 4, "timeliness": 4, "attitude": 4})
    assert response.status_code == 422
    assert error_fields(response) == {"quality"}


def test_an_unfinished_order_is_409(client, make_order):
    order = make_order("on_site")
    response = post(client, evaluation_url(order), SCORES)
    assert response.status_code == 409 and response.json()["code"] == "not_completed"
    assert not Evaluation.objects.exists()


def test_unknown_token_or_an_order_of_another_request_is_404(client, make_order):
    order, other = make_order("completed"), make_order("completed", customer="z")
    assert post(client, evaluation_url(order, token="x" * 22), SCORES).status_code == 404
    # The token of Z's request with A's order id, and the other way round.
    assert (
        post(client, f"{API}/portal/{other.request.follow_token}/orders/{order.pk}/evaluation", SCORES).status_code
        == 404
    )
    assert (
        post(client, f"{API}/portal/{order.request.follow_token}/orders/{other.pk}/evaluation", SCORES).status_code
        == 404
    )
    assert not Evaluation.objects.exists()


# The desk


def test_listing_needs_sign_in(client, make_order, evaluate):
    evaluate(make_order("completed"))
    assert client.get(f"{API}/evaluations").status_code == 401


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("agent", {"A", "Z"}),
        ("director", {"A", "Z"}),
        ("customer_user_a", {"A"}),
        ("customer_user_z", {"Z"}),
        ("other_provider_admin", set()),
        ("wang", {"A"}),
        ("chen", {"Z"}),
    ],
)
def test_evaluations_are_scoped(api_client_for, make_order, evaluate, world, who, expected):
    a = evaluate(make_order("completed"))
    z = evaluate(make_order("completed", customer="z", engineer=world.chen))
    response = api_client_for(getattr(world, who)).get(f"{API}/evaluations")
    assert response.status_code == 200
    names = {a.pk: "A", z.pk: "Z"}
    assert {names[item["id"]] for item in response.json()["items"]} == expected


def test_another_customers_evaluation_is_404(api_client_for, make_order, evaluate, world):
    z = evaluate(make_order("completed", customer="z"), overall=1)
    client = api_client_for(world.customer_user_a)
    assert client.get(f"{API}/evaluations/{z.pk}").status_code == 404
    assert post(client, f"{API}/evaluations/{z.pk}/callback", {"result": "x"}).status_code == 404
    z.refresh_from_db()
    assert z.callback_at is None


def test_list_filters(api_client_for, make_order, evaluate, world):
    low = evaluate(make_order("completed", engineer=world.wang), overall=1)
    high = evaluate(make_order("completed", customer="z", engineer=world.chen), overall=5)
    client = api_client_for(world.agent)

    def ids(query):
        return {item["id"] for item in client.get(f"{API}/evaluations?{query}").json()["items"]}

    assert ids("needs_callback=true") == {low.pk}
    assert ids("callback_due=true") == {low.pk}
    assert ids(f"customer={world.customer_z.pk}") == {high.pk}
    assert ids(f"engineer={world.chen.pk}") == {high.pk}
    assert ids("max_overall=3") == {low.pk}


def test_an_agent_records_a_call_back_once(api_client_for, make_order, evaluate, world):
    evaluation = evaluate(make_order("completed"), overall=1)
    client = api_client_for(world.agent)
    url = f"{API}/evaluations/{evaluation.pk}/callback"
    assert post(client, url, {"result": ""}).status_code == 422
    response = post(client, url, {"result": "Apologised"})
    assert response.status_code == 200
    assert response.json()["callback_result"] == "Apologised"
    assert response.json()["callback_by"] == world.agent.pk
    response = post(client, url, {"result": "Again"})
    assert response.status_code == 409 and response.json()["code"] == "callback_recorded"
    evaluation.refresh_from_db()
    assert evaluation.callback_result == "Apologised"


@pytest.mark.parametrize("who", ["customer_user_a", "director", "wang"])
def test_others_may_not_record_call_backs(api_client_for, make_order, evaluate, world, who):
    evaluation = evaluate(make_order("completed"), overall=1)
    response = post(api_client_for(getattr(world, who)), f"{API}/evaluations/{evaluation.pk}/callback", {"result": "x"})
    assert response.status_code == 403
    evaluation.refresh_from_db()
    assert evaluation.callback_at is None


def test_engineer_score(api_client_for, make_order, evaluate, world):
    evaluate(make_order("completed", engineer=world.wang), overall=5)
    evaluate(make_order("completed", engineer=world.wang), overall=4)
    profile = world.wang.engineer_profile
    response = api_client_for(world.director).get(f"{API}/engineers/{profile.pk}/score")
    assert response.status_code == 200
    assert response.json() == {"engineer": profile.pk, "user": world.wang.pk, "average": 4.5, "count": 2}
    chen = api_client_for(world.director).get(f"{API}/engineers/{world.chen.engineer_profile.pk}/score").json()
    assert (chen["average"], chen["count"]) == (None, 0)
    # Wang sees his own score; customers and other engineers do not see it.
    assert api_client_for(world.wang).get(f"{API}/engineers/{profile.pk}/score").status_code == 200
    assert api_client_for(world.customer_user_a).get(f"{API}/engineers/{profile.pk}/score").status_code == 404
    assert api_client_for(world.chen).get(f"{API}/engineers/{profile.pk}/score").status_code == 404


def test_customers_do_not_see_what_the_desk_noted(api_client_for, make_order, evaluate, world):
    from fieldservice.feedback.services import record_callback

    evaluation = evaluate(make_order("completed"), overall=1)
    record_callback(evaluation, actor=world.agent, result="Difficult customer, gave 10% off")
    item = api_client_for(world.customer_user_a).get(f"{API}/evaluations/{evaluation.pk}").json()
    assert (item["overall"], item["callback_result"], item["callback_by"], item["needs_callback"]) == (
        1,
        "",
        None,
        False,
    )
    listed = api_client_for(world.customer_user_a).get(f"{API}/evaluations").json()["items"]
    assert "Difficult" not in str(listed)
    item = api_client_for(world.director).get(f"{API}/evaluations/{evaluation.pk}").json()
    assert item["callback_result"] == "Difficult customer, gave 10% off" and item["needs_callback"] is True
