from django.contrib import admin

from fieldservice.core.admin import ReadOnlyAdmin
from fieldservice.field.models import PartUsage, Signature


@admin.register(PartUsage)
class PartUsageAdmin(ReadOnlyAdmin):
    """Read-only: parts used are recorded on the phone and change the machine on completion."""

    list_display = ["work_order", "part", "quantity", "is_replacement", "new_serial", "recorded_by", "recorded_at"]
    list_select_related = ["work_order", "part", "recorded_by"]
    search_fields = ["work_order__number", "part__part_number", "new_serial"]
    readonly_fields = [f.name for f in PartUsage._meta.fields]


@admin.register(Signature)
class SignatureAdmin(ReadOnlyAdmin):
    list_display = ["work_order", "signer_name", "captured_by", "captured_at"]
    list_select_related = ["work_order", "captured_by"]
    search_fields = ["work_order__number", "signer_name"]
    readonly_fields = [f.name for f in Signature._meta.fields]
