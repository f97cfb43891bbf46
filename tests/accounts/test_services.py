from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError

from fieldservice.accounts import services
from fieldservice.accounts.choices import Availability, OrganisationKind, Role
from fieldservice.accounts.models import ApiToken, EngineerProfile, EngineerSkill, ServiceArea, User
from fieldservice.core.errors import DomainError
from fieldservice.core.models import Event
from tests import factories


def events_of(obj, action=None):
    events = Event.objects.filter(content_type=ContentType.objects.get_for_model(obj), object_pk=str(obj.pk))
    return events.filter(action=action) if action else events


def field_errors(excinfo) -> dict:
    return excinfo.value.message_dict


# --- create_user ---------------------------------------------------------------------------------


def test_create_user_writes_user_roles_and_event(personas):
    user = services.create_user(
        actor=personas.admin,
        username="li.lei",
        organisation=personas.own,
        roles=[Role.DISPATCHER, Role.AGENT],
        password="Correct-Horse-42",
        display_name="李雷",
        phone="13812345678",
        email=" Li.Lei@Example.COM ",
    )
    assert user.role_codes == {Role.DISPATCHER, Role.AGENT}
    assert user.phone == "+8613812345678"
    assert user.email == "li.lei@example.com"
    assert user.check_password("Correct-Horse-42")
    event = events_of(user, "created").get()
    assert event.actor == personas.admin
    assert event.changes["username"] == [None, "li.lei"]


def test_a_role_must_fit_the_organisation_kind(personas):
    with pytest.raises(ValidationError) as excinfo:
        services.create_user(actor=personas.admin, username="wrong", organisation=personas.own, roles=[Role.CUSTOMER])
    assert "roles" in field_errors(excinfo)
    assert not User.objects.filter(username="wrong").exists()


def test_provider_roles_do_not_fit_our_company(personas):
    with pytest.raises(ValidationError) as excinfo:
        services.create_user(
            actor=personas.admin, username="pa", organisation=personas.own, roles=[Role.PROVIDER_ADMIN]
        )
    assert "roles" in field_errors(excinfo)


def test_user_names_are_unique_regardless_of_case(personas):
    with pytest.raises(ValidationError) as excinfo:
        services.create_user(actor=personas.admin, username="ADMIN", organisation=personas.own, roles=[Role.AGENT])
    assert excinfo.value.error_dict["username"][0].code == "duplicate"
    assert User.objects.filter(username__iexact="admin").count() == 1


def test_a_bad_phone_number_is_a_field_error(personas):
    with pytest.raises(ValidationError) as excinfo:
        services.create_user(
            actor=personas.admin, username="bad.phone", organisation=personas.own, roles=[Role.AGENT], phone="12345"
        )
    assert "phone" in field_errors(excinfo)
    assert not User.objects.filter(username="bad.phone").exists()


def test_every_field_error_is_reported_at_once(personas):
    with pytest.raises(ValidationError) as excinfo:
        services.create_user(
            actor=personas.admin,
            username="Admin",
            organisation=personas.own,
            roles=[Role.CUSTOMER],
            phone="x",
            email="not-an-address",
        )
    assert set(field_errors(excinfo)) >= {"username", "roles", "phone", "email"}


def test_a_weak_initial_password_is_rejected_by_the_password_validators(personas):
    with pytest.raises(ValidationError) as excinfo:
        services.create_user(
            actor=personas.admin, username="weak", organisation=personas.own, roles=[Role.AGENT], password="12345678"
        )
    assert "password" in field_errors(excinfo)
    assert not User.objects.filter(username="weak").exists()


def test_a_new_engineer_gets_a_profile(personas):
    user = services.create_user(
        actor=personas.admin, username="eng.new", organisation=personas.own, roles=[Role.ENGINEER]
    )
    profile = EngineerProfile.objects.get(user=user)
    assert profile.availability == Availability.ON_DUTY
    assert events_of(profile, "created").exists()


