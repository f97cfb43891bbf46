from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from fieldservice.accounts import views as account_views
from fieldservice.api import api
from fieldservice.site import views as site_views

urlpatterns = [
    path("", site_views.home, name="home"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("login/", account_views.SignInView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password-reset/", account_views.password_reset, name="password_reset"),
    path("password-reset/sent/", account_views.password_reset_done, name="password_reset_done"),
    path("password-reset/<uidb64>/<token>/", account_views.password_reset_confirm, name="password_reset_confirm"),
    path("password-reset/done/", account_views.password_reset_complete, name="password_reset_complete"),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("", include("fieldservice.accounts.urls")),
    path("customers/", include("fieldservice.customers.urls")),
    path("assets/", include("fieldservice.assets.urls")),
    path("parts/", include("fieldservice.inventory.urls")),
    path("e/", include("fieldservice.site.public_urls")),
    path("", include("fieldservice.workorders.urls")),
    path("dispatch/", include("fieldservice.dispatch.urls")),
    path("m/", include("fieldservice.field.urls")),
    path("job-templates/", include("fieldservice.field.desk_urls")),
    path("feedback/", include("fieldservice.feedback.urls")),
    path("knowledge/", include("fieldservice.knowledge.urls")),
    path("r/", include("fieldservice.portal.urls")),
    path("sla/", include("fieldservice.sla.urls")),
    path("contracts/", include("fieldservice.contracts.urls")),
    path("notifications/", include("fieldservice.notifications.urls")),
    path("webhooks/", include("fieldservice.webhooks.urls")),
    path("pool/", include("fieldservice.pool.urls")),
    path("schedule/", include("fieldservice.scheduling.urls")),
    path("planning/", include("fieldservice.planning.urls")),
    path("billing/", include("fieldservice.billing.urls")),
    path("maintenance/", include("fieldservice.maintenance.urls")),
    path("iot/", include("fieldservice.iot.urls")),
    path("board/", include("fieldservice.board.urls")),
    path("", include("fieldservice.site.urls")),
]

handler403 = "fieldservice.site.views.error_403"
handler404 = "fieldservice.site.views.error_404"
handler500 = "fieldservice.site.views.error_500"
