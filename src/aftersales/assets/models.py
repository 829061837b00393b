from __future__ import annotations

import datetime as dt
from calendar import monthrange

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aftersales.core.models import BilingualName
from aftersales.customers.models import Address, Customer


class ProductCategory(models.TextChoices):
    TOILET = "toilet", _("Toilet")
    SMART_TOILET = "smart_toilet", _("Smart toilet")
    BASIN = "basin", _("Basin")
    FAUCET = "faucet", _("Faucet")
    SHOWER = "shower", _("Shower")
    BATHTUB = "bathtub", _("Bathtub")
    WATER_HEATER = "water_heater", _("Water heater")
    CABINET = "cabinet", _("Bathroom cabinet")
    APPLIANCE = "appliance", _("Appliance")
    ELECTRONICS = "electronics", _("Electronics")
    OTHER = "other", _("Other")


class ProductModel(BilingualName, models.Model):
    code = models.CharField(_("model code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    name_en = models.CharField(_("English name"), max_length=120, blank=True)
    category = models.CharField(_("category"), max_length=20, choices=ProductCategory.choices)
    warranty_months = models.PositiveSmallIntegerField(_("warranty (months)"), default=36)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("product model")
        verbose_name_plural = _("product models")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(warranty_months__lte=600), name="product_warranty_months_range"
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.display_name}"


class WarrantyStatus(models.TextChoices):
    IN_WARRANTY = "in_warranty", _("In warranty")
    EXPIRED = "expired", _("Out of warranty")
    UNKNOWN = "unknown", _("Unknown")


def add_months(day: dt.date, months: int) -> dt.date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, monthrange(year, month)[1]))


class InstalledProduct(models.Model):
    """One physical unit at a customer's, known by its serial number."""

    serial_number = models.CharField(_("serial number"), max_length=64, unique=True)
    product_model = models.ForeignKey(
        ProductModel, verbose_name=_("product model"), on_delete=models.PROTECT, related_name="installed"
    )
    customer = models.ForeignKey(
        Customer, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="installed_products"
    )
    address = models.ForeignKey(
        Address, verbose_name=_("address"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    purchased_on = models.DateField(_("purchased on"), null=True, blank=True)
    installed_on = models.DateField(_("installed on"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("installed product")
        verbose_name_plural = _("installed products")
        ordering = ["-id"]
        indexes = [models.Index(fields=["customer", "-id"], name="installed_customer_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(installed_on__isnull=True)
                | models.Q(purchased_on__isnull=True)
                | models.Q(installed_on__gte=models.F("purchased_on")),
                name="installed_after_purchase",
            )
        ]

    def __str__(self) -> str:
        return self.serial_number

    @property
    def warranty_starts_on(self) -> dt.date | None:
        # The 三包 period runs from the purchase date; installation counts when purchase is unknown.
        return self.purchased_on or self.installed_on

    @property
    def warranty_ends_on(self) -> dt.date | None:
        start = self.warranty_starts_on
        if start is None:
            return None
        return add_months(start, self.product_model.warranty_months)

    def warranty_status(self, on: dt.date | None = None) -> WarrantyStatus:
        end = self.warranty_ends_on
        if end is None:
            return WarrantyStatus.UNKNOWN
        today = on or timezone.localdate()
        return WarrantyStatus.IN_WARRANTY if today < end else WarrantyStatus.EXPIRED
