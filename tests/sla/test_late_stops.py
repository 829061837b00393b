"""A clock that stops or pauses after its due time, before any sweep or alarm saw it, still
records its warning and its breach, at the instants they fell due."""

from __future__ import annotations

import pytest
import time_machine

from aftersales.sla.models import ClockStatus, SlaClock, SlaEscalation
from aftersales.sla.selectors import compliance_report
from aftersales.sla.sweep import sla_sweep
from aftersales.tickets.services import ticket_add_message, ticket_open, ticket_transition

from .conftest import at

pytestmark = pytest.mark.django_db


def clock(ticket, target) -> SlaClock:
    return SlaClock.objects.filter(ticket=ticket, target=target).latest("id")


def test_pausing_one_second_after_the_due_time_records_the_breach_first(agent, customer, team, supervisor):
    with time_machine.travel(at(10, 10), tick=False) as traveller:
        ticket = ticket_open(actor=agent, customer=customer, subject="漏水", team=team)
        ticket_transition(ticket=ticket, actor=agent, to_status="accepted")
        assert clock(ticket, "first_response").due_at == at(10, 11)

        traveller.move_to(at(10, 11, 0, 1))  # no sweep ran since the due time
        ticket_transition(ticket=ticket, actor=agent, to_status="waiting_on_customer")

        first = clock(ticket, "first_response")
        assert first.status == ClockStatus.PAUSED
        assert first.remaining_seconds_when_paused == -1
        assert (first.warned_at, first.breached_at) == (at(10, 10, 45), at(10, 11))
        diagnose = clock(ticket, "stage_diagnose")  # 1 h from 10:00, due at 11:00 as well
        assert diagnose.breached_at == at(10, 11)
        resolution = clock(ticket, "resolution")
        assert (resolution.warned_at, resolution.breached_at) == (None, None)

        # Later sweeps do not see a paused clock; the breach stays and is reported.
        traveller.move_to(at(10, 12))
        sla_sweep()
        rows = compliance_report(user=supervisor, group_by="type", target="first_response")
    assert [(row.total, row.breached) for row in rows] == [(1, 1)]
    assert not SlaEscalation.objects.filter(clock=first).exists()  # recorded, not escalated late


def test_meeting_after_the_due_time_records_the_breach_meeting_at_it_does_not(agent, customer):
    with time_machine.travel(at(10, 10), tick=False) as traveller:
        late = ticket_open(actor=agent, customer=customer, subject="迟到的答复")
        on_time = ticket_open(actor=agent, customer=customer, subject="准时的答复")

        traveller.move_to(at(10, 11))
        ticket_add_message(ticket=on_time, actor=agent, body="您好，我们来处理。")
        traveller.move_to(at(10, 11, 0, 1))
        ticket_add_message(ticket=late, actor=agent, body="您好，我们来处理。")

    met_late = clock(late, "first_response")
    assert (met_late.status, met_late.met_at, met_late.breached_at) == (
        ClockStatus.MET,
        at(10, 11, 0, 1),
        at(10, 11),
    )
    met_on_time = clock(on_time, "first_response")
    assert (met_on_time.status, met_on_time.breached_at, met_on_time.warned_at) == (
        ClockStatus.MET,
        None,
        at(10, 10, 45),
    )


def test_cancelling_after_the_due_time_records_the_breach(agent, customer):
    with time_machine.travel(at(10, 10), tick=False) as traveller:
        ticket = ticket_open(actor=agent, customer=customer, subject="取消")
        traveller.move_to(at(10, 10, 5, 1))
        ticket_transition(ticket=ticket, actor=agent, to_status="cancelled")
    accept = clock(ticket, "stage_accept")
    assert (accept.status, accept.breached_at) == (ClockStatus.CANCELLED, at(10, 10, 5))
    assert clock(ticket, "first_response").breached_at is None
