"""API for people: who am I, engineers with their skills and hours, teams, organisations."""

from datetime import datetime
from decimal import Decimal

from ninja import Router, Schema
from ninja.pagination import paginate
from ninja.security import HttpBearer

from fieldservice.accounts import selectors, services
from fieldservice.accounts.choices import Availability, EngineerLevel, OrganisationKind
from fieldservice.accounts.models import EngineerProfile
from fieldservice.accounts.permissions import Capability, can
from fieldservice.accounts.templatetags.people import skill_name
from fieldservice.core.api import Id, PageNumberPagination, StrictSchema

router = Router(tags=["accounts"])


class TokenAuth(HttpBearer):
    """`Authorization: Bearer fsm_...` with a per-user API token."""

    def authenticate(self, request, token):
        user = services.user_for_api_token(token)
        if user is not None:
            request.user = user
        return user


class OrganisationOut(Schema):
    id: int
    name: str
    kind: OrganisationKind


class PersonRef(Schema):
    id: int
    username: str
    name: str

    @staticmethod
    def resolve_name(obj) -> str:
        return str(obj)


class MeOut(Schema):
    id: int
    username: str
    name: str
    display_name: str
    email: str
    phone: str
    language: str
    organisation: OrganisationOut | None
    roles: list[str]
    capabilities: list[str]

    @staticmethod
    def resolve_name(obj) -> str:
        return str(obj)

    @staticmethod
    def resolve_roles(obj) -> list[str]:
        return sorted(obj.role_codes)

    @staticmethod
    def resolve_capabilities(obj) -> list[str]:
        return sorted(str(capability) for capability in Capability if can(obj, capability))


class TeamRef(Schema):
    id: int
    name: str


class SkillLevelOut(Schema):
    code: str
    name: str
    level: int


class AreaOut(Schema):
    id: int
    name: str


class EngineerOut(Schema):
    id: int
    user: PersonRef
    organisation: OrganisationOut | None
    team: TeamRef | None
    availability: Availability
    level: EngineerLevel
    skills: list[SkillLevelOut]

    @staticmethod
    def resolve_organisation(obj):
        return obj.user.organisation

    @staticmethod
    def resolve_skills(obj) -> list[dict]:
        return [
            {"code": item.skill.code, "name": skill_name(item.skill), "level": item.level} for item in obj.skills.all()
        ]


class EngineerDetailOut(EngineerOut):
    areas: list[AreaOut]
    home_address: str
    home_latitude: Decimal | None
    home_longitude: Decimal | None
    working_hours: dict[str, list[list[str]]]

    @staticmethod
    def resolve_areas(obj):
        return list(obj.areas.all())


class AvailabilityIn(StrictSchema):
    __model__ = EngineerProfile
    # A plain string so an unknown value gets the service's field error, not a schema error.
    availability: str


class EngineerLevelIn(StrictSchema):
    __model__ = EngineerProfile
    # A plain string so an unknown value gets the service's field error, not a schema error.
    level: str


class TeamOut(Schema):
    id: int
    name: str
    organisation: OrganisationOut
    leader: PersonRef | None
    engineer_count: int


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


@router.get("/me", response=MeOut, summary="The signed-in user, their organisation and roles")
def me(request):
    return request.user


@router.get("/engineers", response=list[EngineerOut], summary="Engineers you may see")
@paginate(PageNumberPagination, page_size=50)
def list_engineers(
    request,
    team: Id | None = None,
    skill: str | None = None,
    availability: Availability | None = None,
    organisation: Id | None = None,
    q: str = "",
):
    profiles = selectors.search_engineers(selectors.engineers_for(request.user), q)
    return selectors.filter_engineers(
        profiles, team=team, skill=skill, availability=availability, organisation=organisation
    ).prefetch_related("skills__skill")


@router.get("/engineers/{engineer_id}", response=EngineerDetailOut, summary="One engineer's profile")
def get_engineer(request, engineer_id: Id):
    return selectors.get_engineer_for(request.user, engineer_id)


@router.post(
    "/engineers/{engineer_id}/availability",
    response=EngineerDetailOut,
    summary="Set an engineer's availability (on duty, off duty, on leave)",
)
def set_engineer_availability(request, engineer_id: Id, payload: AvailabilityIn):
    profile = selectors.get_engineer_for(request.user, engineer_id)
    services.set_availability(profile, actor=request.user, availability=payload.availability)
    return selectors.get_engineer_for(request.user, engineer_id)


@router.post(
    "/engineers/{engineer_id}/level",
    response=EngineerDetailOut,
    summary="Set an engineer's level (labour is priced by it)",
)
def set_engineer_level(request, engineer_id: Id, payload: EngineerLevelIn):
    profile = selectors.get_engineer_for(request.user, engineer_id)
    services.set_engineer_level(profile, actor=request.user, level=payload.level)
    return selectors.get_engineer_for(request.user, engineer_id)


@router.get("/teams", response=list[TeamOut], summary="Service teams you may see")
@paginate(PageNumberPagination, page_size=50)
def list_teams(request, organisation: Id | None = None):
    teams = selectors.teams_for(request.user)
    if organisation:
        teams = teams.filter(organisation_id=organisation)
    return teams


@router.get("/organisations", response=list[OrganisationOut], summary="Organisations you may see")
@paginate(PageNumberPagination, page_size=50)
def list_organisations(request, kind: OrganisationKind | None = None):
    organisations = selectors.organisations_for(request.user)
    if kind:
        organisations = organisations.filter(kind=kind)
    return organisations


@router.get("/me/tokens", response=list[TokenOut], summary="Your API tokens (never the tokens themselves)")
@paginate(PageNumberPagination, page_size=50)
def list_my_tokens(request):
    return selectors.api_tokens_for(request.user)
