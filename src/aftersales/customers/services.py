"""Writes of customers, their contacts and addresses."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.core.errors import Conflict, PermissionDenied, ValidationFailed
from aftersales.core.events import publish
from aftersales.core.models import Region, User
from aftersales.core.roles import Capability
from aftersales.core.services import audit_record, next_number

from .events import CustomerTierChanged
from .models import Address, Contact, Customer, ValueTier

CUSTOMER_EDITABLE = ("name", "kind", "phone", "email", "value_tier", "region", "notes")


def format_customer_code(value: int) -> str:
    return f"C{value:07d}"


def _require(actor: User, capability: str) -> None:
    if not actor.can(capability):
        raise PermissionDenied()


def _validate_customer_fields(values: dict[str, Any]) -> None:
    if "name" in values:
        values["name"] = (values["name"] or "").strip()
        if not values["name"]:
            raise ValidationFailed(details={"name": _("A name is required.")})
    if "kind" in values and values["kind"] not in Customer.Kind.values:
        raise ValidationFailed(
            details={"kind": _("“%(value)s” is not a valid choice.") % {"value": values["kind"]}}
        )
    if "value_tier" in values and values["value_tier"] not in ValueTier.values:
        raise ValidationFailed(
            details={"value_tier": _("“%(value)s” is not a valid choice.") % {"value": values["value_tier"]}}
        )


@transaction.atomic
def customer_create(
    *,
    actor: User | None,
    name: str,
    kind: str = Customer.Kind.PERSON,
    phone: str = "",
    email: str = "",
    value_tier: str = ValueTier.POTENTIAL,
    region: Region | None = None,
    notes: str = "",
    contact_name: str = "",
) -> Customer:
    """Create a customer with its primary contact (a person is their own contact)."""
    if actor is not None:
        _require(actor, Capability.CUSTOMER_EDIT)
    values: dict[str, Any] = {"name": name, "kind": kind, "value_tier": value_tier}
    _validate_customer_fields(values)
    customer = Customer.objects.create(
        code=format_customer_code(next_number(sequence="customer")),
        phone=phone.strip(),
        email=email.strip().lower(),
        region=region,
        notes=notes,
        **values,
    )
    Contact.objects.create(
        customer=customer,
        name=(contact_name or customer.name).strip(),
        phone=customer.phone,
        email=customer.email,
        is_primary=True,
    )
    audit_record(
        actor=actor,
        obj=customer,
        action="customer.create",
        after={"code": customer.code, "name": customer.name, "kind": kind, "value_tier": value_tier},
    )
    return customer


@transaction.atomic
def customer_update(
    *, customer: Customer, actor: User, changes: dict[str, Any], expected_version: int | None = None
) -> Customer:
    _require(actor, Capability.CUSTOMER_EDIT)
    unknown = set(changes) - set(CUSTOMER_EDITABLE)
    if unknown:
        raise ValidationFailed(details={name: _("This field cannot be changed.") for name in sorted(unknown)})
    _validate_customer_fields(changes)
    before = {k: getattr(customer, k) for k, v in changes.items() if getattr(customer, k) != v}
    after = {k: changes[k] for k in before}
    version = customer.version if expected_version is None else expected_version
    if not after:
        return customer
    updated = Customer.objects.filter(pk=customer.pk, version=version).update(
        version=F("version") + 1, updated_at=timezone.now(), **after
    )
    if updated != 1:
        raise Conflict(details={"customer": customer.code})
    customer.refresh_from_db()
    audit_record(actor=actor, obj=customer, action="customer.update", before=before, after=after)
    if "value_tier" in after:
        # Open tickets carry the tier their SLA was chosen by; they follow the customer.
        publish(
            CustomerTierChanged(
                customer=customer, from_tier=before["value_tier"], to_tier=after["value_tier"], actor=actor
            )
        )
    return customer


@transaction.atomic
def contact_add(
    *,
    customer: Customer,
    actor: User | None,
    name: str,
    phone: str = "",
    email: str = "",
    wechat_openid: str = "",
    user: User | None = None,
) -> Contact:
    if actor is not None:
        _require(actor, Capability.CUSTOMER_EDIT)
    if not name.strip():
        raise ValidationFailed(details={"name": _("A name is required.")})
    contact = Contact.objects.create(
        customer=customer,
        name=name.strip(),
        phone=phone.strip(),
        email=email.strip().lower(),
        wechat_openid=wechat_openid.strip(),
        user=user,
        is_primary=not customer.contacts.exists(),
    )
    audit_record(
        actor=actor,
        obj=contact,
        action="contact.add",
        after={
            "customer": customer.code,
            "name": contact.name,
            "phone": contact.phone,
            "email": contact.email,
        },
    )
    return contact


@transaction.atomic
def address_add(
    *,
    customer: Customer,
    actor: User | None,
    line: str,
    region: Region | None = None,
    label: str = "",
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
    is_default: bool = False,
) -> Address:
    if actor is not None:
        _require(actor, Capability.CUSTOMER_EDIT)
    if not line.strip():
        raise ValidationFailed(details={"line": _("An address is required.")})
    if latitude is not None and not -90 <= latitude <= 90:
        raise ValidationFailed(details={"latitude": _("Latitude lies between -90 and 90.")})
    if longitude is not None and not -180 <= longitude <= 180:
        raise ValidationFailed(details={"longitude": _("Longitude lies between -180 and 180.")})
    first = not customer.addresses.exists()
    if is_default:
        customer.addresses.update(is_default=False)
    address = Address.objects.create(
        customer=customer,
        line=line.strip(),
        region=region,
        label=label,
        latitude=latitude,
        longitude=longitude,
        is_default=is_default or first,
    )
    audit_record(
        actor=actor,
        obj=address,
        action="address.add",
        after={"customer": customer.code, "line": address.line},
    )
    return address


def phone_key(phone: str) -> str:
    """A number as the lookups compare it: digits and a leading +, nothing else."""
    return "".join(ch for ch in phone.strip() if ch.isdigit() or ch == "+")


def _find_contact(*, email: str, phone: str, wechat_openid: str) -> Contact | None:
    # The most specific identifier wins: an openid names one person, a shared family phone does not.
    if wechat_openid:
        found = Contact.objects.filter(wechat_openid=wechat_openid).order_by("id").first()
        if found is not None:
            return found
    if email:
        found = Contact.objects.filter(email__iexact=email).order_by("id").first()
        if found is None:
            customer = Customer.objects.filter(email__iexact=email).order_by("id").first()
            found = customer.contacts.order_by("-is_primary", "id").first() if customer else None
        if found is not None:
            return found
    if phone:
        found = Contact.objects.filter(phone=phone).order_by("id").first()
        if found is None:
            customer = Customer.objects.filter(phone=phone).order_by("id").first()
            found = customer.contacts.order_by("-is_primary", "id").first() if customer else None
        if found is not None:
            return found
    return None


@transaction.atomic
def customer_identify(
    *,
    actor: User | None,
    name: str = "",
    email: str = "",
    phone: str = "",
    wechat_openid: str = "",
    channel: str = "",
) -> tuple[Customer, Contact, bool]:
    """The customer and contact behind a contact detail from any channel; created on first contact.

    Returns ``(customer, contact, created)``. Identifiers the matched contact lacks are learnt, so
    the same person writing by e-mail today and by WeChat tomorrow stays one customer.
    """
    email = email.strip().lower()
    phone = phone_key(phone)
    wechat_openid = wechat_openid.strip()
    if not (email or phone or wechat_openid):
        raise ValidationFailed(
            details={"contact": _("An e-mail address, phone number or WeChat openid is required.")}
        )
    contact = _find_contact(email=email, phone=phone, wechat_openid=wechat_openid)
    if contact is None:
        display = name.strip() or (email.split("@")[0] if email else phone or _("WeChat user"))
        customer = customer_create(actor=None, name=display[:120], email=email, phone=phone)
        contact = customer.contacts.get()
        if wechat_openid:
            contact.wechat_openid = wechat_openid
            contact.save(update_fields=["wechat_openid"])
        audit_record(
            actor=actor,
            obj=customer,
            action="customer.identify.create",
            after={"channel": channel, "email": email, "phone": phone, "wechat_openid": wechat_openid},
        )
        return customer, contact, True
    learnt = {
        field: value
        for field, value in (("email", email), ("phone", phone), ("wechat_openid", wechat_openid))
        if value and not getattr(contact, field)
    }
    if learnt:
        Contact.objects.filter(pk=contact.pk).update(**learnt)
        for field, value in learnt.items():
            setattr(contact, field, value)
        audit_record(
            actor=actor,
            obj=contact,
            action="contact.identify.learn",
            after={"channel": channel, **learnt},
        )
    return contact.customer, contact, False
