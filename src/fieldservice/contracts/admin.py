"""Admin for administrators. Contracts and prices are changed on the pages (through the
services, with their checks and history); here administrators edit the expiry reminder
settings and may look at everything."""

from django.contrib import admin

from fieldservice.contracts.models import Contract, ExpiryReminder, PriceList, PriceListItem, ReminderSetting


@admin.register(ReminderSetting)
class ReminderSettingAdmin(admin.ModelAdmin):
    list_display = ["subject", "days_before", "is_active"]
    list_filter = ["subject", "is_active"]
    list_editable = ["is_active"]


@admin.register(Contract)
class ContractAdmin(admin.ModelAdmin):
    list_display = ["number", "customer", "level", "status", "starts_on", "ends_on", "included_visits"]
    list_filter = ["status", "level"]
    search_fields = ["number", "customer__name", "customer__code", "equipment__serial_number"]
    list_select_related = ["customer"]
    raw_id_fields = ["customer", "previous", "created_by"]
    filter_horizontal = ["equipment"]

    def has_change_permission(self, request, obj=None):
        return False  # status, overlap and history rules live in the services

    def has_delete_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


class PriceListItemInline(admin.TabularInline):
    model = PriceListItem
    extra = 0
    raw_id_fields = ["part"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PriceList)
class PriceListAdmin(admin.ModelAdmin):
    list_display = ["name", "currency", "is_default", "is_active"]
    inlines = [PriceListItemInline]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ExpiryReminder)
class ExpiryReminderAdmin(admin.ModelAdmin):
    list_display = ["subject", "contract", "equipment", "ends_on", "days_before", "days_left", "sent_at"]
    list_filter = ["subject", "days_before"]
    raw_id_fields = ["contract", "equipment"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False
