"""Writes of product models and the installed base."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from aftersales.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from aftersales.core.models import User
from aftersales.core.roles import Capability
from aftersales.core.services import audit_record
from aftersales.customers.models import Address, Customer
from aftersales.customers.selectors import visible_customers

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
def installed_product_update(
    *, product: InstalledProduct, actor: User, changes: dict[str, Any]
) -> InstalledProduct:
    """Correct an installed product: its model, serial number, dates, address or notes."""
    if not actor.can(Capability.ASSET_EDIT):
        raise PermissionDenied()
    if not visible_customers(actor).filter(pk=product.customer_id).exists():
        raise NotFound(details={"installed_product": product.pk})
    unknown = set(changes) - {
        "product_model",
        "serial_number",
        "purchased_on",
        "installed_on",
        "address",
        "notes",
    }
    if unknown:
        raise ValidationFailed(details={name: _("This field cannot be changed.") for name in sorted(unknown)})
    if "serial_number" in changes:
        changes["serial_number"] = (changes["serial_number"] or "").strip()
        if not changes["serial_number"]:
            raise ValidationFailed(details={"serial_number": _("A serial number is required.")})
        taken = InstalledProduct.objects.filter(serial_number=changes["serial_number"]).exclude(pk=product.pk)
        if taken.exists():
            raise Conflict(
                _("Serial number %(serial)s is already registered.") % {"serial": changes["serial_number"]},
                details={"serial_number": changes["serial_number"]},
            )
    purchased_on = changes.get("purchased_on", product.purchased_on)
    installed_on = changes.get("installed_on", product.installed_on)
    if purchased_on and installed_on and installed_on < purchased_on:
        raise ValidationFailed(details={"installed_on": _("Installation cannot come before the purchase.")})
    address = changes.get("address", product.address)
    if address is not None and address.customer_id != product.customer_id:
        raise ValidationFailed(details={"address": _("This address belongs to another customer.")})
    before = {k: getattr(product, k) for k, v in changes.items() if getattr(product, k) != v}
    after = {k: changes[k] for k in before}
    if not after:
        return product
    try:
        with transaction.atomic():
            InstalledProduct.objects.filter(pk=product.pk).update(**after)
    except IntegrityError as exc:  # a concurrent registration of the same serial
        raise Conflict(details={"serial_number": after.get("serial_number")}) from exc
    for name, value in after.items():
        setattr(product, name, value)

    def plain(value: Any) -> Any:
        if isinstance(value, ProductModel):
            return value.code
        return getattr(value, "pk", value)

    audit_record(
        actor=actor,
        obj=product,
        action="installed_product.update",
        before={k: plain(v) for k, v in before.items()},
        after={k: plain(v) for k, v in after.items()},
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
