"""Admin for support staff. Statuses are read-only here: they change only through the services,
which check the move and write the logs. The service log is append-only."""

from django.contrib import admin

from fieldservice.workorders.models import (
    Attachment,
    FaultCategory,
    FaultCategoryPart,
    ServiceRequest,
    WorkOrder,
    WorkOrderEvent,
)


class FaultCategoryPartInline(admin.TabularInline):
    """The parts a fault of this category usually needs: new orders of the category list them."""

    model = FaultCategoryPart
    extra = 1
    fields = ["part", "quantity"]
    autocomplete_fields = ["part"]


@admin.register(FaultCategory)
class FaultCategoryAdmin(admin.ModelAdmin):
    inlines = [FaultCategoryPartInline]
    list_display = ["code", "name", "name_en", "parent", "skill", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["code", "name", "name_en"]
    list_select_related = ["parent", "skill"]
    autocomplete_fields = ["parent"]


class AttachmentInline(admin.TabularInline):
    """Files are checked (content, size) by the services on upload; here they may only be
    looked at or removed (e.g. a photo sent by mistake)."""

    model = Attachment
    extra = 0
    fields = ["kind", "file", "content_type", "size", "uploaded_by", "created_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class RequestAttachmentInline(AttachmentInline):
    fk_name = "request"


@admin.register(ServiceRequest)
class ServiceRequestAdmin(admin.ModelAdmin):
    list_display = ["number", "created_at", "status", "channel", "customer", "equipment", "reporter_phone"]
    list_filter = ["status", "channel", "service_type", "priority"]
    search_fields = ["number", "reporter_phone", "reporter_name", "customer__name", "equipment__serial_number"]
    list_select_related = ["customer", "equipment__product_model"]
    autocomplete_fields = ["customer", "contact", "equipment"]
    readonly_fields = [
        "number",
        "status",
        "follow_token",
        "source_ip",
        "email_message_id",
        "created_by",
        "created_at",
        "confirmed_by",
        "confirmed_at",
    ]
    date_hierarchy = "created_at"
    inlines = [RequestAttachmentInline]

    def has_add_permission(self, request):
        # Requests are numbered and logged by the intake services.
        return False


class WorkOrderEventInline(admin.TabularInline):
    model = WorkOrderEvent
    extra = 0
    fields = ["at", "action", "from_status", "to_status", "actor", "note", "latitude", "longitude"]
    readonly_fields = fields
    can_delete = False
    ordering = ["at", "pk"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class OrderAttachmentInline(AttachmentInline):
    fk_name = "work_order"


@admin.register(WorkOrder)
class WorkOrderAdmin(admin.ModelAdmin):
    list_display = ["number", "created_at", "status", "priority", "service_type", "customer", "equipment"]
    list_filter = ["status", "priority", "service_type"]
    search_fields = ["number", "customer__name", "customer__code", "equipment__serial_number", "request__number"]
    list_select_related = ["customer", "equipment__product_model"]
    autocomplete_fields = ["customer", "site", "equipment", "fault_category"]
    readonly_fields = [
        "number",
        "request",
        "status",
        "status_before_hold",
        "hold_reason",
        "checked_in_at",
        "checked_out_at",
        "completed_at",
        "closed_at",
        "created_by",
        "created_at",
        "updated_at",
    ]
    date_hierarchy = "created_at"
    inlines = [WorkOrderEventInline, OrderAttachmentInline]

    def has_add_permission(self, request):
        # A work order comes from a request through the intake service, never from here.
        return False

    def has_delete_permission(self, request, obj=None):
        # Deleting would take its service log with it; orders are cancelled instead.
        return False


@admin.register(WorkOrderEvent)
class WorkOrderEventAdmin(admin.ModelAdmin):
    list_display = ["work_order", "at", "action", "from_status", "to_status", "actor"]
    list_filter = ["action"]
    search_fields = ["work_order__number", "note"]
    list_select_related = ["work_order", "actor"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
