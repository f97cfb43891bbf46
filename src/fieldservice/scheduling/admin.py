"""Admin for support staff, read-only: visits, absences and durations change through the
services (pages and API), which check the rules and keep the version and the event log."""

from django.contrib import admin

from fieldservice.core.admin import ReadOnlyAdmin
from fieldservice.scheduling.models import Absence, CalendarFeed, DurationDefault, Visit


@admin.register(Visit)
class VisitAdmin(ReadOnlyAdmin):
    list_display = ["work_order", "engineer", "planned_start", "duration_minutes", "status", "is_pinned", "version"]
    list_filter = ["status", "is_pinned"]
    search_fields = ["work_order__number", "engineer__username"]
    date_hierarchy = "planned_start"


@admin.register(Absence)
class AbsenceAdmin(ReadOnlyAdmin):
    list_display = ["engineer", "kind", "starts_at", "ends_at"]
    list_filter = ["kind"]
    search_fields = ["engineer__username"]


@admin.register(DurationDefault)
class DurationDefaultAdmin(ReadOnlyAdmin):
    list_display = ["service_type", "product_model", "minutes"]


@admin.register(CalendarFeed)
class CalendarFeedAdmin(ReadOnlyAdmin):
    # The token is the key to the feed: not shown.
    list_display = ["user", "created_at", "last_fetched_at"]
    exclude = ["token"]
