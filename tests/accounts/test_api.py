from django.test import Client

from fieldservice.accounts import services
from fieldservice.accounts.choices import Availability, OrganisationKind
from fieldservice.core.models import Event
from tests import factories


def test_me(personas, api_client_for):
    response = api_client_for(personas.provider_admin).get("/api/v1/me")
    assert response.status_code == 200
    body = response.json()
    assert body["username"] == "provider_admin"
    assert body["organisation"] == {"id": personas.provider.pk, "name": "Provider B", "kind": "provider"}
    assert body["roles"] == ["provider_admin"]
    assert "accounts.manage_provider_engineers" in body["capabilities"]
    assert "accounts.manage_people" not in body["capabilities"]


def test_the_api_needs_authentication(personas):
    response = Client().get("/api/v1/me")
    assert response.status_code == 401
    response = Client(headers={"Authorization": "Bearer fsm_not-a-token"}).get("/api/v1/engineers")
    assert response.status_code == 401


def test_a_revoked_token_is_401(personas):
    token, plain = services.create_api_token(personas.agent, actor=personas.agent, name="script")
    client = Client(headers={"Authorization": f"Bearer {plain}"})
    assert client.get("/api/v1/me").status_code == 200
    services.revoke_api_token(token, actor=personas.agent)
    assert client.get("/api/v1/me").status_code == 401


def test_a_browser_session_works_too(personas, client_for):
    response = client_for(personas.agent).get("/api/v1/me")
    assert response.status_code == 200
    assert response.json()["username"] == "agent"


def engineer_usernames(response) -> set[str]:
    return {item["user"]["username"] for item in response.json()["items"]}


def test_engineers_are_scoped(personas, api_client_for):
    assert engineer_usernames(api_client_for(personas.dispatcher).get("/api/v1/engineers")) == {
        "engineer",
        "provider_engineer",
    }
    assert engineer_usernames(api_client_for(personas.provider_admin).get("/api/v1/engineers")) == {"provider_engineer"}
    assert engineer_usernames(api_client_for(personas.other_provider_admin).get("/api/v1/engineers")) == set()
    assert engineer_usernames(api_client_for(personas.engineer).get("/api/v1/engineers")) == {"engineer"}
    assert engineer_usernames(api_client_for(personas.customer_user_a).get("/api/v1/engineers")) == set()


def test_engineer_filters(personas, api_client_for):
    skill = factories.skill("plc", "PLC")
    team = services.create_team(actor=personas.admin, name="East", organisation=personas.own)
    services.save_engineer_profile(personas.engineer, actor=personas.admin, team=team, skills={skill: 4})
    services.set_availability(
        personas.provider_engineer.engineer_profile, actor=personas.admin, availability=Availability.ON_LEAVE
    )
    client = api_client_for(personas.admin)
    assert engineer_usernames(client.get("/api/v1/engineers", {"skill": "plc"})) == {"engineer"}
    assert engineer_usernames(client.get("/api/v1/engineers", {"team": team.pk})) == {"engineer"}
    assert engineer_usernames(client.get("/api/v1/engineers", {"availability": "on_leave"})) == {"provider_engineer"}
    assert engineer_usernames(client.get("/api/v1/engineers", {"q": "provider"})) == {"provider_engineer"}
    response = client.get("/api/v1/engineers", {"availability": "asleep"})
    assert response.status_code == 422
    body = client.get("/api/v1/engineers", {"skill": "plc"}).json()
    assert body["count"] == 1
    assert body["items"][0]["skills"] == [{"code": "plc", "name": "PLC", "level": 4}]
    assert body["items"][0]["team"] == {"id": team.pk, "name": "East"}


def test_engineer_detail(personas, api_client_for):
    skill = factories.skill("hydraulics", "液压")
    services.save_engineer_profile(
        personas.engineer,
        actor=personas.admin,
        home_address="宁波",
        home_latitude="29.868336",
        home_longitude="121.543990",
        working_hours={"mon": [["08:30", "12:00"]]},
        skills={skill: 3},
    )
    profile = personas.engineer.engineer_profile
    body = api_client_for(personas.admin).get(f"/api/v1/engineers/{profile.pk}").json()
    assert body["skills"] == [{"code": "hydraulics", "name": "液压", "level": 3}]
    assert body["working_hours"] == {"mon": [["08:30", "12:00"]]}
    assert body["home_address"] == "宁波"
    assert body["home_latitude"] == "29.868336"
    assert body["availability"] == "on_duty"
    assert body["organisation"]["kind"] == "own"


