from __future__ import annotations

import datetime as dt
import io
import random
from collections import defaultdict

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import Client

from aftersales.core.models import AuditEvent, User
from aftersales.customers.models import Contact, Customer, ValueTier
from aftersales.demo.catalogue import DEMO_PASSWORD
from aftersales.demo.lifecycle import is_legal, plan_path
from aftersales.tickets.lifecycle import TRANSITIONS, TicketStatus
from aftersales.tickets.models import Priority, Ticket, TicketMessage, TicketStatusChange, TicketType
from aftersales.tickets.services import ticket_open

pytestmark = pytest.mark.django_db

NOW = "2025-06-30T00:00:00+08:00"
SMALL = ["--tickets", "300", "--customers", "150", "--now", NOW, "--verbosity", "0"]
LOGINS = ["admin", "supervisor", "agent", "technician", "parts", "customer"]


def seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", *SMALL, *args, stdout=out)
    return out.getvalue()


def snapshot() -> dict[str, list[tuple]]:
    """Everything the seed wrote, by natural keys (primary keys differ between databases)."""
    return {
        "customers": list(
            Customer.objects.order_by("code").values_list(
                "code", "kind", "name", "phone", "email", "value_tier", "region__code", "created_at"
            )
        ),
        "units": list(
            Customer.objects.order_by("code", "installed_products__serial_number").values_list(
                "code", "installed_products__serial_number", "installed_products__purchased_on"
            )
        ),
        "addresses": list(
            Customer.objects.order_by("code", "addresses__line", "addresses__id").values_list(
                "code", "addresses__line", "addresses__latitude", "addresses__longitude"
            )
        ),
        "tickets": list(
            Ticket.objects.order_by("number").values_list(
                "number",
                "subject",
                "description",
                "type",
                "channel",
                "priority",
                "status",
                "customer__code",
                "customer_tier",
                "team__code",
                "region__code",
                "assignee__username",
                "installed_product__serial_number",
                "created_at",
                "first_responded_at",
                "resolved_at",
                "closed_at",
                "status_changed_at",
                "close_reason",
                "version",
            )
        ),
        "changes": list(
            TicketStatusChange.objects.order_by("ticket__number", "occurred_at", "id").values_list(
                "ticket__number", "from_status", "to_status", "occurred_at", "actor__username"
            )
        ),
        "messages": list(
            TicketMessage.objects.order_by("ticket__number", "created_at", "id").values_list(
                "ticket__number", "kind", "author__username", "is_from_customer", "body", "created_at"
            )
        ),
        "staff": list(
            User.objects.order_by("username").values_list("username", "role", "display_name", "skills")
        ),
    }


class _Undo(Exception):
    pass


def seeded_then_undone(*args: str) -> dict[str, list[tuple]]:
    try:
        with transaction.atomic():
            seed(*args)
            taken = snapshot()
            raise _Undo
    except _Undo:
        return taken


def test_seed_builds_a_company_with_tickets_of_every_kind():
    output = seed()

    assert Ticket.objects.count() == 300
    assert Customer.objects.count() == 150
    assert set(Ticket.objects.values_list("type", flat=True)) == set(TicketType.values)
    assert set(Ticket.objects.values_list("priority", flat=True)) == set(Priority.values)
    assert Ticket.objects.filter(status=TicketStatus.CLOSED).exists()
    assert Ticket.objects.exclude(status__in=[TicketStatus.CLOSED, TicketStatus.CANCELLED]).exists()
    assert not Ticket.objects.exclude(customer_tier__in=ValueTier.values).exists()
    for ticket in Ticket.objects.select_related("customer")[:50]:
        assert ticket.customer_tier == ticket.customer.value_tier
        assert ticket.region_id == ticket.customer.region_id
        assert ticket.team_id is not None
    assert TicketMessage.objects.count() > 300
    assert AuditEvent.objects.filter(action="demo.seed").count() == 1
    assert DEMO_PASSWORD in output


