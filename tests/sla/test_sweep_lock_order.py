"""The sweep takes a ticket's lock before its clocks', as ticket services do (no deadlock)."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from django.db import connection, transaction
from django.utils import timezone

from aftersales.sla.models import EscalationKind, SlaClock
from aftersales.sla.sweep import sla_sweep_batch
from aftersales.tickets.models import Ticket
from aftersales.tickets.services import ticket_open
from tests.conftest import install_shipped_configuration


@pytest.mark.django_db(transaction=True)
def test_the_sweep_passes_over_a_ticket_another_transaction_holds_then_takes_it(agent, customer, team):
    if connection.vendor != "postgresql":
        pytest.skip("row locks: PostgreSQL (SQLite has one writer at a time)")
    install_shipped_configuration()  # an earlier transactional test may have flushed it
    ticket = ticket_open(actor=agent, customer=customer, subject="漏水", team=team)
    past = timezone.now() - dt.timedelta(minutes=1)
    assert SlaClock.objects.filter(ticket=ticket).update(due_at=past, warn_at=past) > 0
    holding, release = threading.Event(), threading.Event()

    def hold_the_ticket() -> None:
        # What a transition does first: lock the ticket row, then (later) move its clocks.
        try:
            with transaction.atomic():
                Ticket.objects.select_for_update().get(pk=ticket.pk)
                holding.set()
                release.wait(20)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_ticket)
    holder.start()
    try:
        assert holding.wait(10)
        started = time.monotonic()
        passed = sla_sweep_batch(kind=EscalationKind.BREACH)
        waited = time.monotonic() - started
    finally:
        release.set()
        holder.join()
    # Before the fix the sweep locked the clocks, then waited for the ticket to escalate it.
    assert waited < 5
    assert passed.breached == 0
    taken = sla_sweep_batch(kind=EscalationKind.BREACH)
    assert taken.breached == SlaClock.objects.filter(ticket=ticket, breached_at__isnull=False).count() > 0
