"""A ticket merged into another stops its promises: no warning, breach or notice afterwards, and
the compliance report counts the case once, on the ticket it continued in."""

from __future__ import annotations

import pytest
import time_machine

from aftersales.sla.models import ClockStatus, SlaClock, SlaEscalation, SlaNotification, SlaState, TicketSla
from aftersales.sla.selectors import compliance_report
from aftersales.sla.sweep import sla_sweep
from aftersales.tickets.services import ticket_merge, ticket_open

from .conftest import at

pytestmark = pytest.mark.django_db


def test_merging_cancels_the_duplicates_clocks_and_nothing_fires_afterwards(
    agent, customer, team, supervisor
):
    with time_machine.travel(at(10, 10), tick=False) as traveller:
        kept = ticket_open(actor=agent, customer=customer, subject="热水器漏水", team=team)
        duplicate = ticket_open(actor=agent, customer=customer, subject="热水器漏水（重复）", team=team)

        traveller.move_to(at(10, 10, 2))
        ticket_merge(source=duplicate, target=kept, actor=agent)

        clocks = SlaClock.objects.filter(ticket=duplicate)
        assert clocks.exists()
        assert set(clocks.values_list("status", flat=True)) == {ClockStatus.CANCELLED}
        assert set(clocks.values_list("stopped_at", flat=True)) == {at(10, 10, 2)}
        sla = TicketSla.objects.get(pk=duplicate.pk)
        assert (sla.state, sla.next_due_at) == (SlaState.NONE, None)

        # Past every warning and due time of the duplicate (accept 5 min, first response 1 h).
        traveller.move_to(at(10, 12))
        sla_sweep()
    assert not SlaEscalation.objects.filter(clock__ticket=duplicate).exists()
    assert not SlaNotification.objects.filter(ticket=duplicate).exists()
    assert not duplicate.messages.filter(event_code__startswith="sla.").exists()
    # The ticket that goes on keeps its promises.
    assert SlaNotification.objects.filter(ticket=kept, user=supervisor).exists()
    assert SlaClock.objects.filter(ticket=kept, breached_at__isnull=False).exists()


def test_a_merged_ticket_is_left_out_of_the_compliance_report(agent, customer, team, supervisor):
    with time_machine.travel(at(10, 10), tick=False) as traveller:
        kept = ticket_open(actor=agent, customer=customer, subject="滤芯更换", team=team)
        duplicate = ticket_open(actor=agent, customer=customer, subject="滤芯更换", team=team)
        # Both miss the 5-minute accept stage before anyone notices the duplicate.
        traveller.move_to(at(10, 10, 6))
        sla_sweep()
        assert SlaClock.objects.filter(ticket=duplicate, breached_at__isnull=False).exists()
        ticket_merge(source=duplicate, target=kept, actor=agent)

        rows = compliance_report(user=supervisor, group_by="team", target="stage_accept")
    assert [(row.total, row.breached) for row in rows] == [(1, 1)]
