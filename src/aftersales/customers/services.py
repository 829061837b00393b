"""Writes of customers, their contacts and addresses."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from aftersales.core.events import publish
from aftersales.core.models import Region, User
from aftersales.core.roles import Capability, Role
from aftersales.core.services import audit_record, next_number

from .events import CustomersMerged, CustomerTierChanged
from .identity import normalize_email, normalize_openid, normalize_phone, phone_spellings
from .models import Address, Contact, ContactIdentity, Customer, IdentityKind, ValueTier
from .selectors import visible_customers

CUSTOMER_EDITABLE = ("name", "kind", "phone", "email", "value_tier", "region", "notes")


def format_customer_code(value: int) -> str:
    return f"C{value:07d}"


def _require(actor: User, capability: str) -> None:
    if not actor.can(capability):
        raise PermissionDenied()


def _require_in_scope(actor: User, *customers: Customer) -> None:
    """A customer outside the actor's scope does not exist for it (404, as for tickets)."""
    visible = set(
        visible_customers(actor).filter(pk__in=[c.pk for c in customers]).values_list("pk", flat=True)
    )
    for customer in customers:
        if customer.pk not in visible:
            raise NotFound(details={"customer": customer.pk})


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
    contact = Contact.objects.create(
        customer=customer,
        name=(contact_name or customer.name).strip(),
        phone=customer.phone,
        email=customer.email,
        is_primary=True,
    )
    identities_register(contact=contact, email=customer.email, phone=customer.phone, channel="")
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
    _require_in_scope(actor, customer)
    if customer.merged_into_id is not None:
        raise Conflict(_("This customer was merged into another one."), details={"customer": customer.code})
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
    if {"phone", "email"} & set(after):
        # The new number or address reaches the customer too (the old ones still do).
        primary = customer.contacts.order_by("-is_primary", "id").first()
        if primary is not None:
            identities_register(
                contact=primary, email=after.get("email", ""), phone=after.get("phone", ""), channel=""
            )
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
        _require_in_scope(actor, customer)
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
    identities_register(
        contact=contact,
        email=contact.email,
        phone=contact.phone,
        wechat_openid=contact.wechat_openid,
        channel="",
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
    postal_code: str = "",
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
    is_default: bool = False,
) -> Address:
    if actor is not None:
        _require(actor, Capability.CUSTOMER_EDIT)
        _require_in_scope(actor, customer)
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
        postal_code=postal_code.strip()[:12],
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


@transaction.atomic
def contact_update(*, contact: Contact, actor: User, changes: dict[str, Any]) -> Contact:
    """Edit a contact's name, phone, e-mail or make it the primary one. A new phone number or
    address is learnt as an identity (the old ones keep reaching the customer)."""
    _require(actor, Capability.CUSTOMER_EDIT)
    customer = contact.customer
    _require_in_scope(actor, customer)
    unknown = set(changes) - {"name", "phone", "email", "is_primary"}
    if unknown:
        raise ValidationFailed(details={name: _("This field cannot be changed.") for name in sorted(unknown)})
    if "name" in changes:
        changes["name"] = (changes["name"] or "").strip()
        if not changes["name"]:
            raise ValidationFailed(details={"name": _("A name is required.")})
    if "phone" in changes:
        changes["phone"] = (changes["phone"] or "").strip()
    if "email" in changes:
        changes["email"] = (changes["email"] or "").strip().lower()
    if changes.get("is_primary") is False and contact.is_primary:
        changes.pop("is_primary")  # another contact becomes primary by being made so
    before = {k: getattr(contact, k) for k, v in changes.items() if getattr(contact, k) != v}
    after = {k: changes[k] for k in before}
    if not after:
        return contact
    if after.get("is_primary"):
        Contact.objects.filter(customer=customer).exclude(pk=contact.pk).update(is_primary=False)
    Contact.objects.filter(pk=contact.pk).update(**after)
    for name, value in after.items():
        setattr(contact, name, value)
    Customer.objects.filter(pk=customer.pk).update(updated_at=timezone.now())
    identities_register(
        contact=contact, email=after.get("email", ""), phone=after.get("phone", ""), channel=""
    )
    audit_record(actor=actor, obj=contact, action="contact.update", before=before, after=after)
    return contact


