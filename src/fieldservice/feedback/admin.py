"""Admin for support staff. The customer's answer and the call back are read-only here: they
are written once, through the follow link and the call-back page, which write the logs."""

from django.contrib import admin

from fieldservice.feedback.models import Evaluation


@admin.register(Evaluation)
class EvaluationAdmin(admin.ModelAdmin):
    list_display = ["work_order", "overall", "timeliness", "attitude", "quality", "needs_callback", "submitted_at"]
    list_filter = ["needs_callback", "overall"]
    search_fields = ["work_order__number", "work_order__customer__name", "comment", "callback_result"]
    list_select_related = ["work_order"]
    date_hierarchy = "submitted_at"
    readonly_fields = [
        "work_order",
        "overall",
        "timeliness",
        "attitude",
        "quality",
        "comment",
        "submitted_at",
        "needs_callback",
        "callback_result",
        "callback_by",
        "callback_at",
    ]

    def has_add_permission(self, request):
        return False
