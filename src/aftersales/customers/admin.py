from django.contrib import admin

from aftersales.core.admin import AuditedModelAdmin

from .models import Address, Contact, ContactIdentity, Customer


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0
    raw_id_fields = ("user",)


class AddressInline(admin.TabularInline):
    model = Address
    extra = 0


@admin.register(Customer)
class CustomerAdmin(AuditedModelAdmin):
    list_display = ("code", "name", "kind", "value_tier", "phone", "email", "region", "merged_into")
    list_filter = ("kind", "value_tier")
    search_fields = ("code", "name", "phone", "email", "contacts__identities__value")
    inlines = [ContactInline, AddressInline]
    # Merging is a service (customer page, API): it moves tickets and products too.
    readonly_fields = ("code", "version", "created_at", "updated_at", "merged_into", "merged_at")


@admin.register(ContactIdentity)
class ContactIdentityAdmin(AuditedModelAdmin):
    """Identities are recorded by the channels; an admin may correct which contact one routes to."""

    list_display = ("kind", "value", "contact", "is_routing", "channel", "created_at")
    list_filter = ("kind", "is_routing", "channel")
    search_fields = ("value", "contact__name", "contact__customer__code")
    raw_id_fields = ("contact",)
    readonly_fields = ("created_at",)
