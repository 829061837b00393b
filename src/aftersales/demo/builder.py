"""Builds the whole demo company: the one entry point behind ``aftersales seed_demo``.

Tickets, messages and status changes are written with ``bulk_create`` in batches, numbered here
(T0000001 …) instead of drawing each number from the sequence, and the sequences are moved past
them at the end, so ``ticket_open`` continues after the seeded tickets. Services are bypassed for
the bulk rows on purpose: a million ``ticket_open`` calls would take hours and write a million
audit rows nobody asked for. One summary audit event records the run instead.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from aftersales.core.models import AuditEvent, BusinessCalendar
from aftersales.core.services import sequence_advance_to
from aftersales.customers.models import Contact, Customer
from aftersales.sla.clocks import ticket_sla_replay_history
from aftersales.sla.defaults import install_defaults
from aftersales.sla.models import SlaEscalationRule, SlaPolicy
from aftersales.tickets.lifecycle import FINAL_STATUSES, TicketStatus
from aftersales.tickets.models import Tag, Ticket, TicketMessage, TicketStatusChange
from aftersales.tickets.search import reindex_tickets

from .catalogue import TAGS
from .customers import build_customers
from .knowledge import seed_knowledge
from .organisation import build_organisation, build_regions
from .promises import Promises
from .tickets import TicketMaker

# Up to this many tickets everything is one transaction (all or nothing); above it each batch
# commits on its own so a million-ticket load does not hold one giant transaction.
SINGLE_TRANSACTION_LIMIT = 100_000
Progress = Callable[[str, int], Callable[[int], None]]


@dataclass
class SeedResult:
    counts: dict[str, int] = field(default_factory=dict)
    logins: list[tuple[str, str]] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    anchor: dt.datetime | None = None


def default_customer_count(tickets: int) -> int:
    """A few thousand customers for the demo; enough that no customer has hundreds of tickets at scale."""
    return max(min(3000, max(200, tickets * 3 // 2)), tickets // 8)


def default_anchor() -> dt.datetime:
    """Now, to the minute: the history ends at the moment of the first start, so the queues, the
    countdowns and the first SLA sweep see a desk in the middle of its day (a history ending at
    midnight left every ticket opened since then overdue at once)."""
    return timezone.localtime().replace(second=0, microsecond=0)


def _last_number(model: type[Customer] | type[Ticket], field_name: str, prefix: str) -> int:
    values = model.objects.filter(**{f"{field_name}__regex": rf"^{prefix}[0-9]+$"}).order_by("-id")
    last = values.values_list(field_name, flat=True).first()
    return int(last[1:]) if last else 0


def _no_progress(_label: str, _total: int) -> Callable[[int], None]:
    return lambda _n: None


FINISHED = sorted({*FINAL_STATUSES, TicketStatus.RESOLVED})
SLA_REPLAY_LIMIT = 5_000  # the most recent tickets; older ones at 1M scale stay without clocks
SLA_HISTORY_DAYS = 35  # finished tickets opened since then get clocks (the report shows 30 days)


def _replay_sla(*, first_number: int, since: dt.datetime, limit: int, progress: Progress) -> int:
    """Replay the SLA clocks of this run's unfinished tickets and of those opened since ``since``
    (newest first, at most ``limit``), one ticket per transaction."""
    seeded = Ticket.objects.filter(number__gte=f"T{first_number:07d}", number__regex=r"^T[0-9]+$")
    recent = seeded.filter(Q(created_at__gte=since) | ~Q(status__in=FINISHED)).order_by("-id")[:limit]
    ids = list(recent.values_list("pk", flat=True))
    replay = progress("SLA clocks", len(ids))
    history: dict[int, list[tuple[str, str, dt.datetime]]] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        history.clear()
        for ticket_id, from_status, to_status, at in (
            TicketStatusChange.objects.filter(ticket_id__in=chunk)
            .order_by("ticket_id", "occurred_at", "id")
            .values_list("ticket_id", "from_status", "to_status", "occurred_at")
        ):
            history.setdefault(ticket_id, []).append((from_status, to_status, at))
        for ticket in Ticket.objects.filter(pk__in=chunk):
            ticket_sla_replay_history(ticket=ticket, changes=history.get(ticket.pk, []))
            replay(1)
    return len(ids)


def seed_demo(
    *,
    seed: int = 1,
    tickets: int = 2000,
    customers: int | None = None,
    anchor: dt.datetime | None = None,
    days: int = 90,
    batch_size: int = 5000,
    progress: Progress = _no_progress,
) -> SeedResult:
    rng = random.Random(seed)
    anchor = anchor or default_anchor()
    customer_count = customers if customers is not None else default_customer_count(tickets)
    result = SeedResult(anchor=anchor)
    started = time.monotonic()
    outer = transaction.atomic() if tickets <= SINGLE_TRANSACTION_LIMIT else contextlib.nullcontext()
    with outer:
        with transaction.atomic():
            org = build_organisation(rng=rng, places=build_regions())
            portal_user = org.portal_user
            if portal_user is not None and Contact.objects.filter(user=portal_user).exists():
                portal_user = None  # seeded before: the login already belongs to a customer
            tags = {name: Tag.objects.get_or_create(name=name)[0] for name in TAGS}
            first_customer = _last_number(Customer, "code", "C") + 1
            infos = build_customers(
                rng=rng,
                org=org,
                count=customer_count,
                first_number=first_customer,
                newest_purchase=(anchor - dt.timedelta(days=days + 10)).date(),
                portal_user=portal_user,
                batch_size=batch_size,
                progress=progress("customers", customer_count),
            )
        result.seconds["customers"] = time.monotonic() - started
        first_ticket = _last_number(Ticket, "number", "T") + 1
        # The shipped policies and calendars (the migrations made them; an earlier demo or an
        # administrator may have removed some): online channels on 24×7, field work on business
        # hours. The tickets are planned against them (``promises.py``).
        install_defaults(SlaPolicy, SlaEscalationRule, BusinessCalendar)
        maker = TicketMaker(
            promises=Promises(),
            rng=rng,
            org=org,
            customers=infos,
            total=tickets,
            first_number=first_ticket,
            anchor=anchor,
            days=days,
            tags=tags,
        )
        ticket_started = time.monotonic()
        advance = progress("tickets", tickets)
        totals = {"tickets": 0, "status_changes": 0, "messages": 0}
        for start in range(0, tickets, batch_size):
            stop = min(tickets, start + batch_size)
            with transaction.atomic():
                batch = maker.batch(start, stop)
                Ticket.objects.bulk_create(batch.tickets)
                TicketStatusChange.objects.bulk_create(batch.changes)
                TicketMessage.objects.bulk_create(batch.messages)
                through = Ticket.tags.through
                through.objects.bulk_create([through(ticket_id=t.pk, tag_id=tag.pk) for t, tag in batch.tags])
                # The search documents, by the same code as ``aftersales tickets_reindex``.
                reindex_tickets([t.pk for t in batch.tickets], batch_size=batch_size)
            totals["tickets"] += len(batch.tickets)
            totals["status_changes"] += len(batch.changes)
            totals["messages"] += len(batch.messages)
            advance(stop - start)
        result.seconds["tickets"] = time.monotonic() - ticket_started
        with transaction.atomic():
            if customer_count:
                sequence_advance_to(sequence="customer", value=first_customer + customer_count - 1)
            if tickets:
                sequence_advance_to(sequence="ticket", value=first_ticket + tickets - 1)
            result.counts = {
                "customers": customer_count,
                "installed_products": sum(len(c.products) for c in infos),
                **totals,
            }
            AuditEvent.objects.create(
                actor=None,
                action="demo.seed",
                object_type="demo",
                object_id=str(seed),
                object_label="demo company",
                after={"seed": seed, "anchor": anchor.isoformat(), "days": days, **result.counts},
            )
        # The recent tickets get their SLA clocks as if their history had happened live: the
        # unfinished ones show countdowns (and the beat's sweep escalates the few overdue), and
        # the finished ones give the compliance report (the last 30 days) its figures.
        sla_started = time.monotonic()
        with_sla = _replay_sla(
            first_number=first_ticket,
            since=anchor - dt.timedelta(days=SLA_HISTORY_DAYS),
            limit=SLA_REPLAY_LIMIT,
            progress=progress,
        )
        result.counts["tickets_with_sla"] = with_sla
        result.seconds["sla"] = time.monotonic() - sla_started
        result.counts.update(seed_knowledge(anchor=anchor, seed=seed, actor=org.supervisor or org.admin))
    result.seconds["total"] = time.monotonic() - started
    result.logins = org.logins
    return result
