"""Intake of a contact that arrives by telephone: find or create the caller, open the ticket."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from aftersales.assets.models import InstalledProduct
from aftersales.core.errors import ValidationFailed
from aftersales.core.models import User
from aftersales.customers.models import Contact, Customer
from aftersales.customers.selectors import customer_find_by_phone, customer_get_for_user
from aftersales.customers.services import customer_create

from ..models import Channel, Priority, Ticket, TicketType
from .lifecycle import ticket_open


def phone_digits(phone: str) -> str:
    return "".join(ch for ch in phone if ch.isdigit() or ch == "+")


def _caller(*, actor: User, phone: str, customer_id: int | None, customer_name: str) -> Customer:
    if customer_id is not None:
        return customer_get_for_user(user=actor, customer_id=customer_id)
    found = customer_find_by_phone(phone=phone)
    if found is not None:
        return found
    name = customer_name.strip()
    if not name:
        raise ValidationFailed(details={"customer_name": _("This number is new: enter the caller's name.")})
    # Stored as the digits the phone lookup compares against, so the next call finds this customer.
    return customer_create(actor=actor, name=name, phone=phone_digits(phone))


def _contact_for(customer: Customer, phone: str) -> Contact | None:
    digits = phone_digits(phone)
    contacts = list(customer.contacts.order_by("-is_primary", "id"))
    return next((c for c in contacts if digits and c.phone == digits), contacts[0] if contacts else None)


@transaction.atomic
def phone_call_log(
    *,
    actor: User,
    phone: str,
    subject: str,
    notes: str = "",
    type: str = TicketType.CONSULTATION,  # noqa: A002 - the domain word
    priority: str = Priority.NORMAL,
    customer_id: int | None = None,
    customer_name: str = "",
    installed_product_id: int | None = None,
) -> Ticket:
    """Open a phone ticket for the caller; a new caller becomes a customer in the same transaction."""
    if len(phone_digits(phone)) < 5:
        raise ValidationFailed(details={"phone": _("Enter the caller's telephone number.")})
    customer = _caller(actor=actor, phone=phone, customer_id=customer_id, customer_name=customer_name)
    product = None
    if installed_product_id is not None:
        product = InstalledProduct.objects.filter(customer=customer, pk=installed_product_id).first()
        if product is None:
            raise ValidationFailed(
                details={"installed_product": _("This product belongs to another customer.")}
            )
    return ticket_open(
        actor=actor,
        customer=customer,
        subject=subject,
        description=notes,
        type=type,
        priority=priority,
        channel=Channel.PHONE,
        installed_product=product,
        contact=_contact_for(customer, phone),
    )
