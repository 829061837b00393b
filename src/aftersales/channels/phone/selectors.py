"""Reads of the telephony app."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from aftersales.core.errors import PermissionDenied
from aftersales.core.models import User
from aftersales.core.paging import keyset_page
from aftersales.core.roles import Capability
from aftersales.customers.identity import normalize_phone, phone_spellings
from aftersales.customers.models import Customer
from aftersales.customers.selectors import customer_find_by_phone
from aftersales.tickets.lifecycle import OPEN_STATUSES
from aftersales.tickets.models import Ticket
from aftersales.tickets.selectors import visible_tickets

from .models import CallRecord


def caller_find(*, phone: str) -> Customer | None:
    """The customer behind a number however it is spelled (spaces, dashes, +86 / 0086)."""
    if sum(ch.isdigit() for ch in phone) < 5:
        return None
    return customer_find_by_phone(phone=phone)


def caller_open_tickets(*, user: User, customer: Customer, limit: int = 10) -> list[Ticket]:
    return list(
        visible_tickets(user)
        .filter(customer=customer, status__in=sorted(OPEN_STATUSES))
        .order_by("-updated_at", "-id")[:limit]
    )


def caller_recent_calls(*, customer: Customer, limit: int = 5) -> list[CallRecord]:
    return list(
        CallRecord.objects.filter(customer=customer)
        .select_related("ticket", "agent")
        .order_by("-started_at", "-id")[:limit]
    )


def calls_for_ticket(*, ticket: Ticket, limit: int = 50) -> list[CallRecord]:
    """The calls on a ticket, newest first (the caller of this selector has checked the ticket)."""
    return list(
        CallRecord.objects.filter(ticket=ticket)
        .select_related("agent")
        .order_by("-started_at", "-id")[:limit]
    )


def visible_calls(user: User) -> QuerySet[CallRecord]:
    if not (user.is_staff_member or user.is_superuser) or not user.is_active:
        raise PermissionDenied()
    qs = CallRecord.objects.all()
    if user.can(Capability.TICKET_VIEW_ALL):
        return qs
    return qs.filter(ticket__in=visible_tickets(user))


def call_page(
    *,
    user: User,
    ticket: Ticket | None = None,
    customer_id: int | None = None,
    status: str = "",
    number: str = "",
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[CallRecord], str | None]:
    qs = visible_calls(user).select_related("ticket", "agent", "customer")
    if ticket is not None:
        qs = qs.filter(ticket=ticket)
    if customer_id is not None:
        qs = qs.filter(customer_id=customer_id)
    if status:
        qs = qs.filter(status=status)
    if number:
        candidates = phone_spellings(normalize_phone(number)) | {number.strip()}
        qs = qs.filter(Q(caller_number__in=candidates) | Q(callee_number__in=candidates))
    return keyset_page(qs, cursor=cursor, limit=limit)
