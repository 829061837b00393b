"""Two agents move the same ticket at the same moment: one wins, the other is told, nothing is lost."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from aftersales.core.roles import Role
from aftersales.tickets.errors import StaleTicket
from aftersales.tickets.models import Ticket, TicketStatusChange
from aftersales.tickets.services import ticket_open, ticket_transition
from tests.factories import CustomerFactory, UserFactory


@pytest.mark.django_db(transaction=True)
def test_concurrent_transitions_from_one_version_let_exactly_one_through():
    agents = [UserFactory(role=Role.AGENT) for _ in range(4)]
    ticket = ticket_open(actor=agents[0], customer=CustomerFactory(), subject="同时处理")
    targets = ["accepted", "cancelled", "accepted", "waiting_on_customer"]
    start = threading.Barrier(len(agents))
    outcomes: list[str] = []
    lock = threading.Lock()

    def move(agent, target):
        try:
            copy = Ticket.objects.get(pk=ticket.pk)
            start.wait()
            try:
                ticket_transition(ticket=copy, actor=agent, to_status=target)
                result = f"moved:{target}"
            except StaleTicket:
                result = "stale"
            with lock:
                outcomes.append(result)
        finally:
            connection.close()

    threads = [threading.Thread(target=move, args=pair) for pair in zip(agents, targets, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [o for o in outcomes if o.startswith("moved:")]
    assert len(winners) == 1 and outcomes.count("stale") == 3
    stored = Ticket.objects.get(pk=ticket.pk)
    assert f"moved:{stored.status}" == winners[0]
    assert stored.version == 2
    assert TicketStatusChange.objects.filter(ticket=stored).count() == 2
