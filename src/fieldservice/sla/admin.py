"""Admin for support staff. The settings pages (MANAGE_SLA) are the place to edit; clocks are
read-only here because only the work-order moves and the periodic check change them. Business
calendars and SLA policies are contract terms: their admin is in contracts/admin.py."""

from django.contrib import admin

from fieldservice.core.admin import ReadOnlyAdmin
from fieldservice.sla.models import EscalationRule, SlaClock


@admin.register(EscalationRule)
class EscalationRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "target", "after_minutes", "percent_used", "notify", "is_active", "position"]
    list_filter = ["is_active", "target", "notify"]


@admin.register(SlaClock)
class SlaClockAdmin(ReadOnlyAdmin):
    list_display = ["work_order", "kind", "started_at", "due_at", "met_at", "breached_at", "paused_at", "stopped_at"]
    list_filter = ["kind"]
    list_select_related = ["work_order"]
    search_fields = ["work_order__number"]
