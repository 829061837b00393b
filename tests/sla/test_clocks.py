from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from aftersales.core.models import AuditEvent
from aftersales.sla.models import ClockStatus, SlaClock, SlaState, TicketSla
from aftersales.sla.selectors import ticket_sla_summary
from aftersales.tickets.services import ticket_add_message, ticket_open, ticket_transition, ticket_update
from tests.factories import customer_user

from .conftest import at

pytestmark = pytest.mark.django_db


def clock(ticket, target) -> SlaClock:
    return SlaClock.objects.filter(ticket=ticket, target=target).latest("id")


def test_clocks_follow_a_ticket_through_reply_wait_resume_and_resolution(agent, customer):
    """Standard calendar: Mon–Fri 09:00–18:00 Shanghai; 2025-06-10 is a Tuesday."""
    portal = customer_user(customer)
    with time_machine.travel(at(10, 10), tick=False) as traveller:
        ticket = ticket_open(actor=agent, customer=customer, subject="漏水")
        first = clock(ticket, "first_response")
        assert first.due_at == at(10, 11)
        assert first.warn_at == at(10, 10, 45)
        assert clock(ticket, "stage_accept").due_at == at(10, 10, 5)
        # 24 business hours: 8 h on Tuesday, 9 h on Wednesday, 7 h on Thursday.
        assert clock(ticket, "resolution").due_at == at(12, 16)
        assert TicketSla.objects.get(pk=ticket.pk).next_due_at == at(10, 10, 5)

        traveller.move_to(at(10, 10, 3))
        ticket_transition(ticket=ticket, actor=agent, to_status="accepted")
        assert clock(ticket, "stage_accept").status == ClockStatus.MET
        assert clock(ticket, "stage_diagnose").due_at == at(10, 11, 3)

        traveller.move_to(at(10, 10, 30))
        ticket_add_message(ticket=ticket, actor=agent, body="请拍一张底座的照片。")
        assert clock(ticket, "first_response").status == ClockStatus.MET
        assert clock(ticket, "first_response").met_at == at(10, 10, 30)

        traveller.move_to(at(10, 10, 40))
        ticket_transition(ticket=ticket, actor=agent, to_status="waiting_on_customer")
        resolution = clock(ticket, "resolution")
        assert resolution.status == ClockStatus.PAUSED
        assert resolution.remaining_seconds_when_paused == 24 * 3600 - 40 * 60
        assert clock(ticket, "stage_diagnose").remaining_seconds_when_paused == 23 * 60
        assert TicketSla.objects.get(pk=ticket.pk).state == SlaState.PAUSED

        # The customer answers the next morning: the ticket resumes, the clocks run again.
        traveller.move_to(at(11, 10))
        ticket.refresh_from_db()
        ticket_add_message(ticket=ticket, actor=portal, body="照片在附件里。")
        ticket.refresh_from_db()
        assert ticket.status == "accepted"
        assert clock(ticket, "resolution").status == ClockStatus.RUNNING
        # 84,000 s left: 8 h Wednesday, 9 h Thursday, 6 h 20 min on Friday.
        assert clock(ticket, "resolution").due_at == at(13, 15, 20)
        assert clock(ticket, "stage_diagnose").due_at == at(11, 10, 23)
        assert clock(ticket, "next_response").due_at == at(11, 14)

        traveller.move_to(at(11, 10, 10))
        ticket_add_message(ticket=ticket, actor=agent, body="收到，安排师傅。")
        assert clock(ticket, "next_response").status == ClockStatus.MET

        traveller.move_to(at(11, 10, 20))
        ticket_transition(ticket=ticket, actor=agent, to_status="resolved")
        assert clock(ticket, "resolution").status == ClockStatus.MET
        assert clock(ticket, "stage_diagnose").status == ClockStatus.MET
        assert not SlaClock.objects.filter(ticket=ticket, status__in=["running", "paused"]).exists()
        sla = TicketSla.objects.get(pk=ticket.pk)
        assert (sla.state, sla.next_due_at) == (SlaState.MET, None)
        summary = ticket_sla_summary(ticket)
        assert [t.target for t in summary.targets] == [
            "first_response",
            "next_response",
            "resolution",
            "stage_accept",
            "stage_diagnose",
        ]
        assert {t.state for t in summary.targets} == {"met"}


