"""Admin for support staff: read-mostly. The secret is never shown here (not even as a
read-only field); subscriptions are changed and secrets rotated on the webhook pages."""

from django.contrib import admin

from fieldservice.webhooks.models import WebhookDelivery, WebhookSubscription


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    list_display = ["name", "url", "active", "created_at"]
    list_filter = ["active"]
    search_fields = ["name", "url"]
    fields = ["name", "url", "events", "active", "created_by", "created_at", "secret_rotated_at"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["__str__", "subscription", "status", "attempts", "response_status", "next_attempt_at", "created_at"]
    list_filter = ["status", "event"]
    search_fields = ["subscription__name", "last_error"]
    list_select_related = ["subscription"]
    readonly_fields = [
        "subscription",
        "event",
        "message_id",
        "payload",
        "status",
        "attempts",
        "next_attempt_at",
        "lease_until",
        "response_status",
        "response_excerpt",
        "last_error",
        "sent_at",
        "created_at",
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
