from django.contrib import admin

from aftersales.core.admin import AuditedModelAdmin

from .models import InstalledProduct, ProductModel


@admin.register(ProductModel)
class ProductModelAdmin(AuditedModelAdmin):
    list_display = ("code", "name", "category", "warranty_months", "is_active")
    list_filter = ("category", "is_active")
    search_fields = ("code", "name", "name_en")


@admin.register(InstalledProduct)
class InstalledProductAdmin(AuditedModelAdmin):
    list_display = ("serial_number", "product_model", "customer", "purchased_on", "installed_on")
    search_fields = ("serial_number", "customer__name")
    raw_id_fields = ("customer", "address")
    list_select_related = ("product_model", "customer")
