import re
from io import BytesIO

import pytest
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from openpyxl import load_workbook

from fieldservice.accounts import services
from fieldservice.accounts.choices import Availability, Role
from fieldservice.accounts.models import ApiToken, EngineerProfile, ServiceArea, ServiceTeam, User
from fieldservice.core.models import Event
from tests import factories


def nav_links(response) -> set[str]:
    nav = re.search(r'<nav class="mainnav".*?</nav>', response.content.decode(), re.S).group(0)
    return set(re.findall(r'href="([^"]+)"', nav))


def field_error(response, field: str) -> str:
    """The error paragraph rendered next to `field` (see core/_form.html)."""
    match = re.search(rf'<p class="error" id="id_{field}_error">(.*?)</p>', response.content.decode(), re.S)
    return match.group(1) if match else ""


# --- navigation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "shown", "hidden"),
    [
        ("admin", {"/users/", "/engineers/", "/teams/"}, set()),
        ("dispatcher", {"/engineers/", "/teams/"}, {"/users/"}),
        ("provider_admin", {"/engineers/", "/teams/"}, {"/users/"}),
        ("engineer", set(), {"/users/", "/engineers/", "/teams/"}),
        ("customer_user_a", set(), {"/users/", "/engineers/", "/teams/"}),
    ],
)
def test_each_role_sees_its_navigation(personas, client_for, name, shown, hidden):
    response = client_for(getattr(personas, name)).get(reverse("accounts:me"))
    assert response.status_code == 200
    links = nav_links(response)
    assert shown <= links
    assert not hidden & links


def test_pages_need_a_sign_in(client, personas):
    for url in ["/me/", "/users/", "/engineers/", "/teams/"]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


# --- my account ----------------------------------------------------------------------------------


def test_me_shows_name_organisation_and_roles(personas, client_for):
    response = client_for(personas.provider_admin).get("/me/")
    content = response.content.decode()
    assert "Provider B" in content
    assert "Provider administrator" in content
    assert reverse("accounts:password_change") in content


def test_saving_my_language_switches_the_interface(personas, client_for):
    client = client_for(personas.agent)
    response = client.post(
        "/me/", {"form": "account", "display_name": "小张", "email": "", "phone": "", "language": "zh-hans"}
    )
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    personas.agent.refresh_from_db()
    assert personas.agent.language == "zh-hans"
    assert personas.agent.display_name == "小张"
    page = client.get("/me/")
    assert '<html lang="zh-hans">' in page.content.decode()


def test_my_details_errors_show_next_to_the_field(personas, client_for):
    response = client_for(personas.agent).post(
        "/me/", {"form": "account", "display_name": "", "email": "", "phone": "123", "language": "en"}
    )
    assert response.status_code == 200
    assert "not a valid phone number" in field_error(response, "phone")
    personas.agent.refresh_from_db()
    assert personas.agent.phone == ""


def test_a_new_token_is_shown_once(personas, client_for):
    client = client_for(personas.agent)
    response = client.post("/me/", {"form": "token", "name": "laptop"})
    assert response.status_code == 200
    plain = re.search(r'<code id="new-token">(fsm_[^<]+)</code>', response.content.decode()).group(1)
    assert "will not be shown again" in response.content.decode()
    assert response["Cache-Control"].startswith("max-age=0")
    token = ApiToken.objects.get(user=personas.agent)
    assert services.user_for_api_token(plain) == personas.agent
    again = client.get("/me/").content.decode()
    assert plain not in again
    assert token.prefix in again
    assert "laptop" in again


def test_revoking_a_token_from_me(personas, client_for):
    token, plain = services.create_api_token(personas.agent, actor=personas.agent, name="old phone")
    client = client_for(personas.agent)
    assert client.get(reverse("accounts:token_revoke", args=[token.pk])).status_code == 405
    response = client.post(reverse("accounts:token_revoke", args=[token.pk]))
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert services.user_for_api_token(plain) is None
    # Twice: the domain error becomes a message, nothing changes.
    response = client.post(reverse("accounts:token_revoke", args=[token.pk]), follow=True)
    assert "already revoked" in response.content.decode()


def test_nobody_revokes_someone_else_s_token(personas, client_for):
    token, plain = services.create_api_token(personas.agent, actor=personas.agent, name="desk")
    response = client_for(personas.admin).post(reverse("accounts:token_revoke", args=[token.pk]))
    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
    assert services.user_for_api_token(plain) == personas.agent