def test_every_status_history_is_a_legal_walk_ending_at_the_ticket_status():
    seed()
    history: dict[int, list[TicketStatusChange]] = defaultdict(list)
    for change in TicketStatusChange.objects.order_by("occurred_at", "id"):
        history[change.ticket_id].append(change)

    for ticket in Ticket.objects.all():
        changes = history[ticket.pk]
        assert changes[0].from_status == "" and changes[0].to_status == TicketStatus.NEW
        assert changes[0].occurred_at == ticket.created_at
        for before, after in zip(changes, changes[1:], strict=False):
            assert after.from_status == before.to_status
            assert TicketStatus(after.to_status) in TRANSITIONS[TicketStatus(before.to_status)], ticket.number
            assert after.from_status_entered_at == before.occurred_at <= after.occurred_at
        assert changes[-1].to_status == ticket.status
        assert changes[-1].occurred_at == ticket.status_changed_at
        assert (ticket.closed_at is not None) == (ticket.status == TicketStatus.CLOSED)
        if ticket.status in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
            assert ticket.resolved_at is not None
        if ticket.status not in (TicketStatus.NEW, TicketStatus.CANCELLED, TicketStatus.WAITING_ON_CUSTOMER):
            assert ticket.assignee_id is not None, ticket.number
        assert ticket.status_changed_at <= dt.datetime.fromisoformat(NOW)


def test_same_seed_gives_the_same_company():
    first = seeded_then_undone("--seed", "7")
    second = seeded_then_undone("--seed", "7")
    other = seeded_then_undone("--seed", "8")

    assert first == second
    assert first["tickets"] != other["tickets"]


def test_if_empty_does_nothing_once_tickets_exist():
    seed("--if-empty")
    counts = (Ticket.objects.count(), Customer.objects.count(), User.objects.count())

    output = seed("--if-empty")

    assert "not seeded" in output
    assert (Ticket.objects.count(), Customer.objects.count(), User.objects.count()) == counts


def test_tickets_opened_after_the_seed_continue_its_numbering():
    seed()
    agent = User.objects.get(username="agent@demo.aftersales.cn")
    customer = Customer.objects.get(code="C0000001")

    ticket = ticket_open(actor=agent, customer=customer, subject="花洒漏水")

    assert ticket.number == "T0000301"


def test_demo_logins_sign_in_and_the_customer_sees_its_tickets():
    seed()
    for login in LOGINS:
        assert Client().login(username=f"{login}@demo.aftersales.cn", password=DEMO_PASSWORD), login

    portal = Contact.objects.select_related("customer").get(user__username="customer@demo.aftersales.cn")
    assert Ticket.objects.filter(customer=portal.customer).count() >= 3


@pytest.mark.parametrize("ticket_type", TicketType.values)
def test_planned_lifecycles_are_legal_for_every_type(ticket_type):
    rng = random.Random(3)
    for _ in range(2000):
        path = plan_path(rng, ticket_type)
        assert is_legal(path), path
        assert path[-1] in (TicketStatus.CLOSED, TicketStatus.CANCELLED)


def test_unfinished_demo_tickets_get_sla_clocks_from_their_history():
    from aftersales.sla.models import SlaClock, TicketSla
    from aftersales.tickets.lifecycle import OPEN_STATUSES

    seed("--seed", "3")
    unfinished = Ticket.objects.filter(status__in=OPEN_STATUSES)
    assert unfinished.exists()
    assert TicketSla.objects.filter(pk__in=unfinished.values("pk")).count() == unfinished.count()
    waiting = unfinished.filter(status="waiting_on_customer").first()
    if waiting is not None:
        assert not SlaClock.objects.filter(ticket=waiting, status="running").exists()
    answered = unfinished.filter(first_responded_at__isnull=False).first()
    assert (
        SlaClock.objects.get(ticket=answered, target="first_response").met_at == answered.first_responded_at
    )
