from django.contrib import admin

from aftersales.core.admin import AuditedModelAdmin

from .models import Address, Contact, Customer


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0
    raw_id_fields = ("user",)


class AddressInline(admin.TabularInline):
    model = Address
    extra = 0


@admin.register(Customer)
class CustomerAdmin(AuditedModelAdmin):
    list_display = ("code", "name", "kind", "value_tier", "phone", "email", "region")
    list_filter = ("kind", "value_tier")
    search_fields = ("code", "name", "phone", "email")
    inlines = [ContactInline, AddressInline]
    readonly_fields = ("code", "version", "created_at", "updated_at")
