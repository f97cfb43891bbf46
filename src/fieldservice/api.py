"""The HTTP API at /api/v1/: one NinjaAPI, one router per app."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.security import django_auth

from fieldservice.accounts.api import TokenAuth
from fieldservice.accounts.api import router as accounts_router
from fieldservice.assets.api import router as assets_router
from fieldservice.billing.api import router as billing_router
from fieldservice.board.api import router as board_router
from fieldservice.contracts.api import router as contracts_router
from fieldservice.core.api import validation_error_body
from fieldservice.core.errors import DomainError
from fieldservice.customers.api import router as customers_router
from fieldservice.dispatch.assignments.api import router as dispatch_router
from fieldservice.dispatch.rules.api import router as dispatch_rules_router
from fieldservice.feedback.api import router as feedback_router
from fieldservice.field.api import router as field_router
from fieldservice.inventory.api import router as inventory_router
from fieldservice.iot.api import router as iot_router
from fieldservice.knowledge.api import router as knowledge_router
from fieldservice.maintenance.api import router as maintenance_router
from fieldservice.notifications.api import router as notifications_router
from fieldservice.planning.api import router as planning_router
from fieldservice.pool.api import router as pool_router
from fieldservice.portal.api import router as portal_router
from fieldservice.scheduling.api import router as scheduling_router
from fieldservice.sla.api import router as sla_router
from fieldservice.webhooks.api import router as webhooks_router
from fieldservice.workorders.api import router as workorders_router

# Ninja names an operation after its view's module. Views that moved to another module keep the
# operation ids they were published with, so that clients generated from the document keep working.
PUBLISHED_MODULES = {
    "fieldservice.dispatch.assignments.api": "fieldservice.dispatch.api",
    "fieldservice.dispatch.rules.api": "fieldservice.dispatch.rule_api",
}


class ProjectAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation) -> str:
        module = operation.view_func.__module__
        return f"{PUBLISHED_MODULES.get(module, module)}_{operation.view_func.__name__}".replace(".", "_")


api = ProjectAPI(
    title="fieldservice API",
    version="1",
    description="Field service management. Authenticate with `Authorization: Bearer <token>` "
    "(create a token under *My account → API tokens*) or a browser session.",
    auth=[TokenAuth(), django_auth],
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)


@api.exception_handler(ValidationError)
def on_validation_error(request, exc):
    return api.create_response(request, validation_error_body(exc), status=422)


@api.exception_handler(PermissionDenied)
def on_permission_denied(request, exc):
    return api.create_response(request, {"detail": str(exc) or _("You do not have permission to do this.")}, status=403)


@api.exception_handler(DomainError)
def on_domain_error(request, exc):
    return api.create_response(request, {"detail": exc.message, "code": exc.code}, status=409)


api.add_router("/v1/", accounts_router)
api.add_router("/v1/", customers_router)
api.add_router("/v1/", inventory_router)
api.add_router("/v1/", assets_router)
api.add_router("/v1/", workorders_router)
api.add_router("/v1/", dispatch_router)
api.add_router("/v1/", dispatch_rules_router)
api.add_router("/v1/", field_router)
api.add_router("/v1/", feedback_router)
api.add_router("/v1/billing/", billing_router)
api.add_router("/v1/maintenance/", maintenance_router)
api.add_router("/v1/iot/", iot_router)
api.add_router("/v1/", knowledge_router)
api.add_router("/v1/", portal_router)
api.add_router("/v1/", sla_router)
api.add_router("/v1/", contracts_router)
api.add_router("/v1/", notifications_router)
api.add_router("/v1/", webhooks_router)
api.add_router("/v1/", pool_router)
api.add_router("/v1/", scheduling_router)
api.add_router("/v1/", planning_router)
api.add_router("/v1/", board_router)