@transaction.atomic
def address_update(*, address: Address, actor: User, changes: dict[str, Any]) -> Address:
    _require(actor, Capability.CUSTOMER_EDIT)
    _require_in_scope(actor, address.customer)
    unknown = set(changes) - {"label", "line", "region", "postal_code", "is_default"}
    if unknown:
        raise ValidationFailed(details={name: _("This field cannot be changed.") for name in sorted(unknown)})
    if "line" in changes:
        changes["line"] = (changes["line"] or "").strip()
        if not changes["line"]:
            raise ValidationFailed(details={"line": _("An address is required.")})
    if changes.get("is_default") is False and address.is_default:
        changes.pop("is_default")  # another address becomes the default by being made so
    before = {k: getattr(address, k) for k, v in changes.items() if getattr(address, k) != v}
    after = {k: changes[k] for k in before}
    if not after:
        return address
    if after.get("is_default"):
        Address.objects.filter(customer_id=address.customer_id).exclude(pk=address.pk).update(
            is_default=False
        )
    Address.objects.filter(pk=address.pk).update(**after)
    for name, value in after.items():
        setattr(address, name, value)
    audit_record(
        actor=actor,
        obj=address,
        action="address.update",
        before={k: getattr(v, "pk", v) for k, v in before.items()},
        after={k: getattr(v, "pk", v) for k, v in after.items()},
    )
    return address


# --- identities: one customer on every channel --------------------------------------------------

# The most specific identifier first: an openid names one person, a shared family phone does not.
IDENTITY_ORDER = (IdentityKind.WECHAT_OPENID, IdentityKind.EMAIL, IdentityKind.PHONE)
IDENTIFY_ATTEMPTS = 4


def _identity_keys(*, email: str, phone: str, wechat_openid: str) -> list[tuple[str, str]]:
    values = {
        IdentityKind.WECHAT_OPENID: normalize_openid(wechat_openid),
        IdentityKind.EMAIL: normalize_email(email),
        IdentityKind.PHONE: normalize_phone(phone),
    }
    return [(kind, values[kind]) for kind in IDENTITY_ORDER if values[kind]]


def identities_register(
    *, contact: Contact, email: str = "", phone: str = "", wechat_openid: str = "", channel: str = ""
) -> list[ContactIdentity]:
    """Record the contact's identifiers; a value another contact already receives is recorded
    as not routing (which the duplicate finder reports). Safe under concurrency: each insert is
    its own savepoint, so a value taken meanwhile by another transaction is recorded as not
    routing instead of failing the caller."""
    created: list[ContactIdentity] = []
    for kind, value in _identity_keys(email=email, phone=phone, wechat_openid=wechat_openid):
        identity = _identity_add(contact=contact, kind=kind, value=value, channel=channel)
        if identity is not None:
            created.append(identity)
    return created


def _identity_add(*, contact: Contact, kind: str, value: str, channel: str) -> ContactIdentity | None:
    if ContactIdentity.objects.filter(contact=contact, kind=kind, value=value).exists():
        return None
    routing = not ContactIdentity.objects.filter(kind=kind, value=value, is_routing=True).exists()
    try:
        with transaction.atomic():
            return ContactIdentity.objects.create(
                contact=contact, kind=kind, value=value, is_routing=routing, channel=channel[:16]
            )
    except IntegrityError:
        if not routing:
            return None  # recorded by a concurrent call for this very contact
    try:
        with transaction.atomic():
            return ContactIdentity.objects.create(
                contact=contact, kind=kind, value=value, is_routing=False, channel=channel[:16]
            )
    except IntegrityError:
        return None


def _routing_contact(keys: list[tuple[str, str]]) -> Contact | None:
    """The contact receiving the most specific of ``keys``, through the identity table."""
    if not keys:
        return None
    condition = Q()
    for kind, value in keys:
        condition |= Q(kind=kind, value=value)
    rows = {
        (row.kind, row.value): row
        for row in ContactIdentity.objects.filter(condition, is_routing=True).select_related(
            "contact__customer"
        )
    }
    for key in keys:
        if key in rows:
            return rows[key].contact
    return None


