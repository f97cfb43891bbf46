from django.contrib import admin

from fieldservice.pool.models import PoolOffer


@admin.register(PoolOffer)
class PoolOfferAdmin(admin.ModelAdmin):
    """Read-only: offers change only through the pool services (the grab is a compare-and-set)."""

    list_display = ["work_order", "status", "provider", "skill", "published_at", "expires_at", "grabbed_by"]
    list_filter = ["status", "requires_approval"]
    search_fields = ["work_order__number"]
    raw_id_fields = ["work_order", "grabbed_by", "published_by", "decided_by"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
