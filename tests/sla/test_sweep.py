from __future__ import annotations

import pytest
import time_machine

from aftersales.sla.models import SlaClock, SlaEscalation, SlaNotification, SlaState, TicketSla
from aftersales.sla.sweep import sla_sweep
from aftersales.sla.tasks import sweep_due
from aftersales.tickets.models import TicketMessage
from aftersales.tickets.services import ticket_open

from .conftest import at

pytestmark = pytest.mark.django_db


def snapshot(ticket):
    ticket.refresh_from_db()
    return {
        "priority": ticket.priority,
        "events": list(ticket.messages.filter(event_code__startswith="sla.").values_list("body", flat=True)),
        "notifications": sorted(SlaNotification.objects.filter(ticket=ticket).values_list("user_id", "kind")),
        "escalations": SlaEscalation.objects.filter(clock__ticket=ticket).count(),
        "clocks": sorted(
            SlaClock.objects.filter(ticket=ticket).values_list("target", "warned_at", "breached_at", "status")
        ),
        "state": TicketSla.objects.get(pk=ticket.pk).state,
    }


def test_warning_at_75_percent_then_breach_escalate_once(agent, customer, team, supervisor):
    with time_machine.travel(at(10, 10), tick=False) as traveller:
        ticket = ticket_open(actor=agent, customer=customer, subject="漏水", team=team)
        first = SlaClock.objects.get(ticket=ticket, target="first_response")

        traveller.move_to(at(10, 10, 44))
        result = sla_sweep()
        assert result.warned == 1  # only the 5-minute accept stage (warned at 3 min 45 s)
        first.refresh_from_db()
        assert first.warned_at is None

        traveller.move_to(at(10, 10, 45))
        assert sla_sweep().warned == 1
        first.refresh_from_db()
        assert first.warned_at == at(10, 10, 45)
        assert TicketSla.objects.get(pk=ticket.pk).state == SlaState.BREACHED  # the accept stage is late

        traveller.move_to(at(10, 11, 0, 1))
        result = sla_sweep()
        assert result.breached == 1
        after_breach = snapshot(ticket)
        assert after_breach["priority"] == "high"
        # Notified at each warning (accept stage, first response) and at the first-response breach;
        # the team's lead and member are the team's supervisors.
        assert sorted(after_breach["notifications"]) == sorted(
            [
                (user, kind)
                for user in (team.lead_id, supervisor.pk)
                for kind in ("warning", "warning", "breach")
            ]
        )
        assert len(after_breach["events"]) == 3
        assert "2025-06-10 11:00" in after_breach["events"][-1]  # the first response's due time

        # Run again, and again later: nothing new happens.
        assert sla_sweep().escalations == 0
        traveller.move_to(at(10, 11, 5))
        sla_sweep()
        assert snapshot(ticket) == after_breach


def test_notifications_are_deduplicated_per_clock(agent, customer, team, supervisor):
    with time_machine.travel(at(10, 10), tick=False) as traveller:
        ticket_open(actor=agent, customer=customer, subject="漏水", team=team)
        traveller.move_to(at(10, 10, 45))
        sla_sweep()
    assert SlaNotification.objects.filter(user=supervisor, kind="warning").count() == 2  # 2 clocks


def test_a_paused_clock_is_never_swept(agent, customer, team):
    from aftersales.tickets.services import ticket_transition

    with time_machine.travel(at(10, 10), tick=False) as traveller:
        ticket = ticket_open(actor=agent, customer=customer, subject="漏水", team=team)
        ticket_transition(ticket=ticket, actor=agent, to_status="waiting_on_customer")
        traveller.move_to(at(20, 10))
        result = sla_sweep()
    assert (result.warned, result.breached) == (0, 0)


def test_the_sweep_works_in_chunks_and_the_task_reenqueues_while_work_remains(
    agent, customer, settings, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    from aftersales.celery import app

    app.conf.task_always_eager = True
    try:
        with time_machine.travel(at(10, 10), tick=False) as traveller:
            tickets = [ticket_open(actor=agent, customer=customer, subject=f"漏水 {n}") for n in range(3)]
            traveller.move_to(at(10, 10, 4))
            sweep_due(batch=2)
    finally:
        app.conf.task_always_eager = False
    assert (
        SlaClock.objects.filter(ticket__in=tickets, target="stage_accept", warned_at__isnull=False).count()
        == 3
    )


def test_escalations_are_internal_messages_each_reader_sees_in_their_language(agent, customer, team):
    with time_machine.travel(at(10, 10), tick=False) as traveller:
        ticket = ticket_open(actor=agent, customer=customer, subject="漏水", team=team)
        traveller.move_to(at(10, 10, 4))
        sla_sweep()
    message = ticket.messages.get(event_code__startswith="sla.")
    assert message.kind == TicketMessage.Kind.NOTE  # the desk's escalations stay off the portal
    assert not message.is_public
    assert "2025-06-10 10:05" in message.body  # the accept stage's due time
    assert message.event_data["target"] == "stage_accept"
    from django.utils import translation

    from aftersales.web.templatetags.web_tags import message_text

    with translation.override("en"):
        assert message_text(message) == "SLA warning: Accept (new → accepted) is due at 2025-06-10 10:05."
    with translation.override("zh-hans"):
        assert message_text(message) == "时效预警：受理（新建 → 已受理） 将于 2025-06-10 10:05 到期。"