def test_provider_admin_creates_only_engineers_of_their_own_company(personas):
    user = services.create_user(
        actor=personas.provider_admin,
        username="b.eng",
        organisation=personas.provider,
        roles=[Role.PROVIDER_ADMIN],
    )
    assert user.role_codes == {Role.ENGINEER}
    assert user.organisation == personas.provider


def test_provider_admin_cannot_create_people_in_another_company(personas):
    users_before = User.objects.count()
    events_before = Event.objects.count()
    with pytest.raises(PermissionDenied):
        services.create_user(
            actor=personas.provider_admin,
            username="c.eng",
            organisation=personas.other_provider,
            roles=[Role.ENGINEER],
        )
    assert User.objects.count() == users_before
    assert Event.objects.count() == events_before


@pytest.mark.parametrize("role", ["agent", "engineer", "dispatcher", "customer_user_a"])
def test_people_without_the_right_cannot_create_users(personas, role):
    with pytest.raises(PermissionDenied):
        services.create_user(
            actor=getattr(personas, role), username="nope", organisation=personas.own, roles=[Role.AGENT]
        )
    assert not User.objects.filter(username="nope").exists()


# --- roles and details ---------------------------------------------------------------------------


def test_set_roles_records_before_and_after(personas):
    services.set_roles(personas.agent, actor=personas.admin, roles=[Role.AGENT, Role.DISPATCHER])
    assert personas.agent.role_codes == {Role.AGENT, Role.DISPATCHER}
    event = events_of(personas.agent, "roles_changed").get()
    assert event.actor == personas.admin
    assert event.changes == {"roles": ["Service agent", "Service agent, Dispatcher"]}


def test_set_roles_checks_the_organisation_kind(personas):
    with pytest.raises(ValidationError) as excinfo:
        services.set_roles(personas.provider_engineer, actor=personas.admin, roles=[Role.DISPATCHER])
    assert "roles" in field_errors(excinfo)
    assert personas.provider_engineer.roles.get().role == Role.ENGINEER


def test_set_roles_to_engineer_creates_the_profile(personas):
    services.set_roles(personas.agent, actor=personas.admin, roles=[Role.AGENT, Role.ENGINEER])
    assert EngineerProfile.objects.filter(user=personas.agent).exists()


def test_an_administrator_cannot_remove_their_own_administrator_role(personas):
    with pytest.raises(ValidationError) as excinfo:
        services.set_roles(personas.admin, actor=personas.admin, roles=[Role.AGENT])
    assert "roles" in field_errors(excinfo)
    assert personas.admin.roles.get().role == Role.ADMINISTRATOR


def test_only_administrators_set_roles(personas):
    with pytest.raises(PermissionDenied):
        services.set_roles(personas.provider_engineer, actor=personas.provider_admin, roles=[Role.PROVIDER_ADMIN])
    assert personas.provider_engineer.roles.get().role == Role.ENGINEER


def test_provider_admin_may_deactivate_their_engineer_but_not_a_fellow_admin(personas):
    services.update_user(personas.provider_engineer, actor=personas.provider_admin, is_active=False)
    personas.provider_engineer.refresh_from_db()
    assert not personas.provider_engineer.is_active
    fellow = factories.user(Role.PROVIDER_ADMIN, organisation=personas.provider)
    with pytest.raises(PermissionDenied):
        services.update_user(fellow, actor=personas.provider_admin, is_active=False)
    fellow.refresh_from_db()
    assert fellow.is_active


def test_nobody_deactivates_themselves(personas):
    with pytest.raises(ValidationError) as excinfo:
        services.update_user(personas.admin, actor=personas.admin, is_active=False)
    assert "is_active" in field_errors(excinfo)


def test_anyone_changes_their_own_details_but_not_others(personas):
    services.update_user(personas.engineer, actor=personas.engineer, display_name="王工", language="en")
    personas.engineer.refresh_from_db()
    assert personas.engineer.display_name == "王工"
    with pytest.raises(PermissionDenied):
        services.update_user(personas.agent, actor=personas.engineer, display_name="x")


# --- working hours and engineer profiles ---------------------------------------------------------


