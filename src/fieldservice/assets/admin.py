"""Admin for support staff. Status and QR token are read-only here: they change only through
the services (invalidate / reinstate / renew), which write the event log."""

from django.contrib import admin

from fieldservice.assets.models import BomLine, Equipment, EquipmentDocument, FittedPart, ProductModel


class BomLineInline(admin.TabularInline):
    model = BomLine
    extra = 0
    autocomplete_fields = ["part"]


@admin.register(ProductModel)
class ProductModelAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "product_line", "default_warranty_months", "is_active"]
    list_filter = ["is_active", "product_line"]
    search_fields = ["code", "name", "product_line"]
    inlines = [BomLineInline]


class FittedPartInline(admin.TabularInline):
    model = FittedPart
    extra = 0
    autocomplete_fields = ["part"]


class EquipmentDocumentInline(admin.TabularInline):
    model = EquipmentDocument
    extra = 0
    fields = ["title", "content_type", "size", "uploaded_by", "uploaded_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Equipment)
class EquipmentAdmin(admin.ModelAdmin):
    list_display = ["serial_number", "product_model", "customer", "site", "warranty_ends_on", "status"]
    list_filter = ["status", "product_model"]
    search_fields = ["serial_number", "lot_number", "product_model__code", "customer__name"]
    list_select_related = ["product_model", "customer", "site"]
    autocomplete_fields = ["product_model", "customer", "site", "parent"]
    readonly_fields = ["status", "invalidated_reason", "public_token", "created_at"]
    date_hierarchy = "installed_on"
    inlines = [FittedPartInline, EquipmentDocumentInline]


@admin.register(EquipmentDocument)
class EquipmentDocumentAdmin(admin.ModelAdmin):
    list_display = ["title", "equipment", "content_type", "size", "uploaded_by", "uploaded_at"]
    search_fields = ["title", "equipment__serial_number"]
    list_select_related = ["equipment__product_model", "uploaded_by"]
    readonly_fields = ["content_type", "size", "uploaded_by", "uploaded_at"]
    autocomplete_fields = ["equipment"]
