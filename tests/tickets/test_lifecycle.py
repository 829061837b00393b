"""The ticket state machine: every legal path works, every illegal step is refused and changes nothing."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from aftersales.core.errors import PermissionDenied
from aftersales.core.models import AuditEvent
from aftersales.core.roles import Role
from aftersales.tickets.errors import InvalidTransition, StaleTicket
from aftersales.tickets.lifecycle import FINAL_STATUSES, TRANSITIONS, TicketStatus, can_transition
from aftersales.tickets.models import Ticket, TicketMessage, TicketStatusChange
from aftersales.tickets.services import ticket_add_message, ticket_open, ticket_transition
from tests.factories import CustomerFactory, UserFactory, customer_user

pytestmark = pytest.mark.django_db

ALL_STATUSES = list(TicketStatus)


def test_transition_table_covers_every_status_and_final_states_are_dead_ends():
    assert set(TRANSITIONS) == set(TicketStatus)
    for status in FINAL_STATUSES:
        assert TRANSITIONS[status] == frozenset()
    for status, targets in TRANSITIONS.items():
        assert status not in targets


def test_every_non_final_status_is_reachable_from_new():
    seen, frontier = {TicketStatus.NEW}, [TicketStatus.NEW]
    while frontier:
        for target in TRANSITIONS[frontier.pop()]:
            if target not in seen:
                seen.add(target)
                frontier.append(target)
    assert seen == set(TicketStatus)


def test_the_standard_process_runs_from_new_to_closed(agent):
    ticket = ticket_open(actor=agent, customer=CustomerFactory(), subject="马桶漏水", type="repair")
    path = ["accepted", "diagnosing", "solution_proposed", "in_service", "resolved", "closed"]
    for status in path:
        ticket = ticket_transition(ticket=ticket, actor=agent, to_status=status)
    ticket.refresh_from_db()
    assert ticket.status == "closed"
    assert ticket.closed_at is not None and ticket.resolved_at is not None
    changes = list(ticket.status_changes.order_by("id").values_list("from_status", "to_status"))
    assert changes == [
        ("", "new"),
        ("new", "accepted"),
        ("accepted", "diagnosing"),
        ("diagnosing", "solution_proposed"),
        ("solution_proposed", "in_service"),
        ("in_service", "resolved"),
        ("resolved", "closed"),
    ]
    assert ticket.version == len(path) + 1


def test_stage_durations_are_measured_from_timestamps(agent, time_machine):
    time_machine.move_to("2026-03-02 09:00:00+08:00", tick=False)
    ticket = ticket_open(actor=agent, customer=CustomerFactory(), subject="安装预约", type="installation")
    time_machine.move_to("2026-03-02 09:04:00+08:00", tick=False)
    ticket = ticket_transition(ticket=ticket, actor=agent, to_status="accepted")
    time_machine.move_to("2026-03-02 10:04:00+08:00", tick=False)
    ticket_transition(ticket=ticket, actor=agent, to_status="diagnosing")
    durations = [c.from_stage_seconds for c in ticket.status_changes.order_by("id")]
    assert durations == [None, 240.0, 3600.0]


def test_an_illegal_transition_is_refused_and_changes_nothing(agent):
    ticket = ticket_open(actor=agent, customer=CustomerFactory(), subject="咨询保修期")
    audit_before = AuditEvent.objects.count()
    with pytest.raises(InvalidTransition) as error:
        ticket_transition(ticket=ticket, actor=agent, to_status="closed")
    assert error.value.status == 409
    assert error.value.details == {"from_status": "new", "to_status": "closed"}
    stored = Ticket.objects.get(pk=ticket.pk)
    assert (stored.status, stored.version) == ("new", 1)
    assert TicketStatusChange.objects.filter(ticket=ticket).count() == 1
    assert AuditEvent.objects.count() == audit_before


def test_a_stale_version_is_refused(agent):
    ticket = ticket_open(actor=agent, customer=CustomerFactory(), subject="龙头滴水")
    stale_copy = Ticket.objects.get(pk=ticket.pk)
    ticket_transition(ticket=ticket, actor=agent, to_status="accepted")
    with pytest.raises(StaleTicket):
        ticket_transition(ticket=stale_copy, actor=agent, to_status="cancelled")
    assert Ticket.objects.get(pk=ticket.pk).status == "accepted"


def test_waiting_on_customer_resumes_the_previous_stage_when_the_customer_replies(agent):
    customer = CustomerFactory()
    portal_user = customer_user(customer)
    ticket = ticket_open(actor=agent, customer=customer, subject="花洒出水小", type="repair")
    for status in ("accepted", "diagnosing", "waiting_on_customer"):
        ticket = ticket_transition(ticket=ticket, actor=agent, to_status=status)
    ticket_add_message(ticket=ticket, actor=portal_user, body="照片已上传，请查看")
    ticket.refresh_from_db()
    assert ticket.status == "diagnosing"
    assert ticket.resume_status == ""


def test_a_customer_reply_after_resolution_reopens_the_ticket(agent):
    customer = CustomerFactory()
    portal_user = customer_user(customer)
    ticket = ticket_open(actor=agent, customer=customer, subject="热水器不加热", type="repair")
    for status in ("accepted", "resolved"):
        ticket = ticket_transition(ticket=ticket, actor=agent, to_status=status)
    ticket_add_message(ticket=ticket, actor=portal_user, body="还是不加热")
    ticket.refresh_from_db()
    assert (ticket.status, ticket.reopened_count, ticket.resolved_at) == ("reopened", 1, None)


def test_a_customer_may_confirm_but_not_work_a_ticket(agent):
    customer = CustomerFactory()
    portal_user = customer_user(customer)
    ticket = ticket_open(actor=agent, customer=customer, subject="台盆裂纹", type="complaint")
    with pytest.raises(PermissionDenied):
        ticket_transition(ticket=ticket, actor=portal_user, to_status="accepted")
    ticket = ticket_transition(ticket=ticket, actor=agent, to_status="accepted")
    ticket = ticket_transition(ticket=ticket, actor=agent, to_status="resolved")
    ticket = ticket_transition(ticket=ticket, actor=portal_user, to_status="closed")
    assert ticket.status == "closed" and ticket.close_reason == "confirmed"


def test_a_technician_moves_only_the_jobs_assigned_to_it(agent):
    technician = UserFactory(role=Role.TECHNICIAN)
    other = ticket_open(actor=agent, customer=CustomerFactory(), subject="上门维修", type="repair")
    mine = ticket_open(
        actor=agent, customer=CustomerFactory(), subject="上门安装", type="installation", assignee=technician
    )
    mine = ticket_transition(ticket=mine, actor=agent, to_status="accepted")
    assert ticket_transition(ticket=mine, actor=technician, to_status="in_service").status == "in_service"
    other = ticket_transition(ticket=other, actor=agent, to_status="accepted")
    with pytest.raises(PermissionDenied):
        ticket_transition(ticket=other, actor=technician, to_status="in_service")


def test_the_first_staff_reply_is_the_first_response(agent, time_machine):
    time_machine.move_to("2026-05-06 10:00:00+08:00", tick=False)
    customer = CustomerFactory()
    portal_user = customer_user(customer)
    ticket = ticket_open(actor=portal_user, customer=customer, subject="如何预约安装")
    time_machine.move_to("2026-05-06 10:00:20+08:00", tick=False)
    ticket_add_message(ticket=ticket, actor=portal_user, body="补充：地址在浦东")
    time_machine.move_to("2026-05-06 10:00:45+08:00", tick=False)
    ticket_add_message(ticket=ticket, actor=agent, body="您好，已为您安排", kind=TicketMessage.Kind.NOTE)
    ticket_add_message(ticket=ticket, actor=agent, body="您好，已为您安排明天上门")
    ticket.refresh_from_db()
    assert (ticket.first_responded_at - ticket.created_at).total_seconds() == 45


class TicketLifecycleMachine(RuleBasedStateMachine):
    """Random sequences of transitions, legal and illegal, against one ticket in the database."""

    @initialize()
    def open_ticket(self):
        self.actor = UserFactory(role=Role.ADMIN)
        self.ticket = ticket_open(actor=self.actor, customer=CustomerFactory(), subject="随机流程")
        self.model_status = TicketStatus.NEW
        self.steps = 1

    @rule(target_status=st.sampled_from(ALL_STATUSES))
    def try_transition(self, target_status):
        legal = can_transition(self.model_status, target_status)
        try:
            self.ticket = ticket_transition(ticket=self.ticket, actor=self.actor, to_status=target_status)
        except InvalidTransition:
            assert not legal
            return
        assert legal
        self.model_status = target_status
        self.steps += 1

    @invariant()
    def database_agrees_with_the_model(self):
        if not hasattr(self, "ticket"):
            return
        stored = Ticket.objects.get(pk=self.ticket.pk)
        assert stored.status == self.model_status
        assert stored.version == self.steps
        assert (stored.closed_at is not None) == (stored.status == TicketStatus.CLOSED)
        if stored.status == TicketStatus.RESOLVED:
            assert stored.resolved_at is not None
        changes = list(TicketStatusChange.objects.filter(ticket=stored).order_by("id"))
        assert len(changes) == self.steps
        assert changes[-1].to_status == stored.status
        for previous, current in zip(changes, changes[1:], strict=False):
            assert current.from_status == previous.to_status
            assert can_transition(current.from_status, current.to_status)
            assert current.occurred_at >= previous.occurred_at


TicketLifecycleMachine.TestCase.settings = settings(
    max_examples=40,
    stateful_step_count=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.mark.django_db(transaction=False)
def test_random_transition_sequences_never_reach_an_illegal_state():
    TicketLifecycleMachine.TestCase("runTest").runTest()
