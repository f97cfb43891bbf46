"""Admin for administrators. Contracts and prices are changed on the pages (through the
services, with their checks and history); here administrators edit the expiry reminder
settings and may look at everything. Business calendars and SLA policies (with their hours,
holidays and targets) are edited on the SLA settings pages too; here they stay editable, under
the app that owns them."""

from django.contrib import admin

from fieldservice.contracts.models import (
    BusinessCalendar,
    Contract,
    ExpiryReminder,
    Holiday,
    PriceList,
    PriceListItem,
    ReminderSetting,
    SlaPolicy,
    SlaTarget,
    WorkingPeriod,
)


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


class WorkingPeriodInline(admin.TabularInline):
    model = WorkingPeriod
    extra = 0


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 0


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    list_display = ["name", "time_zone", "is_default"]
    inlines = [WorkingPeriodInline, HolidayInline]


class SlaTargetInline(admin.TabularInline):
    model = SlaTarget
    extra = 0


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "calendar", "customer_tier", "is_default", "is_active"]
    list_filter = ["is_active", "customer_tier"]
    inlines = [SlaTargetInline]
