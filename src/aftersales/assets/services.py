"""Writes of product models and the installed base."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from aftersales.core.errors import Conflict, PermissionDenied, ValidationFailed
from aftersales.core.models import User
from aftersales.core.roles import Capability
from aftersales.core.services import audit_record
from aftersales.customers.models import Address, Customer

from .models import InstalledProduct, ProductCategory, ProductModel


@transaction.atomic
def product_model_create(
    *, actor: User | None, code: str, name: str, category: str, warranty_months: int = 36, name_en: str = ""
) -> ProductModel:
    if actor is not None and not actor.can(Capability.CONFIGURE):
        raise PermissionDenied()
    if category not in ProductCategory.values:
        raise ValidationFailed(
            details={"category": _("“%(value)s” is not a valid choice.") % {"value": category}}
        )
    if not 0 <= warranty_months <= 600:
        raise ValidationFailed(details={"warranty_months": _("Between 0 and 600 months.")})
    model = ProductModel.objects.create(
        code=code.strip(),
        name=name.strip(),
        name_en=name_en.strip(),
        category=category,
        warranty_months=warranty_months,
    )
    audit_record(
        actor=actor,
        obj=model,
        action="product_model.create",
        after={"code": model.code, "name": model.name, "warranty_months": warranty_months},
    )
    return model


@transaction.atomic
def installed_product_register(
    *,
    actor: User | None,
    customer: Customer,
    product_model: ProductModel,
    serial_number: str,
    purchased_on: dt.date | None = None,
    installed_on: dt.date | None = None,
    address: Address | None = None,
    notes: str = "",
) -> InstalledProduct:
    if actor is not None and not actor.can(Capability.ASSET_EDIT):
        raise PermissionDenied()
    serial_number = serial_number.strip()
    if not serial_number:
        raise ValidationFailed(details={"serial_number": _("A serial number is required.")})
    if purchased_on and installed_on and installed_on < purchased_on:
        raise ValidationFailed(details={"installed_on": _("Installation cannot come before the purchase.")})
    if address is not None and address.customer_id != customer.pk:
        raise ValidationFailed(details={"address": _("This address belongs to another customer.")})
    if InstalledProduct.objects.filter(serial_number=serial_number).exists():
        raise Conflict(
            _("Serial number %(serial)s is already registered.") % {"serial": serial_number},
            details={"serial_number": serial_number},
        )
    try:
        with transaction.atomic():
            product = InstalledProduct.objects.create(
                serial_number=serial_number,
                product_model=product_model,
                customer=customer,
                address=address,
                purchased_on=purchased_on,
                installed_on=installed_on,
                notes=notes,
            )
    except IntegrityError as exc:  # a concurrent registration of the same serial
        raise Conflict(details={"serial_number": serial_number}) from exc
    audit_record(
        actor=actor,
        obj=product,
        action="installed_product.register",
        after={
            "serial_number": serial_number,
            "model": product_model.code,
            "customer": customer.code,
            "purchased_on": purchased_on,
            "installed_on": installed_on,
        },
    )
    return product


@transaction.atomic
def installed_products_follow_customer_merge(*, source_id: int, target_id: int, actor: User | None) -> int:
    """Installed products of a customer merged into another now belong to that one (their
    addresses moved with the customer). Runs in ``customer_merge``'s transaction (``CustomersMerged``)."""
    serials = list(
        InstalledProduct.objects.filter(customer_id=source_id)
        .order_by("id")
        .values_list("serial_number", flat=True)
    )
    moved = InstalledProduct.objects.filter(customer_id=source_id).update(customer_id=target_id)
    if moved:
        target = Customer.objects.get(pk=target_id)
        audit_record(
            actor=actor,
            obj=target,
            action="installed_product.follow_customer_merge",
            after={"from_customer": source_id, "serial_numbers": serials},
        )
    return moved
