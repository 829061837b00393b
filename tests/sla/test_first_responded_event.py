"""``TicketFirstResponded``: the tickets service publishes it wherever a first response is recorded,
and the SLA meets the first-response clock on it (the phone channel no longer calls the clocks)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from aftersales.core import events
from aftersales.sla.models import ClockStatus, SlaClock, SlaState, TicketSla
from aftersales.tickets.events import TicketFirstResponded
from aftersales.tickets.services import ticket_add_message, ticket_open
from aftersales.tickets.services.response import ticket_record_first_response

from .conftest import at

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(monkeypatch) -> list[TicketFirstResponded]:
    """The ``TicketFirstResponded`` events published during the test (the real subscribers run too)."""
    seen: list[TicketFirstResponded] = []
    recorder = events._Subscription(handler=seen.append, on_commit=False)
    current = events.subscriptions().get(TicketFirstResponded, [])
    monkeypatch.setitem(events._subscriptions, TicketFirstResponded, [*current, recorder])
    return seen


def first_response_clock(ticket) -> SlaClock:
    return SlaClock.objects.get(ticket=ticket, target="first_response")


def test_a_first_response_outside_the_thread_meets_the_sla_clock_through_the_event(
    agent, customer, published
):
    with time_machine.travel(at(10, 10), tick=False):
        ticket = ticket_open(actor=agent, customer=customer, subject="热水器不出热水")
    answered = at(10, 10, 0, 42)
    with time_machine.travel(at(10, 10, 5), tick=False):
        assert ticket_record_first_response(ticket=ticket, at=answered, actor=agent, via="phone")
        # A second answer is no first response: nothing recorded, nothing published.
        assert not ticket_record_first_response(
            ticket=ticket, at=answered + dt.timedelta(minutes=1), actor=agent, via="phone"
        )
    assert published == [TicketFirstResponded(ticket=ticket, at=answered, actor=agent, via="phone")]
    clock = first_response_clock(ticket)
    assert (clock.status, clock.met_at) == (ClockStatus.MET, answered)
    assert TicketSla.objects.get(pk=ticket.pk).state == SlaState.ON_TRACK  # the resolution clock runs


def test_the_first_public_staff_reply_publishes_the_event_once(agent, customer, published):
    with time_machine.travel(at(10, 10), tick=False) as traveller:
        ticket = ticket_open(actor=agent, customer=customer, subject="漏水")
        traveller.move_to(at(10, 10, 10))
        ticket_add_message(ticket=ticket, actor=agent, body="内部备注", kind="note")
        assert published == []
        traveller.move_to(at(10, 10, 20))
        ticket_add_message(ticket=ticket, actor=agent, body="您好，我们马上处理。")
        traveller.move_to(at(10, 10, 30))
        ticket_add_message(ticket=ticket, actor=agent, body="师傅明天上门。")
    assert published == [TicketFirstResponded(ticket=ticket, at=at(10, 10, 20), actor=agent, via="reply")]
    assert first_response_clock(ticket).met_at == at(10, 10, 20)


def test_the_sla_subscribes_to_the_event():
    handlers = {
        (s.handler.__module__, s.handler.__name__) for s in events.subscriptions()[TicketFirstResponded]
    }
    assert ("aftersales.sla.handlers", "on_ticket_first_responded") in handlers