def test_an_engineer_sets_their_availability_on_me(personas, client_for):
    client = client_for(personas.engineer)
    assert 'name="availability"' in client.get("/me/").content.decode()
    response = client.post("/me/", {"form": "availability", "availability": Availability.ON_LEAVE})
    assert response.status_code == 302
    assert EngineerProfile.objects.get(user=personas.engineer).availability == Availability.ON_LEAVE


def test_non_engineers_have_no_availability_form(personas, client_for):
    assert 'name="availability"' not in client_for(personas.agent).get("/me/").content.decode()


def test_password_change(personas, client_for):
    client = client_for(personas.agent)
    assert client.get(reverse("accounts:password_change")).status_code == 200
    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": "pw-for-tests-1", "new_password1": "Blue-Kettle-8812", "new_password2": "Blue-Kettle-8812"},
    )
    assert response.status_code == 302
    personas.agent.refresh_from_db()
    assert personas.agent.check_password("Blue-Kettle-8812")


# --- users ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["agent", "dispatcher", "provider_admin", "engineer", "customer_user_a"])
def test_user_pages_are_for_administrators_only(personas, client_for, name):
    client = client_for(getattr(personas, name))
    count = User.objects.count()
    for url in ["/users/", "/users/new/", f"/users/{personas.agent.pk}/", f"/users/{personas.agent.pk}/edit/"]:
        assert client.get(url).status_code == 403, url
    response = client.post(
        "/users/new/",
        {"username": "sneaky", "organisation": personas.own.pk, "roles": ["administrator"], "password": "x"},
    )
    assert response.status_code == 403
    response = client.post(f"/users/{personas.agent.pk}/edit/", {"roles": ["administrator"], "language": "en"})
    assert response.status_code == 403
    assert User.objects.count() == count
    assert personas.agent.roles.get().role == Role.AGENT


def user_link(user) -> str:
    return f'href="{reverse("accounts:user_detail", args=[user.pk])}"'


def test_user_list_search_filters_and_partial(personas, client_for):
    client = client_for(personas.admin)
    cases = [
        ({"q": "provider"}, [personas.provider_engineer, personas.other_provider_admin], [personas.dispatcher]),
        ({"q": "PROVIDER_ENG"}, [personas.provider_engineer], [personas.provider_admin]),
        ({"role": Role.ENGINEER}, [personas.provider_engineer, personas.engineer], [personas.agent]),
        ({"organisation": personas.provider.pk}, [personas.provider_admin], [personas.customer_user_a]),
        (
            {"role": Role.CUSTOMER, "organisation": personas.customer_a.organisation.pk},
            [personas.customer_user_a],
            [personas.customer_user_z],
        ),
    ]
    for params, present, absent in cases:
        content = client.get("/users/", params).content.decode()
        assert all(user_link(user) in content for user in present), params
        assert not any(user_link(user) in content for user in absent), params
    partial = client.get("/users/", {"q": "cust_"}, headers={"HX-Request": "true"}).content.decode()
    assert partial.lstrip().startswith('<div id="results">')
    assert "<html" not in partial
    assert user_link(personas.customer_user_a) in partial and user_link(personas.customer_user_z) in partial


def test_users_can_be_found_by_phone(personas, client_for):
    services.update_user(personas.agent, actor=personas.admin, phone="13812345678")
    content = client_for(personas.admin).get("/users/", {"q": "1381234"}).content.decode()
    assert user_link(personas.agent) in content
    assert user_link(personas.dispatcher) not in content


def test_user_list_exports_what_it_shows(personas, client_for):
    response = client_for(personas.admin).get("/users/", {"export": "xlsx", "organisation": personas.provider.pk})
    assert response.status_code == 200
    sheet = load_workbook(BytesIO(response.content)).active
    rows = list(sheet.values)
    assert rows[0][0] == "User name"
    assert {row[0] for row in rows[1:]} == {"provider_admin", "provider_engineer"}


def test_create_user(personas, client_for):
    response = client_for(personas.admin).post(
        "/users/new/",
        {
            "username": "han.mei",
            "display_name": "韩梅梅",
            "email": "han@example.com",
            "phone": "13912345678",
            "organisation": personas.own.pk,
            "roles": [Role.AGENT, Role.DISPATCHER],
            "password": "Green-Lantern-77",
            "password2": "Green-Lantern-77",
        },
    )
    user = User.objects.get(username="han.mei")
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:user_detail", args=[user.pk])
    assert user.role_codes == {Role.AGENT, Role.DISPATCHER}
    assert user.phone == "+8613912345678"


