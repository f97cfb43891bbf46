"""Admin for support staff. Secrets are never shown; texts and channel settings are edited on
the notification pages (they validate and write the event log)."""

from django.contrib import admin

from fieldservice.notifications.models import (
    Delivery,
    ImEndpoint,
    Notification,
    NotificationPreference,
    NotificationTemplate,
    SmsGateway,
)


class DeliveryInline(admin.TabularInline):
    model = Delivery
    extra = 0
    can_delete = False
    fields = ["channel", "status", "attempts", "next_attempt_at", "sent_at", "last_error"]
    readonly_fields = fields


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["title", "recipient", "event", "created_at", "delivered_at", "read_at"]
    list_filter = ["event"]
    search_fields = ["title", "key", "recipient__username"]
    raw_id_fields = ["recipient"]
    readonly_fields = ["key", "created_at", "delivered_at", "read_at"]
    inlines = [DeliveryInline]


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["notification", "channel", "status", "attempts", "next_attempt_at", "sent_at"]
    list_filter = ["status", "channel"]
    raw_id_fields = ["notification"]
    readonly_fields = ["status", "attempts", "lease_until", "sent_at", "last_error", "sent_to"]


@admin.register(NotificationTemplate)
class NotificationTemplateAdmin(admin.ModelAdmin):
    list_display = ["event", "language", "subject", "updated_at"]
    list_filter = ["language"]
    readonly_fields = ["event", "language", "subject", "body", "updated_at"]


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "event", "channel", "enabled"]
    list_filter = ["channel", "enabled"]
    raw_id_fields = ["user"]


@admin.register(ImEndpoint)
class ImEndpointAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "url", "is_active"]
    exclude = ["secret"]
    readonly_fields = ["name", "kind", "url", "is_active", "created_at"]


@admin.register(SmsGateway)
class SmsGatewayAdmin(admin.ModelAdmin):
    list_display = ["name", "url", "is_active"]
    exclude = ["secret"]
    readonly_fields = ["name", "url", "is_active", "created_at"]
