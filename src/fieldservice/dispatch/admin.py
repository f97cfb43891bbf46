"""Admin for support staff. Status and answers are read-only here: they change only through the
dispatch services, which move the work order and write its service log."""

from django.contrib import admin

from fieldservice.dispatch.models import Assignment


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ["work_order", "engineer", "provider", "role", "status", "assigned_at", "responded_at"]
    list_filter = ["status", "role"]
    search_fields = ["work_order__number", "engineer__username", "engineer__display_name", "provider__name"]
    list_select_related = ["work_order", "engineer", "provider"]
    raw_id_fields = ["work_order", "engineer", "provider", "assigned_by"]
    readonly_fields = ["status", "reason", "assigned_at", "responded_at"]
    date_hierarchy = "assigned_at"