def test_working_hours_are_cleaned_into_weekday_order():
    hours = services.check_working_hours({"tue": [["13:00", "17:30"], ["08:30", "12:00"]], "mon": [], "sat": []})
    assert hours == {"tue": [["08:30", "12:00"], ["13:00", "17:30"]]}


@pytest.mark.parametrize(
    ("hours", "code"),
    [
        ({"mon": [["08:00", "12:00"], ["11:30", "17:00"]]}, "overlap"),
        ({"mon": [["17:00", "08:00"]]}, "end_before_start"),
        ({"mon": [["09:00", "09:00"]]}, "end_before_start"),
        ({"funday": [["08:00", "12:00"]]}, "unknown_day"),
        ({"mon": [["8:00", "12:00"]]}, "invalid_range"),
        ({"mon": [["08:00"]]}, "invalid_range"),
    ],
)
def test_bad_working_hours_are_refused(hours, code):
    with pytest.raises(ValidationError) as excinfo:
        services.check_working_hours(hours)
    errors = excinfo.value.error_dict["working_hours"]
    assert errors[0].code == code


def test_save_engineer_profile_stores_everything_and_records_skills(personas):
    hydraulics = factories.skill("hydraulics", "液压")
    electrics = factories.skill("electrics", "电气")
    area = ServiceArea.objects.create(name="宁波")
    team = services.create_team(actor=personas.admin, name="East", organisation=personas.own)
    profile = services.save_engineer_profile(
        personas.engineer,
        actor=personas.admin,
        team=team,
        home_address="宁波市鄞州区",
        home_latitude="29.868336",
        home_longitude=121.54399,
        working_hours={"mon": [["08:30", "12:00"], ["13:00", "17:30"]]},
        areas=[area],
        skills={hydraulics: 3, electrics: 2},
    )
    profile.refresh_from_db()
    assert profile.team == team
    assert profile.home_latitude == Decimal("29.868336")
    assert profile.working_hours == {"mon": [["08:30", "12:00"], ["13:00", "17:30"]]}
    assert list(profile.areas.all()) == [area]
    assert {(s.skill.code, s.level) for s in profile.skills.all()} == {("hydraulics", 3), ("electrics", 2)}
    event = events_of(profile, "skills_changed").get()
    assert event.changes == {"skills": ["", "液压 3, 电气 2"]}


@pytest.mark.parametrize("level", [0, 6, "3", True])
def test_a_skill_level_outside_1_to_5_is_a_field_error(personas, level):
    skill = factories.skill()
    with pytest.raises(ValidationError) as excinfo:
        services.save_engineer_profile(personas.engineer, actor=personas.admin, skills={skill: level})
    assert "skills" in field_errors(excinfo)
    assert not EngineerSkill.objects.filter(engineer__user=personas.engineer).exists()


def test_a_team_of_another_organisation_is_a_field_error(personas):
    team = services.create_team(actor=personas.admin, name="B team", organisation=personas.provider)
    with pytest.raises(ValidationError) as excinfo:
        services.save_engineer_profile(personas.engineer, actor=personas.admin, team=team)
    assert "team" in field_errors(excinfo)
    assert personas.engineer.engineer_profile.team is None


def test_a_latitude_out_of_range_is_a_field_error(personas):
    with pytest.raises(ValidationError) as excinfo:
        services.save_engineer_profile(
            personas.engineer, actor=personas.admin, home_latitude="91", home_longitude="120", home_address="x"
        )
    assert "home_latitude" in field_errors(excinfo)
    profile = EngineerProfile.objects.get(user=personas.engineer)
    assert profile.home_latitude is None
    assert profile.home_address == ""


def test_provider_admin_edits_only_their_own_engineers(personas):
    services.save_engineer_profile(personas.provider_engineer, actor=personas.provider_admin, home_address="B base")
    with pytest.raises(PermissionDenied):
        services.save_engineer_profile(personas.engineer, actor=personas.provider_admin, home_address="hijack")
    with pytest.raises(PermissionDenied):
        services.save_engineer_profile(
            personas.provider_engineer, actor=personas.other_provider_admin, home_address="hijack"
        )
    assert EngineerProfile.objects.get(user=personas.provider_engineer).home_address == "B base"
    assert EngineerProfile.objects.get(user=personas.engineer).home_address == ""