def _legacy_contact(keys: list[tuple[str, str]]) -> Contact | None:
    """A contact written without identities (bulk loads, older data) holding one of ``keys``."""
    for kind, value in keys:
        if kind == IdentityKind.WECHAT_OPENID:
            found = Contact.objects.filter(wechat_openid=value).order_by("id").first()
        elif kind == IdentityKind.EMAIL:
            found = Contact.objects.filter(email__iexact=value).order_by("id").first()
            if found is None:
                owner = Customer.objects.filter(email__iexact=value, merged_into__isnull=True).first()
                found = owner.contacts.order_by("-is_primary", "id").first() if owner else None
        else:
            spellings = phone_spellings(value)
            found = Contact.objects.filter(phone__in=spellings).order_by("id").first()
            if found is None:
                owner = Customer.objects.filter(phone__in=spellings, merged_into__isnull=True).first()
                found = owner.contacts.order_by("-is_primary", "id").first() if owner else None
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
    language: str = "",
) -> tuple[Customer, Contact, bool]:
    """The customer and contact behind a contact detail from any channel; created on first contact.

    ``language`` ("zh-hans"/"en", the language the contact wrote in) is kept for a new customer,
    so its notifications go out in that language; a known customer keeps its own.

    Returns ``(customer, contact, created)``. E-mail addresses are compared case-insensitively,
    phone numbers in their canonical form (``+86``, ``0086``, spaces and dashes do not matter),
    openids exactly. Identifiers the matched contact lacks are learnt, so the same person writing
    by e-mail today and by WeChat tomorrow stays one customer. Two first contacts from the same
    address at once create one customer: the identity's unique constraint refuses the second
    insert, and the loser finds the winner's customer.
    """
    keys = _identity_keys(email=email, phone=phone, wechat_openid=wechat_openid)
    if not keys:
        raise ValidationFailed(
            details={"contact": _("An e-mail address, phone number or WeChat openid is required.")}
        )
    values = dict(keys)
    channel = (channel or "")[:16]
    for _attempt in range(IDENTIFY_ATTEMPTS):
        contact = _routing_contact(keys) or _legacy_contact(keys)
        if contact is not None:
            return contact.customer, _learn(contact=contact, keys=keys, channel=channel, actor=actor), False
        try:
            with transaction.atomic():
                created = _create_from_contact(
                    name=name, values=values, channel=channel, actor=actor, language=language
                )
                return (*created, True)
        except IntegrityError:
            continue  # a concurrent first contact won; the next lookup finds its customer
    raise Conflict(details={"contact": _("Please try again.")})


def _create_from_contact(
    *, name: str, values: dict[str, str], channel: str, actor: User | None, language: str = ""
) -> tuple[Customer, Contact]:
    email = values.get(IdentityKind.EMAIL, "")
    phone = values.get(IdentityKind.PHONE, "")
    openid = values.get(IdentityKind.WECHAT_OPENID, "")
    display = name.strip() or (email.split("@")[0] if email else phone or str(_("WeChat user")))
    customer = Customer.objects.create(
        code=format_customer_code(next_number(sequence="customer")),
        name=display[:120],
        phone=phone,
        email=email,
        language=language
        if language in dict(settings.LANGUAGES)
        else Customer._meta.get_field("language").default,
    )
    contact = Contact.objects.create(
        customer=customer, name=display[:80], phone=phone, email=email, wechat_openid=openid, is_primary=True
    )
    for kind, value in values.items():
        # No savepoint: a value taken meanwhile must undo this customer (the caller retries).
        ContactIdentity.objects.create(
            contact=contact, kind=kind, value=value, is_routing=True, channel=channel
        )
    audit_record(
        actor=actor,
        obj=customer,
        action="customer.identify.create",
        after={"channel": channel, "email": email, "phone": phone, "wechat_openid": openid},
    )
    return customer, contact


def _learn(*, contact: Contact, keys: list[tuple[str, str]], channel: str, actor: User | None) -> Contact:
    """Record the identifiers of this contact the matched contact lacks, and fill empty fields."""
    learnt: dict[str, str] = {}
    for kind, value in keys:
        identity = _identity_add(contact=contact, kind=kind, value=value, channel=channel)
        if identity is not None:
            learnt[kind] = value
    fields = {
        field: learnt[kind]
        for kind, field in (
            (IdentityKind.EMAIL, "email"),
            (IdentityKind.PHONE, "phone"),
            (IdentityKind.WECHAT_OPENID, "wechat_openid"),
        )
        if kind in learnt and not getattr(contact, field)
    }
    if fields:
        Contact.objects.filter(pk=contact.pk).update(**fields)
        for field, value in fields.items():
            setattr(contact, field, value)
    if learnt:
        audit_record(
            actor=actor, obj=contact, action="contact.identify.learn", after={"channel": channel, **learnt}
        )
    return contact