def test_create_user_errors_show_next_to_their_field(personas, client_for):
    client = client_for(personas.admin)
    data = {
        "username": "ADMIN",
        "organisation": personas.own.pk,
        "roles": [Role.CUSTOMER],
        "password": "Green-Lantern-77",
        "password2": "Green-Lantern-77",
    }
    response = client.post("/users/new/", data)
    assert response.status_code == 200
    assert "taken" in field_error(response, "username")
    assert "does not fit" in field_error(response, "roles")
    response = client.post(
        "/users/new/", {**data, "username": "ok.name", "roles": [], "password": "123", "password2": "123"}
    )
    assert "too short" in field_error(response, "password")
    response = client.post("/users/new/", {**data, "username": "ok.name", "roles": [], "password2": "other"})
    assert "differ" in field_error(response, "password2")
    assert not User.objects.filter(username="ok.name").exists()


def test_user_detail_shows_the_history(personas, client_for):
    services.set_roles(personas.agent, actor=personas.admin, roles=[Role.AGENT, Role.DIRECTOR])
    content = client_for(personas.admin).get(f"/users/{personas.agent.pk}/").content.decode()
    assert 'id="event-log"' in content
    assert "roles changed" in content


def test_edit_user_details_roles_and_active_flag(personas, client_for):
    response = client_for(personas.admin).post(
        f"/users/{personas.agent.pk}/edit/",
        {"display_name": "Agent Smith", "email": "", "phone": "", "language": "en", "roles": [Role.DISPATCHER]},
    )
    assert response.status_code == 302
    agent = User.objects.get(pk=personas.agent.pk)
    assert agent.display_name == "Agent Smith"
    assert agent.role_codes == {Role.DISPATCHER}
    assert not agent.is_active


def test_edit_user_saves_nothing_when_the_roles_are_wrong(personas, client_for):
    response = client_for(personas.admin).post(
        f"/users/{personas.agent.pk}/edit/",
        {"display_name": "Changed", "language": "en", "is_active": "on", "roles": [Role.CUSTOMER]},
    )
    assert response.status_code == 200
    assert "does not fit" in field_error(response, "roles")
    agent = User.objects.get(pk=personas.agent.pk)
    assert agent.display_name == ""
    assert agent.role_codes == {Role.AGENT}


def test_an_administrator_cannot_switch_themselves_off(personas, client_for):
    response = client_for(personas.admin).post(
        f"/users/{personas.admin.pk}/edit/", {"language": "en", "roles": [Role.ADMINISTRATOR]}
    )
    assert response.status_code == 302
    assert User.objects.get(pk=personas.admin.pk).is_active


# --- engineers -----------------------------------------------------------------------------------


def test_engineer_list_shows_skills_team_and_availability(personas, client_for):
    hydraulics = factories.skill("hydraulics", "液压")
    electrics = factories.skill("electrics", "电气")
    team = services.create_team(actor=personas.admin, name="East", organisation=personas.own)
    services.save_engineer_profile(
        personas.engineer,
        actor=personas.admin,
        team=team,
        home_address="宁波",
        skills={hydraulics: 3, electrics: 2},
        areas=[ServiceArea.objects.create(name="Zhejiang")],
    )
    content = client_for(personas.dispatcher).get("/engineers/").content.decode()
    assert "液压 3, 电气 2" in content or "电气 2, 液压 3" in content
    assert "East" in content and "Zhejiang" in content and "宁波" in content
    assert "On duty" in content
    assert "provider_engineer" in content


def test_engineer_list_filters(personas, client_for):
    skill = factories.skill("plc", "PLC")
    services.save_engineer_profile(personas.engineer, actor=personas.admin, skills={skill: 4})
    services.set_availability(
        personas.provider_engineer.engineer_profile, actor=personas.admin, availability=Availability.ON_LEAVE
    )
    mine = f'href="{reverse("accounts:engineer_detail", args=[personas.engineer.engineer_profile.pk])}"'
    theirs = f'href="{reverse("accounts:engineer_detail", args=[personas.provider_engineer.engineer_profile.pk])}"'
    client = client_for(personas.admin)
    cases = [
        ({"skill": "plc"}, mine, theirs),
        ({"availability": Availability.ON_LEAVE}, theirs, mine),
        ({"organisation": personas.own.pk}, mine, theirs),
        ({"q": "provider"}, theirs, mine),
    ]
    for params, present, absent in cases:
        content = client.get("/engineers/", params, headers={"HX-Request": "true"}).content.decode()
        assert present in content, params
        assert absent not in content, params
    response = client.get("/engineers/", {"export": "xlsx", "skill": "plc"})
    rows = list(load_workbook(BytesIO(response.content)).active.values)
    assert [row[1] for row in rows[1:]] == ["engineer"]
    assert rows[1][4] == "PLC 4"


