"""Admin for support staff. Publishing goes through the pages (it writes the event log), so
the status is read-only here."""

from django.contrib import admin

from fieldservice.knowledge.models import Article


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ["title", "fault_category", "product_model", "status", "updated_at"]
    list_filter = ["status", "fault_category"]
    search_fields = ["title", "symptoms", "cause", "solution"]
    list_select_related = ["fault_category__parent", "product_model"]
    autocomplete_fields = ["product_model"]
    raw_id_fields = ["source_order", "created_by"]
    readonly_fields = ["status", "published_at", "created_at", "updated_at"]
