from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aftersales.core.models import Region


class ValueTier(models.TextChoices):
    """Customer value tiers (RFM); a later issue computes them, tickets already carry them."""

    HIGH_VALUE = "high_value", _("High value")
    CORE = "core", _("Core")
    POTENTIAL = "potential", _("Potential")


class Customer(models.Model):
    class Kind(models.TextChoices):
        PERSON = "person", _("Person")
        COMPANY = "company", _("Company")

    code = models.CharField(_("customer number"), max_length=20, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.PERSON)
    name = models.CharField(_("name"), max_length=120)
    phone = models.CharField(_("phone"), max_length=32, blank=True, db_index=True)
    email = models.EmailField(_("e-mail"), blank=True, db_index=True)
    value_tier = models.CharField(
        _("value tier"), max_length=12, choices=ValueTier.choices, default=ValueTier.POTENTIAL
    )
    region = models.ForeignKey(
        Region,
        verbose_name=_("region"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="customers",
    )
    notes = models.TextField(_("notes"), blank=True)
    # The language the customer is written to in (e-mail notifications, the portal's default).
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES, default="zh-hans")
    # A duplicate merged into another customer is kept (for the audit trail and old links) but
    # hidden from search; its contacts, addresses, products and tickets belong to ``merged_into``.
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_customers",
    )
    merged_at = models.DateTimeField(_("merged at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=["person", "company"]), name="customer_kind_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(value_tier__in=ValueTier.values), name="customer_tier_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(merged_into=models.F("id")), name="customer_not_merged_into_itself"
            ),
        ]
        indexes = [models.Index(fields=["name"], name="customer_name_idx")]

    def __str__(self) -> str:
        return self.name


class Contact(models.Model):
    """A person who speaks for a customer; a portal login belongs to exactly one contact."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="contacts"
    )
    name = models.CharField(_("name"), max_length=80)
    phone = models.CharField(_("phone"), max_length=32, blank=True, db_index=True)
    email = models.EmailField(_("e-mail"), blank=True, db_index=True)
    wechat_openid = models.CharField(_("WeChat openid"), max_length=64, blank=True, db_index=True)
    is_primary = models.BooleanField(_("primary contact"), default=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("portal login"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contact",
    )

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["-is_primary", "id"]

    def __str__(self) -> str:
        return self.name


class IdentityKind(models.TextChoices):
    EMAIL = "email", _("E-mail")
    PHONE = "phone", _("Phone")
    WECHAT_OPENID = "wechat_openid", _("WeChat openid")


class ContactIdentity(models.Model):
    """One way to reach a contact, normalised (``identity.normalize``), as the channels see it.

    The channels match an inbound address through this table. The same value may be recorded on
    several contacts (a family shares a phone; staff typed a known address on a new customer),
    but exactly one row per value *routes*: the partial unique constraint makes a concurrent
    first contact from the same address fail on insert instead of creating a second customer,
    and rows sharing a value across customers are what the duplicate finder reports.
    """

    contact = models.ForeignKey(
        Contact, verbose_name=_("contact"), on_delete=models.CASCADE, related_name="identities"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=IdentityKind.choices)
    value = models.CharField(_("value"), max_length=254)
    is_routing = models.BooleanField(
        _("receives inbound contacts"),
        default=True,
        help_text=_("Messages from this address are matched to this contact."),
    )
    channel = models.CharField(_("first seen on"), max_length=16, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("contact identity")
        verbose_name_plural = _("contact identities")
        ordering = ["kind", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=IdentityKind.values), name="identity_kind_valid"
            ),
            models.CheckConstraint(condition=~models.Q(value=""), name="identity_value_not_empty"),
            models.UniqueConstraint(
                fields=["kind", "value"], condition=models.Q(is_routing=True), name="identity_routes_once"
            ),
            models.UniqueConstraint(fields=["contact", "kind", "value"], name="identity_once_per_contact"),
        ]
        indexes = [models.Index(fields=["kind", "value"], name="identity_value_idx")]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


class Address(models.Model):
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="addresses"
    )
    label = models.CharField(_("label"), max_length=40, blank=True)
    region = models.ForeignKey(
        Region, verbose_name=_("region"), null=True, blank=True, on_delete=models.SET_NULL
    )
    line = models.CharField(_("address"), max_length=200)
    postal_code = models.CharField(_("postal code"), max_length=12, blank=True)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    is_default = models.BooleanField(_("default address"), default=False)

    class Meta:
        verbose_name = _("address")
        verbose_name_plural = _("addresses")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(latitude__isnull=True) | models.Q(latitude__gte=-90, latitude__lte=90),
                name="address_latitude_range",
            ),
            models.CheckConstraint(
                condition=models.Q(longitude__isnull=True)
                | models.Q(longitude__gte=-180, longitude__lte=180),
                name="address_longitude_range",
            ),
        ]

    def __str__(self) -> str:
        return self.line