def test_provider_admin_sees_and_manages_only_their_engineers(personas, client_for):
    client = client_for(personas.provider_admin)
    content = client.get("/engineers/").content.decode()
    assert "provider_engineer" in content
    assert reverse("accounts:engineer_detail", args=[personas.engineer.engineer_profile.pk]) not in content
    assert reverse("accounts:engineer_create") in content


def test_cross_tenant_engineer_pages_are_404_and_change_nothing(personas, client_for):
    profile = personas.provider_engineer.engineer_profile
    client = client_for(personas.other_provider_admin)
    events = Event.objects.count()
    assert client.get(f"/engineers/{profile.pk}/").status_code == 404
    assert client.get(f"/engineers/{profile.pk}/edit/").status_code == 404
    response = client.post(f"/engineers/{profile.pk}/edit/", {"home_address": "stolen"})
    assert response.status_code == 404
    response = client.post(f"/engineers/{profile.pk}/availability/", {"availability": Availability.OFF})
    assert response.status_code == 404
    profile.refresh_from_db()
    assert profile.home_address == ""
    assert profile.availability == Availability.ON_DUTY
    assert Event.objects.count() == events


def test_engineer_pages_are_403_without_people_rights(personas, client_for):
    profile = personas.engineer.engineer_profile
    client = client_for(personas.engineer)
    assert client.get("/engineers/").status_code == 403
    assert client.get(f"/engineers/{profile.pk}/").status_code == 403
    assert client_for(personas.customer_user_a).get("/teams/").status_code == 403


def test_a_dispatcher_sees_but_does_not_edit_an_engineer(personas, client_for):
    profile = personas.engineer.engineer_profile
    client = client_for(personas.dispatcher)
    content = client.get(f"/engineers/{profile.pk}/").content.decode()
    assert reverse("accounts:engineer_edit", args=[profile.pk]) not in content
    assert client.get(f"/engineers/{profile.pk}/edit/").status_code == 403
    response = client.post(f"/engineers/{profile.pk}/availability/", {"availability": Availability.OFF})
    assert response.status_code == 403
    profile.refresh_from_db()
    assert profile.availability == Availability.ON_DUTY


def test_engineer_detail_shows_hours_skills_and_history(personas, client_for):
    skill = factories.skill("hydraulics", "Hydraulics")
    services.save_engineer_profile(
        personas.engineer,
        actor=personas.admin,
        skills={skill: 5},
        working_hours={"mon": [["08:30", "12:00"], ["13:00", "17:30"]]},
    )
    content = client_for(personas.admin).get(f"/engineers/{personas.engineer.engineer_profile.pk}/").content.decode()
    assert "08:30-12:00, 13:00-17:30" in content
    assert "Day off" in content
    assert "Hydraulics" in content and "5 / 5" in content
    assert "skills changed" in content


def _profile_form(**overrides):
    data = {"team": "", "home_address": "", "home_latitude": "", "home_longitude": ""}
    data.update({f"hours_{day}": "" for day in ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]})
    data.update(overrides)
    return data


