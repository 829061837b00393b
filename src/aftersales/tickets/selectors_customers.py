"""The customer list of the console: search, filters, a total and keyset pages, each customer
with its count of open tickets. It lives with the tickets because "has open tickets" is a
question about them; the scope is the customers' own (``customer_scope_for``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from aftersales.core.models import User
from aftersales.core.paging import keyset_page
from aftersales.customers.identity import normalize_email, normalize_phone, phone_spellings
from aftersales.customers.models import ContactIdentity, Customer, IdentityKind
from aftersales.customers.selectors import region_with_descendants, visible_customers

from .lifecycle import OPEN_STATUSES
from .models import Ticket

PAGE_SIZE = 25


@dataclass
class CustomerFilters:
    q: str = ""
    region_id: int | None = None
    tier: str = ""
    has_open_tickets: bool | None = None


@dataclass
class CustomerPage:
    items: list[Customer]
    next_cursor: str | None
    total: int
    open_counts: dict[int, int] = field(default_factory=dict)


def _search(qs: QuerySet[Customer], term: str) -> QuerySet[Customer]:
    """Number, name, e-mail, and a phone number in any spelling ("138 1234 5678", "+86…",
    "0086…"): the canonical number is matched through the identities, older records through the
    usual spellings; a shorter run of digits matches the start of a number."""
    condition = Q(code__iexact=term) | Q(name__icontains=term) | Q(email__iexact=term)
    email = normalize_email(term)
    if email:
        condition |= Q(
            Exists(
                ContactIdentity.objects.filter(
                    contact__customer=OuterRef("pk"), kind=IdentityKind.EMAIL, value=email
                )
            )
        ) | Q(contacts__email__iexact=email)
    digits = "".join(ch for ch in term if ch.isdigit())
    if len(digits) >= 7:
        canonical = normalize_phone(term)
        spellings = phone_spellings(canonical) | {term}
        condition |= (
            Q(phone__in=spellings)
            | Q(contacts__phone__in=spellings)
            | Q(
                Exists(
                    ContactIdentity.objects.filter(
                        contact__customer=OuterRef("pk"), kind=IdentityKind.PHONE, value=canonical
                    )
                )
            )
        )
    elif len(digits) >= 4 and len(digits) == len(term.replace(" ", "").replace("-", "")):
        condition |= Q(phone__startswith=digits) | Q(contacts__phone__startswith=digits)
    return qs.filter(condition).distinct()


def customer_list_for_user(
    *, user: User, filters: CustomerFilters, cursor: str | None = None, limit: int = PAGE_SIZE
) -> CustomerPage:
    """A page of the customers ``user`` may see (merged duplicates hidden), newest first, with the
    number of all matches and each row's open tickets (a fixed number of queries)."""
    qs = visible_customers(user).filter(merged_into__isnull=True)
    if filters.region_id is not None:
        qs = qs.filter(region_id__in=region_with_descendants([filters.region_id]))
    if filters.tier:
        qs = qs.filter(value_tier=filters.tier)
    if filters.has_open_tickets is not None:
        open_work = Exists(Ticket.objects.filter(customer=OuterRef("pk"), status__in=sorted(OPEN_STATUSES)))
        qs = qs.filter(open_work if filters.has_open_tickets else ~open_work)
    term = filters.q.strip()
    if term:
        qs = _search(qs, term)
    total = qs.count()
    items, next_cursor = keyset_page(qs.select_related("region"), cursor=cursor, limit=limit)
    counts: dict[int, int] = {}
    if items:
        counts = dict(
            Ticket.objects.filter(customer_id__in=[c.pk for c in items], status__in=sorted(OPEN_STATUSES))
            .values("customer_id")
            .annotate(n=Count("id"))
            .values_list("customer_id", "n")
        )
    for customer in items:
        customer.open_ticket_count = counts.get(customer.pk, 0)  # type: ignore[attr-defined]
    return CustomerPage(items=items, next_cursor=next_cursor, total=total, open_counts=counts)
