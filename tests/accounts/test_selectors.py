import pytest
from django.http import Http404

from fieldservice.accounts import selectors, services
from fieldservice.accounts.choices import OrganisationKind, Role
from tests import factories


def test_our_administrator_sees_everyone(personas):
    users = set(selectors.users_for(personas.admin))
    assert {personas.provider_engineer, personas.customer_user_z, personas.other_provider_admin} <= users


def test_provider_admin_sees_only_their_own_company(personas):
    users = set(selectors.users_for(personas.provider_admin))
    assert users == {personas.provider_admin, personas.provider_engineer}
    engineers = {p.user for p in selectors.engineers_for(personas.provider_admin)}
    assert engineers == {personas.provider_engineer}
    with pytest.raises(Http404):
        selectors.get_user_for(personas.provider_admin, personas.engineer.pk)
    with pytest.raises(Http404):
        selectors.get_engineer_for(personas.provider_admin, personas.engineer.engineer_profile.pk)
    assert set(selectors.organisations_for(personas.provider_admin)) == {personas.provider}


@pytest.mark.parametrize("name", ["engineer", "provider_engineer", "customer_user_a", "parts_keeper"])
def test_people_without_people_rights_see_only_themselves(personas, name):
    person = getattr(personas, name)
    assert list(selectors.users_for(person)) == [person]
    assert set(selectors.organisations_for(person)) == {person.organisation}


def test_an_engineer_sees_only_their_own_engineer_profile(personas):
    assert [p.user for p in selectors.engineers_for(personas.engineer)] == [personas.engineer]
    assert list(selectors.engineers_for(personas.customer_user_a)) == []


def test_own_staff_with_people_rights_see_every_engineer(personas):
    engineers = {p.user for p in selectors.engineers_for(personas.dispatcher)}
    assert engineers == {personas.engineer, personas.provider_engineer}


def test_an_engineer_who_lost_the_role_leaves_the_engineer_list(personas):
    services.set_roles(personas.engineer, actor=personas.admin, roles=[Role.AGENT])
    assert personas.engineer not in {p.user for p in selectors.engineers_for(personas.admin)}


def test_teams_are_scoped_like_people(personas):
    own_team = services.create_team(actor=personas.admin, name="East", organisation=personas.own)
    b_team = services.create_team(actor=personas.provider_admin, name="B1", organisation=personas.provider)
    services.save_engineer_profile(personas.provider_engineer, actor=personas.provider_admin, team=b_team)
    assert set(selectors.teams_for(personas.admin)) == {own_team, b_team}
    assert set(selectors.teams_for(personas.provider_admin)) == {b_team}
    assert set(selectors.teams_for(personas.other_provider_admin)) == set()
    assert set(selectors.teams_for(personas.provider_engineer)) == {b_team}
    assert set(selectors.teams_for(personas.customer_user_a)) == set()
    assert selectors.teams_for(personas.admin).get(pk=b_team.pk).engineer_count == 1


def test_engineer_filters(personas):
    skill = factories.skill("plc", "PLC")
    services.save_engineer_profile(personas.engineer, actor=personas.admin, skills={skill: 4})
    found = selectors.filter_engineers(selectors.engineers_for(personas.admin), skill="plc")
    assert [p.user for p in found] == [personas.engineer]
    found = selectors.filter_engineers(selectors.engineers_for(personas.admin), organisation=personas.provider.pk)
    assert [p.user for p in found] == [personas.provider_engineer]
    providers = selectors.providers_for(personas.admin)
    assert set(providers) == {personas.provider, personas.other_provider}
    assert all(org.kind == OrganisationKind.PROVIDER for org in providers)