def test_edit_engineer_profile(personas, client_for):
    hydraulics = factories.skill("hydraulics", "Hydraulics")
    electrics = factories.skill("electrics", "Electrics")
    area = ServiceArea.objects.create(name="Ningbo")
    team = services.create_team(actor=personas.provider_admin, name="B1", organisation=personas.provider)
    profile = personas.provider_engineer.engineer_profile
    client = client_for(personas.provider_admin)
    assert client.get(f"/engineers/{profile.pk}/edit/").status_code == 200
    response = client.post(
        f"/engineers/{profile.pk}/edit/",
        _profile_form(
            team=team.pk,
            home_address="Ningbo depot",
            home_latitude="29.87",
            home_longitude="121.54",
            areas=[area.pk],
            hours_mon="8:30-12:00，13:00~17:30",
            hours_sat="09:00-12:00",
            **{f"skill_{hydraulics.pk}": "3", f"skill_{electrics.pk}": "0"},
        ),
    )
    assert response.status_code == 302
    profile.refresh_from_db()
    assert profile.team == team
    assert profile.working_hours == {"mon": [["08:30", "12:00"], ["13:00", "17:30"]], "sat": [["09:00", "12:00"]]}
    assert {(s.skill.code, s.level) for s in profile.skills.all()} == {("hydraulics", 3)}
    assert list(profile.areas.all()) == [area]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("hours_tue", "8-12", "Tuesday"),
        ("hours_wed", "08:00-12:00, 11:00-13:00", "Wednesday: time ranges overlap"),
        ("hours_fri", "17:00-08:00", "Friday"),
        ("home_latitude", "95", "Latitude must be between"),
    ],
)
def test_bad_profile_input_is_shown_on_its_field(personas, client_for, field, value, message):
    profile = personas.engineer.engineer_profile
    response = client_for(personas.admin).post(
        f"/engineers/{profile.pk}/edit/", _profile_form(home_longitude="120", **{field: value})
    )
    assert response.status_code == 200
    assert message in field_error(response, field)
    profile.refresh_from_db()
    assert profile.working_hours == {}
    assert profile.home_latitude is None


def test_a_skill_level_above_5_is_refused_on_its_row(personas, client_for):
    skill = factories.skill("welding", "Welding")
    profile = personas.engineer.engineer_profile
    response = client_for(personas.admin).post(
        f"/engineers/{profile.pk}/edit/", _profile_form(**{f"skill_{skill.pk}": "6"})
    )
    assert field_error(response, f"skill_{skill.pk}")
    assert not profile.skills.exists()


def test_provider_admin_creates_an_engineer_in_their_company(personas, client_for):
    client = client_for(personas.provider_admin)
    form = client.get("/engineers/new/").content.decode()
    assert 'name="organisation"' not in form
    response = client.post(
        "/engineers/new/",
        {
            "username": "b.zhang",
            "display_name": "张师傅",
            "phone": "13700001111",
            "password": "Yellow-Submarine-5",
            "password2": "Yellow-Submarine-5",
            "organisation": personas.own.pk,  # ignored: not a field for them
        },
    )
    assert response.status_code == 302
    user = User.objects.get(username="b.zhang")
    assert user.organisation == personas.provider
    assert user.role_codes == {Role.ENGINEER}
    assert response["Location"] == reverse("accounts:engineer_edit", args=[user.engineer_profile.pk])


def test_people_without_management_rights_cannot_create_engineers(personas, client_for):
    for name in ["dispatcher", "engineer"]:
        client = client_for(getattr(personas, name))
        assert client.get("/engineers/new/").status_code == 403
        response = client.post("/engineers/new/", {"username": "x", "password": "Yellow-Submarine-5"})
        assert response.status_code == 403
    assert not User.objects.filter(username="x").exists()


def test_set_availability_from_the_engineer_page(personas, client_for):
    profile = personas.provider_engineer.engineer_profile
    response = client_for(personas.provider_admin).post(
        f"/engineers/{profile.pk}/availability/", {"availability": Availability.OFF}
    )
    assert response.status_code == 302
    profile.refresh_from_db()
    assert profile.availability == Availability.OFF


# --- teams ---------------------------------------------------------------------------------------


def test_team_list_and_detail(personas, client_for):
    team = services.create_team(
        actor=personas.admin, name="East", organisation=personas.own, leader=personas.dispatcher
    )
    services.save_engineer_profile(personas.engineer, actor=personas.admin, team=team)
    client = client_for(personas.director)
    content = client.get("/teams/").content.decode()
    assert "East" in content and "Our Company" in content and str(personas.dispatcher) in content
    detail = client.get(f"/teams/{team.pk}/").content.decode()
    assert reverse("accounts:engineer_detail", args=[personas.engineer.engineer_profile.pk]) in detail


def test_create_team(personas, client_for):
    client = client_for(personas.provider_admin)
    form = client.get("/teams/new/").content.decode()
    assert "Our Company" not in form
    response = client.post("/teams/new/", {"name": "B North", "organisation": personas.provider.pk})
    assert response.status_code == 302
    team = ServiceTeam.objects.get(name="B North")
    assert team.organisation == personas.provider
    response = client.post("/teams/new/", {"name": "B North", "organisation": personas.provider.pk})
    assert "already has a team" in field_error(response, "name")
    response = client.post("/teams/new/", {"name": "Sneaky", "organisation": personas.own.pk})
    assert field_error(response, "organisation")
    assert not ServiceTeam.objects.filter(name="Sneaky").exists()