def test_cross_tenant_engineer_is_404_and_unchanged(personas, api_client_for):
    profile = personas.provider_engineer.engineer_profile
    client = api_client_for(personas.other_provider_admin)
    events = Event.objects.count()
    assert client.get(f"/api/v1/engineers/{profile.pk}").status_code == 404
    response = client.post(
        f"/api/v1/engineers/{profile.pk}/availability", {"availability": "off"}, content_type="application/json"
    )
    assert response.status_code == 404
    profile.refresh_from_db()
    assert profile.availability == Availability.ON_DUTY
    assert Event.objects.count() == events


def test_set_availability(personas, api_client_for):
    profile = personas.provider_engineer.engineer_profile
    url = f"/api/v1/engineers/{profile.pk}/availability"
    response = api_client_for(personas.provider_admin).post(
        url, {"availability": "on_leave"}, content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json()["availability"] == "on_leave"
    # An engineer sets their own.
    response = api_client_for(personas.provider_engineer).post(
        url, {"availability": "on_duty"}, content_type="application/json"
    )
    assert response.status_code == 200
    profile.refresh_from_db()
    assert profile.availability == Availability.ON_DUTY


def test_set_availability_not_allowed_is_403(personas, api_client_for):
    profile = personas.engineer.engineer_profile
    response = api_client_for(personas.dispatcher).post(
        f"/api/v1/engineers/{profile.pk}/availability", {"availability": "off"}, content_type="application/json"
    )
    assert response.status_code == 403
    profile.refresh_from_db()
    assert profile.availability == Availability.ON_DUTY


def test_set_availability_bad_value_is_422_on_the_field(personas, api_client_for):
    profile = personas.engineer.engineer_profile
    response = api_client_for(personas.engineer).post(
        f"/api/v1/engineers/{profile.pk}/availability", {"availability": "asleep"}, content_type="application/json"
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "availability"]


def test_teams_are_scoped(personas, api_client_for):
    own_team = services.create_team(actor=personas.admin, name="East", organisation=personas.own)
    b_team = services.create_team(
        actor=personas.provider_admin, name="B1", organisation=personas.provider, leader=personas.provider_admin
    )
    body = api_client_for(personas.admin).get("/api/v1/teams").json()
    assert {team["id"] for team in body["items"]} == {own_team.pk, b_team.pk}
    body = api_client_for(personas.provider_admin).get("/api/v1/teams").json()
    assert body["items"] == [
        {
            "id": b_team.pk,
            "name": "B1",
            "organisation": {"id": personas.provider.pk, "name": "Provider B", "kind": "provider"},
            "leader": {"id": personas.provider_admin.pk, "username": "provider_admin", "name": "provider_admin"},
            "engineer_count": 0,
        }
    ]
    assert api_client_for(personas.other_provider_admin).get("/api/v1/teams").json()["items"] == []


def test_organisations_are_scoped_and_filtered_by_kind(personas, api_client_for):
    body = api_client_for(personas.dispatcher).get("/api/v1/organisations", {"kind": "provider"}).json()
    assert {org["name"] for org in body["items"]} == {"Provider B", "Provider C"}
    body = api_client_for(personas.provider_admin).get("/api/v1/organisations").json()
    assert body["items"] == [{"id": personas.provider.pk, "name": "Provider B", "kind": OrganisationKind.PROVIDER}]
    body = api_client_for(personas.customer_user_a).get("/api/v1/organisations", {"kind": "provider"}).json()
    assert body["items"] == []
    assert api_client_for(personas.admin).get("/api/v1/organisations", {"kind": "martian"}).status_code == 422


def test_my_tokens_never_include_the_token(personas, api_client_for):
    client = api_client_for(personas.agent)
    body = client.get("/api/v1/me/tokens").json()["items"]
    assert [token["name"] for token in body] == ["tests"]
    assert set(body[0]) == {"id", "name", "prefix", "created_at", "last_used_at", "revoked_at"}


def test_the_endpoints_are_documented_under_accounts(personas, client_for):
    schema = client_for(personas.agent).get("/api/openapi.json").json()
    for path in ["/api/v1/me", "/api/v1/engineers", "/api/v1/engineers/{engineer_id}", "/api/v1/teams"]:
        operations = schema["paths"][path].values()
        assert all(operation["tags"] == ["accounts"] for operation in operations), path


def test_set_an_engineers_level(personas, api_client_for):
    profile = personas.provider_engineer.engineer_profile
    client = api_client_for(personas.provider_admin)
    url = f"/api/v1/engineers/{profile.pk}/level"
    response = client.post(url, {"level": "expert"}, content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json()["level"] == "expert"
    bad = client.post(url, {"level": "guru"}, content_type="application/json")
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "level"]
    # The engineer himself and another company's administrator may not.
    for outsider in (personas.provider_engineer, personas.other_provider_admin, personas.customer_user_a):
        answer = api_client_for(outsider).post(url, {"level": "junior"}, content_type="application/json")
        assert answer.status_code in (403, 404), outsider
    profile.refresh_from_db()
    assert profile.level == "expert"
