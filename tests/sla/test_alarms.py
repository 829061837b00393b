"""Each clock's warning and breach fire at their instant (an alarm with an ETA), not at the
next sweep, and exactly once however often the alarm runs and the sweep passes."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
import time_machine
from django.conf import settings

from aftersales.sla.models import SlaClock, SlaEscalation, SlaNotification
from aftersales.sla.sweep import sla_sweep
from aftersales.sla.tasks import clock_alarm
from aftersales.tickets.services import ticket_add_message, ticket_open, ticket_transition
from tests.factories import customer_user

from .conftest import at

pytestmark = pytest.mark.django_db


def clock(ticket, target) -> SlaClock:
    return SlaClock.objects.filter(ticket=ticket, target=target).latest("id")


def armed_in_broker(since: set, clock_ids: set[int]) -> set[tuple[int, str, dt.datetime]]:
    """The ``sla.clock_alarm`` messages the filesystem broker received for ``clock_ids``."""
    found = set()
    for path in set((settings.BROKER_DIR / "in").iterdir()) - since:
        message = json.loads(path.read_text())
        if message["headers"]["task"] != "sla.clock_alarm":
            continue
        _args, kwargs, _embed = json.loads(base64.b64decode(message["body"]))
        if kwargs["clock_id"] in clock_ids:
            eta = dt.datetime.fromisoformat(message["headers"]["eta"])
            found.add((kwargs["clock_id"], kwargs["kind"], eta))
    return found


def fire(clock_row: SlaClock, kind: str) -> bool:
    """Run the alarm task as a worker would (in process)."""
    return clock_alarm.apply(kwargs={"clock_id": clock_row.pk, "kind": kind}).get()


def test_opening_a_phone_ticket_arms_the_warning_and_breach_due_within_the_horizon(
    agent, customer, django_capture_on_commit_callbacks
):
    before = set((settings.BROKER_DIR / "in").iterdir())
    with (
        time_machine.travel(at(10, 10), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        ticket = ticket_open(actor=agent, customer=customer, subject="来电：热水器报错 E4", channel="phone")
    first, accept = clock(ticket, "first_response"), clock(ticket, "stage_accept")
    assert (first.warn_at, first.due_at) == (at(10, 10, 0, 45), at(10, 10, 1))
    armed = armed_in_broker(before, {first.pk, accept.pk})
    assert armed == {(first.pk, "warning", at(10, 10, 0, 45)), (first.pk, "breach", at(10, 10, 1))}
    # The accept stage (warning at 3 min 45 s, due at 5 min) lies beyond the 2-minute horizon:
    # the sweep arms each instant once it comes within reach.
    with time_machine.travel(at(10, 10, 3, 30), tick=False):
        result = sla_sweep()
    assert result.armed >= 2
    assert armed_in_broker(before, {accept.pk}) == {
        (accept.pk, "warning", at(10, 10, 3, 45)),
        (accept.pk, "breach", at(10, 10, 5)),
    }


def test_warning_and_breach_fire_at_their_instant_exactly_once(agent, customer, team, supervisor):
    with time_machine.travel(at(10, 10), tick=False) as traveller:
        ticket = ticket_open(actor=agent, customer=customer, subject="来电：漏水", channel="phone", team=team)
        first = clock(ticket, "first_response")

        traveller.move_to(at(10, 10, 0, 30))  # a sweep half a minute in: nothing is due yet
        sla_sweep(arm=False)
        traveller.move_to(at(10, 10, 0, 44))  # an alarm that comes a second early does nothing
        assert fire(first, "warning") is False

        traveller.move_to(at(10, 10, 0, 45))
        assert fire(first, "warning") is True
        assert fire(first, "warning") is False  # delivered twice: still once
        first.refresh_from_db()
        assert first.warned_at == at(10, 10, 0, 45)  # not at the next sweep (10:01:00)

        traveller.move_to(at(10, 10, 1))
        assert fire(first, "breach") is True
        assert fire(first, "breach") is False
        sla_sweep(arm=False)  # the sweep passes too
        traveller.move_to(at(10, 10, 1, 30))
        sla_sweep(arm=False)

    first.refresh_from_db()
    assert (first.warned_at, first.breached_at) == (at(10, 10, 0, 45), at(10, 10, 1))
    ticket.refresh_from_db()
    assert ticket.priority == "high"  # raised one step, once
    # warning → notify; first-response breach → raise the priority and notify.
    assert SlaEscalation.objects.filter(clock=first).count() == 3
    assert SlaNotification.objects.filter(clock=first, user=supervisor).count() == 2
    assert ticket.messages.filter(event_code__in=["sla.warning", "sla.breach"]).count() == 2


def test_a_resumed_clock_is_armed_for_its_new_due_time(agent, customer, django_capture_on_commit_callbacks):
    portal = customer_user(customer)
    before = set((settings.BROKER_DIR / "in").iterdir())
    with time_machine.travel(at(10, 10), tick=False) as traveller:
        ticket = ticket_open(actor=agent, customer=customer, subject="在线咨询", channel="chat")
        traveller.move_to(at(10, 10, 0, 10))
        ticket_transition(ticket=ticket, actor=agent, to_status="accepted")
        ticket_transition(ticket=ticket, actor=agent, to_status="waiting_on_customer")
        traveller.move_to(at(10, 11))
        ticket.refresh_from_db()
        with django_capture_on_commit_callbacks(execute=True):
            ticket_add_message(ticket=ticket, actor=portal, body="我在线，请回复。")
        first = clock(ticket, "first_response")
        # 30 s promised on the 24×7 calendar, 10 s used before the wait: 20 s left.
        assert (first.warn_at, first.due_at) == (at(10, 11, 0, 12), at(10, 11, 0, 20))
        assert armed_in_broker(before, {first.pk}) == {
            (first.pk, "warning", at(10, 11, 0, 12)),
            (first.pk, "breach", at(10, 11, 0, 20)),
        }
        traveller.move_to(at(10, 11, 0, 20))
        assert fire(first, "breach") is True
    first.refresh_from_db()
    assert first.breached_at == at(10, 11, 0, 20)
