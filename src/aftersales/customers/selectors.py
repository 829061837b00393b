from __future__ import annotations

from django.db.models import Q, QuerySet

from aftersales.core.errors import NotFound
from aftersales.core.models import User
from aftersales.core.paging import keyset_page
from aftersales.core.roles import Capability

from .models import Customer


def visible_customers(user: User) -> QuerySet[Customer]:
    if user.can(Capability.CUSTOMER_VIEW):
        return Customer.objects.all()
    contact = getattr(user, "contact", None)
    if user.is_customer and contact is not None:
        return Customer.objects.filter(pk=contact.customer_id)
    return Customer.objects.none()


def customer_get_for_user(*, user: User, customer_id: int) -> Customer:
    customer = visible_customers(user).select_related("region").filter(pk=customer_id).first()
    if customer is None:
        raise NotFound(details={"customer": customer_id})
    return customer


def customer_search(
    *, user: User, q: str = "", cursor: str | None = None, limit: int = 25
) -> tuple[list[Customer], str | None]:
    """A page of the customers ``user`` may see matching ``q`` (number, name, phone, e-mail)."""
    qs = visible_customers(user).select_related("region").prefetch_related("contacts")
    term = q.strip()
    if term:
        qs = qs.filter(
            Q(code__iexact=term)
            | Q(name__icontains=term)
            | Q(phone__startswith=term)
            | Q(email__iexact=term)
            | Q(contacts__phone__startswith=term)
        ).distinct()
    return keyset_page(qs, cursor=cursor, limit=limit)


def customer_find_by_phone(*, phone: str) -> Customer | None:
    """Caller lookup for the phone log: the customer whose number (or a contact's) matches.

    Numbers are compared as typed and as bare digits, so "138 1234 5678" finds "13812345678".
    """
    typed = phone.strip()
    digits = "".join(ch for ch in typed if ch.isdigit() or ch == "+")
    if len(digits) < 5:
        return None
    candidates = {typed, digits}
    return (
        Customer.objects.filter(Q(phone__in=candidates) | Q(contacts__phone__in=candidates))
        .order_by("-id")
        .distinct()
        .first()
    )