def test_a_ticket_opened_out_of_hours_falls_due_in_business_time(agent, customer):
    with time_machine.travel(at(13, 17, 30), tick=False):  # Friday 17:30
        ticket = ticket_open(actor=agent, customer=customer, subject="漏水")
    assert clock(ticket, "first_response").due_at == at(16, 9, 30)  # Monday 09:30


def test_a_24x7_channel_policy_uses_its_own_calendar(agent, customer):
    from aftersales.core.models import BusinessCalendar
    from aftersales.sla.models import SlaPolicy

    SlaPolicy.objects.filter(channel="phone").update(
        calendar=BusinessCalendar.objects.get(code="hotline-24x7")
    )
    with time_machine.travel(at(14, 3), tick=False):  # Saturday 03:00
        ticket = ticket_open(actor=agent, customer=customer, subject="漏水", channel="phone")
    assert clock(ticket, "first_response").due_at == at(14, 3, 1)
    assert clock(ticket, "resolution").due_at == at(18, 15)  # the default calendar: Mon 9 h, Tue 9 h, Wed 6 h


def test_a_priority_change_reapplies_the_policy_with_an_audit_event(agent, customer):
    with time_machine.travel(at(10, 10), tick=False) as traveller:
        ticket = ticket_open(actor=agent, customer=customer, subject="漏水")
        traveller.move_to(at(10, 10, 1))
        ticket_update(ticket=ticket, actor=agent, changes={"priority": "urgent"})
    first = clock(ticket, "first_response")
    assert first.target_seconds == 300
    assert first.due_at == at(10, 10, 5)
    sla = TicketSla.objects.get(pk=ticket.pk)
    assert sla.targets["first_response"]["seconds"] == 300
    event = AuditEvent.objects.get(action="sla.reapply", object_id=str(ticket.pk))
    assert event.before["targets"]["first_response"]["seconds"] == 3600
    assert event.after["targets"]["first_response"]["seconds"] == 300
    assert event.actor == agent


def test_an_edit_of_other_fields_does_not_reapply(agent, customer):
    ticket = ticket_open(actor=agent, customer=customer, subject="漏水")
    ticket_update(ticket=ticket, actor=agent, changes={"subject": "底座漏水"})
    assert not AuditEvent.objects.filter(action="sla.reapply").exists()


def test_a_type_change_starts_the_new_targets_it_brings(agent, customer):
    with time_machine.travel(at(10, 10), tick=False):
        ticket = ticket_open(actor=agent, customer=customer, subject="安装", type="consultation")
        ticket_update(ticket=ticket, actor=agent, changes={"type": "installation"})
    assert clock(ticket, "on_site").due_at == at(10, 13)


def test_cancelling_stops_every_clock(agent, customer):
    ticket = ticket_open(actor=agent, customer=customer, subject="漏水")
    ticket_transition(ticket=ticket, actor=agent, to_status="cancelled")
    assert set(SlaClock.objects.filter(ticket=ticket).values_list("status", flat=True)) == {"cancelled"}
    assert TicketSla.objects.get(pk=ticket.pk).next_due_at is None


def test_an_internal_note_is_not_a_response(agent, customer):
    ticket = ticket_open(actor=agent, customer=customer, subject="漏水")
    ticket_add_message(ticket=ticket, actor=agent, body="内部备注", kind="note")
    assert clock(ticket, "first_response").status == ClockStatus.RUNNING


def test_reopening_starts_a_new_resolution_clock(agent, customer):
    ticket = ticket_open(actor=agent, customer=customer, subject="漏水")
    ticket_transition(ticket=ticket, actor=agent, to_status="accepted")
    ticket_transition(ticket=ticket, actor=agent, to_status="resolved")
    ticket_transition(ticket=ticket, actor=agent, to_status="reopened")
    clocks = list(SlaClock.objects.filter(ticket=ticket, target="resolution").order_by("id"))
    assert [c.status for c in clocks] == ["met", "running"]
    assert dt.timedelta(0) < clocks[1].due_at - clocks[1].started_at