def test_cross_tenant_team_is_404(personas, client_for):
    team = services.create_team(actor=personas.provider_admin, name="B1", organisation=personas.provider)
    assert client_for(personas.other_provider_admin).get(f"/teams/{team.pk}/").status_code == 404


# --- admin ---------------------------------------------------------------------------------------


@pytest.fixture
def superuser_client(client):
    root = User.objects.create_superuser("root", "root@example.com", "pw-for-tests-1")
    client.force_login(root)
    return client


def test_admin_pages_load(personas, superuser_client):
    factories.skill("hydraulics", "液压")
    token, _plain = services.create_api_token(personas.agent, actor=personas.agent, name="desk")
    event = Event.objects.first()
    for url in [
        "/admin/accounts/user/",
        f"/admin/accounts/user/{personas.agent.pk}/change/",
        "/admin/accounts/user/add/",
        "/admin/accounts/organisation/",
        "/admin/accounts/serviceteam/",
        "/admin/accounts/skill/",
        "/admin/accounts/servicearea/",
        "/admin/accounts/engineerprofile/",
        f"/admin/accounts/engineerprofile/{personas.engineer.engineer_profile.pk}/change/",
        "/admin/accounts/apitoken/",
        f"/admin/accounts/apitoken/{token.pk}/change/",
        "/admin/core/event/",
        f"/admin/core/event/{event.pk}/change/",
        "/admin/core/idempotentrequest/",
    ]:
        assert superuser_client.get(url).status_code == 200, url


def test_admin_never_adds_tokens_or_edits_events(personas, superuser_client):
    event = Event.objects.first()
    assert superuser_client.get("/admin/accounts/apitoken/add/").status_code == 403
    assert superuser_client.get("/admin/core/event/add/").status_code == 403
    assert superuser_client.post(f"/admin/core/event/{event.pk}/delete/").status_code == 403
    response = superuser_client.post(f"/admin/core/event/{event.pk}/change/", {"note": "tampered"})
    assert response.status_code == 403
    assert Event.objects.get(pk=event.pk).note != "tampered"


def test_admin_revokes_tokens_through_the_service(personas, superuser_client):
    token, plain = services.create_api_token(personas.agent, actor=personas.agent, name="desk")
    response = superuser_client.post("/admin/accounts/apitoken/", {"action": "revoke", "_selected_action": [token.pk]})
    assert response.status_code == 302
    assert services.user_for_api_token(plain) is None
    ct = ContentType.objects.get_for_model(ApiToken)
    assert Event.objects.filter(content_type=ct, object_pk=str(token.pk), action="revoked").exists()


def test_admin_refuses_a_role_that_does_not_fit(personas, superuser_client):
    user = personas.agent
    data = {
        "username": user.username,
        "organisation": personas.own.pk,
        "language": "en",
        "is_active": "on",
        "date_joined_0": "2024-01-01",
        "date_joined_1": "00:00:00",
        "roles-TOTAL_FORMS": "2",
        "roles-INITIAL_FORMS": "1",
        "roles-0-id": user.roles.get().pk,
        "roles-0-user": user.pk,
        "roles-0-role": Role.AGENT,
        "roles-1-user": user.pk,
        "roles-1-role": Role.CUSTOMER,
    }
    response = superuser_client.post(f"/admin/accounts/user/{user.pk}/change/", data)
    assert response.status_code == 200
    assert "does not fit" in response.content.decode()
    assert user.roles.count() == 1


def test_signing_in_switches_to_the_users_language(personas):
    from django.conf import settings
    from django.test import Client

    from fieldservice.accounts import services

    services.update_user(personas.agent, actor=personas.agent, language="zh-hans")
    client = Client()
    response = client.post("/login/", {"username": "agent", "password": "pw-for-tests-1"})
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"


def test_the_level_is_edited_with_the_profile(personas, client_for):
    profile = personas.provider_engineer.engineer_profile
    client = client_for(personas.provider_admin)
    assert 'name="level"' in client.get(f"/engineers/{profile.pk}/edit/").content.decode()
    response = client.post(f"/engineers/{profile.pk}/edit/", _profile_form(level="senior"))
    assert response.status_code == 302
    profile.refresh_from_db()
    assert profile.level == "senior"
    bad = client.post(f"/engineers/{profile.pk}/edit/", _profile_form(level="guru"))
    assert bad.status_code == 200 and field_error(bad, "level")
    profile.refresh_from_db()
    assert profile.level == "senior"
