"""Reads the console and the portal need beyond the domain selectors, scoped to the user."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Q, QuerySet

from aftersales.assets.models import InstalledProduct
from aftersales.core.models import Team, User
from aftersales.core.roles import Role
from aftersales.customers.models import Address, Contact, Customer
from aftersales.sla.selectors import ticket_sla_badges, tickets_by_time_to_breach
from aftersales.tickets.lifecycle import OPEN_STATUSES, TicketStatus
from aftersales.tickets.models import Ticket, TicketLink
from aftersales.tickets.selectors import (
    TicketFilters,
    TicketPage,
    customer_id_for,
    ticket_list_for_user,
    visible_tickets,
)
from aftersales.tickets.sorting import SORT_NEWEST, sorted_page

QUEUE_MINE = "mine"
QUEUE_TEAM = "team"
QUEUE_UNASSIGNED = "unassigned"
QUEUE_ALL = "all"
QUEUE_AT_RISK = "at-risk"  # open tickets by time to breach (SLA)
QUEUES = (QUEUE_MINE, QUEUE_TEAM, QUEUE_UNASSIGNED, QUEUE_AT_RISK, QUEUE_ALL)

# Working queues list what is still to be done; "all" lists everything.
OPEN_STATUS_VALUES = sorted(str(status) for status in OPEN_STATUSES)


@dataclass
class QueueFilters(TicketFilters):
    """The domain filters plus "any of these teams", which the "my team" queue needs."""

    team_ids: list[int] = field(default_factory=list)
    restrict_to_teams: bool = False

    def apply(self, qs: QuerySet[Ticket]) -> QuerySet[Ticket]:
        qs = super().apply(qs)
        if self.restrict_to_teams:
            qs = qs.filter(team_id__in=self.team_ids)
        return qs


def queues_for(user: User) -> tuple[str, ...]:
    """A technician only has its own jobs; the service desk has every queue."""
    if user.role == Role.TECHNICIAN and not user.is_superuser:
        return (QUEUE_MINE, QUEUE_AT_RISK, QUEUE_ALL)
    return QUEUES


def user_team_ids(user: User) -> list[int]:
    """The teams the user belongs to or leads (one query)."""
    return sorted(
        set(Team.objects.filter(Q(members=user) | Q(lead=user)).values_list("id", flat=True).distinct())
    )


def _narrow(*, user: User, queue: str, filters: QueueFilters, team_ids: list[int] | None) -> None:
    """What makes a working queue: whose tickets, and only unfinished ones unless a status is asked."""
    if queue == QUEUE_MINE:
        filters.assignee = user.pk
    elif queue == QUEUE_TEAM:
        filters.team_ids = user_team_ids(user) if team_ids is None else team_ids
        filters.restrict_to_teams = True
    elif queue == QUEUE_UNASSIGNED:
        filters.unassigned = True
    if queue != QUEUE_ALL and not filters.status:
        filters.status = list(OPEN_STATUS_VALUES)


def queue_queryset(
    *, user: User, queue: str, filters: QueueFilters, team_ids: list[int] | None = None
) -> QuerySet[Ticket]:
    """Every ticket of a queue the user may see, with its filters: unpaged and unordered (for the
    tab counts and exports). The at-risk queue keeps what its page shows: tickets with a due time."""
    if queue == QUEUE_AT_RISK:
        qs = visible_tickets(user).filter(sla__next_due_at__isnull=False)
        return qs.filter(team_id=filters.team) if filters.team is not None else qs
    _narrow(user=user, queue=queue, filters=filters, team_ids=team_ids)
    return filters.apply(visible_tickets(user))


def queue_page(
    *,
    user: User,
    queue: str,
    filters: QueueFilters,
    cursor: str | None = None,
    limit: int = 25,
    sort: str = SORT_NEWEST,
    team_ids: list[int] | None = None,
) -> TicketPage:
    if queue == QUEUE_AT_RISK:
        items, next_cursor = tickets_by_time_to_breach(
            user=user, cursor=cursor, limit=limit, team_id=filters.team
        )
        return TicketPage(items=items, next_cursor=next_cursor)
    _narrow(user=user, queue=queue, filters=filters, team_ids=team_ids)
    if not sort or sort == SORT_NEWEST:
        return ticket_list_for_user(user=user, filters=filters, cursor=cursor, limit=limit)
    qs = filters.apply(visible_tickets(user)).select_related("customer", "assignee", "team", "region")
    items, next_cursor = sorted_page(qs, sort=sort, cursor=cursor, limit=max(1, min(limit, 100)))
    return TicketPage(items=items, next_cursor=next_cursor)


TAB_COUNT_CAP = 999


def capped_counts(querysets: dict[str, QuerySet[Ticket]], *, cap: int | None = None) -> dict[str, int]:
    """``{name: min(count, cap + 1)}`` for each queryset, in ONE query whatever their number:
    each count reads at most ``cap + 1`` rows through its queue's index, so a queue of a million
    tickets costs what one of a thousand does ("999+")."""
    cap = TAB_COUNT_CAP if cap is None else cap
    counts = dict.fromkeys(querysets, 0)
    names: list[str] = []
    parts: list[str] = []
    params: list[Any] = []
    alias = "default"
    for name, qs in querysets.items():
        alias = qs.db
        try:
            sql, sql_params = qs.order_by().values("pk")[: cap + 1].query.sql_with_params()
        except EmptyResultSet:  # e.g. "my team" for someone in no team: nothing to count
            continue
        names.append(name)
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS capped)")  # noqa: S608 - ORM-compiled SQL
        params.extend(sql_params)
    if not parts:
        return counts
    # Only SQL compiled by the ORM is joined here; every value stays a bound parameter.
    statement = "SELECT " + ", ".join(parts)
    with connections[alias].cursor() as cursor:
        cursor.execute(statement, params)
        row = cursor.fetchone()
    counts.update({name: int(value) for name, value in zip(names, row, strict=True)})
    return counts


def queue_tab_counts(*, user: User, queues: tuple[str, ...], team_ids: list[int]) -> dict[str, int]:
    """How many tickets each queue tab holds (capped, one query)."""
    return capped_counts(
        {
            name: queue_queryset(user=user, queue=name, filters=QueueFilters(), team_ids=team_ids)
            for name in queues
        }
    )


def attach_sla_badges(tickets: list[Ticket]) -> None:
    """Give each ticket of a queue page ``sla_state`` and ``sla_due_at`` (one query for the page)."""
    badges = ticket_sla_badges([t.pk for t in tickets])
    for ticket in tickets:
        state, due_at = badges.get(ticket.pk, ("", None))
        ticket.sla_state, ticket.sla_due_at = state, due_at  # type: ignore[attr-defined]


def active_teams() -> list[Team]:
    return list(Team.objects.filter(is_active=True).order_by("code"))


def assignable_staff() -> list[User]:
    return list(
        User.objects.filter(is_active=True)
        .exclude(role=Role.CUSTOMER)
        .order_by("role", "display_name", "username")
    )


def customer_other_tickets(*, user: User, ticket: Ticket, limit: int = 8) -> list[Ticket]:
    return list(
        visible_tickets(user)
        .filter(customer_id=ticket.customer_id)
        .exclude(pk=ticket.pk)
        .order_by("-id")[:limit]
    )


def service_address(*, ticket: Ticket) -> Address | None:
    """Where the job is: the installed product's address, else the customer's default (or first)
    address. One query."""
    addresses = Address.objects.select_related("region")
    product = ticket.installed_product
    if product is not None and product.address_id:
        return addresses.filter(pk=product.address_id).first()
    return addresses.filter(customer_id=ticket.customer_id).order_by("-is_default", "id").first()


def customer_contacts(*, customer: Customer) -> list[Contact]:
    return list(customer.contacts.order_by("-is_primary", "id"))


def customer_recent_tickets(*, user: User, customer: Customer, limit: int = 5) -> list[Ticket]:
    return list(visible_tickets(user).filter(customer_id=customer.pk).order_by("-id")[:limit])


def linked_tickets(*, user: User, ticket: Ticket) -> list[Ticket]:
    """Tickets linked to ``ticket`` either way, limited to those the user may see."""
    links = TicketLink.objects.filter(Q(from_ticket=ticket) | Q(to_ticket=ticket)).values_list(
        "from_ticket_id", "to_ticket_id"
    )
    other_ids = {a if b == ticket.pk else b for a, b in links}
    if not other_ids:
        return []
    return list(visible_tickets(user).filter(pk__in=other_ids).order_by("-id"))


def installed_products_of(*, customer_id: int | None) -> list[InstalledProduct]:
    if customer_id is None:
        return []
    return list(
        InstalledProduct.objects.filter(customer_id=customer_id)
        .select_related("product_model")
        .order_by("-id")
    )


def portal_customer(user: User) -> Customer | None:
    customer_id = customer_id_for(user)
    if customer_id is None:
        return None
    return Customer.objects.filter(pk=customer_id).first()


def can_see_admin(user: User) -> bool:
    # Django's admin lets in only staff accounts; a link it would refuse is worse than none.
    return user.is_active and user.is_staff


def status_label(value: str) -> str:
    return str(dict(TicketStatus.choices).get(value, value))
