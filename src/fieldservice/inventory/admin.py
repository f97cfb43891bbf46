from django.contrib import admin

from fieldservice.inventory.models import Part


@admin.register(Part)
class PartAdmin(admin.ModelAdmin):
    list_display = ["part_number", "name", "specification", "unit", "is_active"]
    list_filter = ["is_active", "unit"]
    search_fields = ["part_number", "name", "specification"]