# --- merging duplicates -------------------------------------------------------------------------


def can_merge_customers(user: User) -> bool:
    """Merging customers rewrites history across channels: supervisors and administrators only."""
    return bool(
        user.is_active
        and user.can(Capability.CUSTOMER_EDIT)
        and (user.is_superuser or user.role in (Role.ADMIN, Role.SUPERVISOR))
    )


@transaction.atomic
def customer_merge(*, actor: User, source: Customer, target: Customer) -> Customer:
    """Fold the duplicate ``source`` into ``target``: its contacts (with their identities),
    addresses, installed products and tickets move; ``source`` stays, marked merged, for the
    audit trail. Tickets and installed products live in higher apps, which follow the
    ``CustomersMerged`` event inside this transaction.
    """
    if not can_merge_customers(actor):
        raise PermissionDenied()
    _require_in_scope(actor, target, source)
    if source.pk == target.pk:
        raise ValidationFailed(details={"source_id": _("A customer cannot be merged into itself.")})
    # Lock both rows in id order (two merges of the same pair cannot deadlock) and re-read them.
    locked = {
        c.pk: c for c in Customer.objects.select_for_update().filter(pk__in=sorted([source.pk, target.pk]))
    }
    if len(locked) != 2:
        raise Conflict()
    source, target = locked[source.pk], locked[target.pk]
    if source.merged_into_id is not None:
        raise Conflict(
            _("This customer was already merged into another one."), details={"source_id": source.pk}
        )
    if target.merged_into_id is not None:
        raise Conflict(_("This customer was already merged into another one."), details={"target": target.pk})

    contact_ids = list(source.contacts.values_list("id", flat=True))
    address_ids = list(source.addresses.values_list("id", flat=True))
    removed = _identities_deduplicate(source=source, target=target)
    source.contacts.update(customer=target, is_primary=False)
    if not target.contacts.exclude(pk__in=contact_ids).exists() and contact_ids:
        Contact.objects.filter(pk=min(contact_ids)).update(is_primary=True)
    has_default = target.addresses.filter(is_default=True).exists()
    source.addresses.update(customer=target, is_default=False)
    if not has_default and address_ids:
        Address.objects.filter(pk=min(address_ids)).update(is_default=True)
    learnt = {
        field: getattr(source, field)
        for field in ("phone", "email", "region_id")
        if getattr(source, field) and not getattr(target, field)
    }
    now = timezone.now()
    Customer.objects.filter(pk=target.pk).update(version=F("version") + 1, updated_at=now, **learnt)
    updated = Customer.objects.filter(pk=source.pk, merged_into__isnull=True).update(
        merged_into=target, merged_at=now, version=F("version") + 1, updated_at=now
    )
    if updated != 1:
        raise Conflict()
    source.refresh_from_db()
    target.refresh_from_db()
    # Tickets (tickets app) and installed products (assets app) follow inside this transaction.
    publish(CustomersMerged(source=source, target=target, actor=actor))
    audit_record(
        actor=actor,
        obj=source,
        action="customer.merge",
        before={"merged_into": None},
        after={
            "merged_into": target.code,
            "contacts": contact_ids,
            "addresses": address_ids,
            "identities_removed": removed,
        },
    )
    audit_record(
        actor=actor,
        obj=target,
        action="customer.merge.receive",
        after={"source": source.code, "contacts": contact_ids, "addresses": address_ids, **learnt},
    )
    return target


def _identities_deduplicate(*, source: Customer, target: Customer) -> list[str]:
    """Drop the source's identity rows whose value the target already holds (keeping the one
    that routes), so after the move every value appears once per customer."""
    target_rows = {
        (row.kind, row.value): row for row in ContactIdentity.objects.filter(contact__customer=target)
    }
    removed: list[str] = []
    for row in ContactIdentity.objects.filter(contact__customer=source).order_by("id"):
        kept = target_rows.get((row.kind, row.value))
        if kept is None:
            continue
        removed.append(f"{row.kind}:{row.value}")
        row.delete()
        if row.is_routing and not kept.is_routing:
            ContactIdentity.objects.filter(pk=kept.pk).update(is_routing=True)
    return removed