def test_engineers_set_their_own_availability_and_nobody_else_s(personas):
    profile = personas.engineer.engineer_profile
    services.set_availability(profile, actor=personas.engineer, availability=Availability.ON_LEAVE)
    profile.refresh_from_db()
    assert profile.availability == Availability.ON_LEAVE
    assert events_of(profile, "updated").get().changes == {"availability": ["On duty", "On leave"]}
    with pytest.raises(PermissionDenied):
        services.set_availability(
            personas.provider_engineer.engineer_profile, actor=personas.engineer, availability=Availability.OFF
        )
    with pytest.raises(ValidationError) as excinfo:
        services.set_availability(profile, actor=personas.engineer, availability="asleep")
    assert "availability" in field_errors(excinfo)


# --- teams ---------------------------------------------------------------------------------------


def test_teams_belong_to_staff_companies_and_their_lead_to_the_team_s_company(personas):
    with pytest.raises(ValidationError) as excinfo:
        services.create_team(actor=personas.admin, name="C", organisation=personas.customer_a.organisation)
    assert "organisation" in field_errors(excinfo)
    with pytest.raises(ValidationError) as excinfo:
        services.create_team(
            actor=personas.admin, name="Mixed", organisation=personas.own, leader=personas.provider_admin
        )
    assert "leader" in field_errors(excinfo)
    with pytest.raises(PermissionDenied):
        services.create_team(actor=personas.provider_admin, name="Theirs", organisation=personas.other_provider)


# --- API tokens ----------------------------------------------------------------------------------


def test_a_created_token_authenticates_and_only_its_digest_is_stored(personas):
    token, plain = services.create_api_token(personas.agent, actor=personas.agent, name="laptop")
    assert plain.startswith("fsm_")
    assert services.user_for_api_token(plain) == personas.agent
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert plain not in token.digest
    assert not ApiToken.objects.filter(digest=plain).exists()
    stored = [str(value) for row in ApiToken.objects.values_list() for value in row]
    assert not any(plain in value for value in stored)
    assert not Event.objects.filter(note__contains=plain).exists()


def test_a_revoked_token_no_longer_authenticates(personas):
    token, plain = services.create_api_token(personas.agent, actor=personas.agent, name="phone")
    services.revoke_api_token(token, actor=personas.agent)
    assert services.user_for_api_token(plain) is None
    assert events_of(token, "revoked").exists()


def test_revoking_twice_is_a_domain_error(personas):
    token, _plain = services.create_api_token(personas.agent, actor=personas.agent, name="phone")
    services.revoke_api_token(token, actor=personas.agent)
    with pytest.raises(DomainError) as excinfo:
        services.revoke_api_token(token, actor=personas.agent)
    assert excinfo.value.code == "already_revoked"


def test_a_token_of_an_inactive_user_does_not_authenticate(personas):
    _token, plain = services.create_api_token(personas.agent, actor=personas.agent, name="phone")
    services.update_user(personas.agent, actor=personas.admin, is_active=False)
    assert services.user_for_api_token(plain) is None
    assert services.user_for_api_token("fsm_made-up") is None
    assert services.user_for_api_token("") is None


def test_nobody_mints_a_token_for_someone_else(personas):
    with pytest.raises(PermissionDenied):
        services.create_api_token(personas.agent, actor=personas.admin, name="impersonate")
    assert not ApiToken.objects.filter(user=personas.agent).exists()


def test_a_token_needs_a_name(personas):
    with pytest.raises(ValidationError) as excinfo:
        services.create_api_token(personas.agent, actor=personas.agent, name="  ")
    assert "name" in field_errors(excinfo)


def test_create_organisation_refuses_duplicates(personas):
    with pytest.raises(ValidationError) as excinfo:
        services.create_organisation(actor=personas.admin, name="Provider B", kind=OrganisationKind.PROVIDER)
    assert "name" in field_errors(excinfo)
