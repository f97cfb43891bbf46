"""Admin for the event log and the idempotency records: both are read-only evidence."""

from django.contrib import admin

from fieldservice.core.models import Event, IdempotentRequest


class ReadOnlyAdmin(admin.ModelAdmin):
    """Viewable by staff with the view permission; nobody adds, edits or deletes here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["at", "action", "content_type", "object_repr", "actor", "note"]
    list_filter = ["action", "content_type"]
    list_select_related = ["content_type", "actor"]
    search_fields = ["object_repr"]
    date_hierarchy = "at"
    ordering = ["-at", "-pk"]
    fields = [
        "at",
        "action",
        "content_type",
        "object_pk",
        "object_repr",
        "related_content_type",
        "related_object_pk",
        "actor",
        "changes",
        "note",
    ]
    readonly_fields = fields


@admin.register(IdempotentRequest)
class IdempotentRequestAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "user", "endpoint", "key", "status_code", "content_type", "object_pk"]
    list_filter = ["status_code", "content_type"]
    list_select_related = ["user", "content_type"]
    search_fields = ["key", "endpoint"]
    date_hierarchy = "created_at"
    fields = ["created_at", "user", "key", "endpoint", "status_code", "content_type", "object_pk"]
    readonly_fields = fields
