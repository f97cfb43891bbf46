"""Admin for administrators. Saves here bypass the services (no validation of phones or
coordinates beyond the model's, no event log), which is acceptable for superusers only."""

from django.contrib import admin

from fieldservice.customers.models import Contact, Customer, Site


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0
    fields = ["name", "title", "phone", "email", "wechat_id", "is_primary"]


class SiteInline(admin.TabularInline):
    model = Site
    extra = 0
    fields = ["name", "address", "province", "city", "district", "latitude", "longitude", "contact", "is_active"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # Only this customer's contacts; the customer being edited is in the URL.
        if db_field.name == "contact":
            object_id = request.resolver_match.kwargs.get("object_id") if request.resolver_match else None
            kwargs["queryset"] = Contact.objects.filter(customer_id=object_id) if object_id else Contact.objects.none()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "tier", "service_provider", "account_owner", "is_active", "created_at"]
    list_filter = ["kind", "tier", "is_active", "service_provider"]
    search_fields = ["code", "name", "contacts__name", "contacts__phone"]
    list_select_related = ["service_provider", "account_owner"]
    raw_id_fields = ["account_owner"]
    inlines = [ContactInline, SiteInline]

    def get_readonly_fields(self, request, obj=None):
        # The code and the customer's organisation are its identity; fixed once created.
        return ["code", "organisation"] if obj is not None else []


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["name", "customer", "phone", "email", "title", "is_primary"]
    list_filter = ["is_primary"]
    search_fields = ["name", "phone", "email", "customer__name", "customer__code"]
    list_select_related = ["customer"]
    raw_id_fields = ["customer"]


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ["name", "customer", "province", "city", "latitude", "longitude", "is_active"]
    list_filter = ["is_active", "province", "city"]
    search_fields = ["name", "address", "city", "customer__name", "customer__code"]
    list_select_related = ["customer"]
    raw_id_fields = ["customer", "contact"]
