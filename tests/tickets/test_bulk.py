"""Bulk actions: each ticket through its own service and transaction, with its own outcome."""

from __future__ import annotations

import pytest
from django.utils import translation

from aftersales.core.errors import PermissionDenied, ValidationFailed
from aftersales.core.models import AuditEvent
from aftersales.core.roles import Role
from aftersales.tickets.models import Ticket
from aftersales.tickets.services import BulkRequest, ticket_transition, tickets_bulk_apply
from tests.factories import (
    CustomerFactory,
    RegionFactory,
    TeamFactory,
    TicketFactory,
    UserFactory,
    customer_user,
)

pytestmark = pytest.mark.django_db


def _by_number(outcomes):
    return {outcome.number: outcome for outcome in outcomes}


def test_agent_assigns_many_tickets_each_audited(agent):
    tickets = [TicketFactory() for _ in range(3)]
    colleague = UserFactory(role=Role.AGENT)

    outcomes = tickets_bulk_apply(
        actor=agent,
        numbers=[t.number for t in tickets],
        request=BulkRequest(action="assign", assignee=colleague),
    )

    assert [(o.number, o.ok, o.code) for o in outcomes] == [(t.number, True, "done") for t in tickets]
    assert set(Ticket.objects.values_list("assignee_id", flat=True)) == {colleague.pk}
    assert AuditEvent.objects.filter(action="ticket.update").count() == 3
    assert all(o.subject for o in outcomes)


def test_a_refused_move_leaves_the_others_done(agent):
    fresh = TicketFactory()
    closed = TicketFactory(status="cancelled")
    also_fresh = TicketFactory()

    with translation.override("en"):
        outcomes = _by_number(
            tickets_bulk_apply(
                actor=agent,
                numbers=[fresh.number, closed.number, also_fresh.number],
                request=BulkRequest(action="stage", to_status="accepted"),
            )
        )

    assert outcomes[fresh.number].ok and outcomes[also_fresh.number].ok
    refused = outcomes[closed.number]
    assert (refused.ok, refused.code) == (False, "invalid_transition")
    assert "Cancelled" in refused.message and "Accepted" in refused.message
    assert Ticket.objects.get(pk=closed.pk).status == "cancelled"
    assert Ticket.objects.get(pk=fresh.pk).status == "accepted"
    assert AuditEvent.objects.filter(action="ticket.transition").count() == 2


def test_a_ticket_already_there_is_unchanged_not_refused(agent):
    ticket = TicketFactory(priority="high")
    [outcome] = tickets_bulk_apply(
        actor=agent, numbers=[ticket.number], request=BulkRequest(action="priority", priority="high")
    )
    assert (outcome.ok, outcome.code) == (True, "unchanged")
    assert not AuditEvent.objects.filter(action="ticket.update").exists()


def test_tag_is_added_to_the_tags_a_ticket_has(agent):
    ticket = TicketFactory()
    tickets_bulk_apply(actor=agent, numbers=[ticket.number], request=BulkRequest(action="tag", tag="漏水"))
    tickets_bulk_apply(actor=agent, numbers=[ticket.number], request=BulkRequest(action="tag", tag="回访"))
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["回访", "漏水"]


def test_merge_into_a_target_keeps_other_customers_out(agent):
    customer = CustomerFactory()
    target = TicketFactory(customer=customer)
    duplicate = TicketFactory(customer=customer)
    stranger = TicketFactory()

    outcomes = _by_number(
        tickets_bulk_apply(
            actor=agent,
            numbers=[duplicate.number, stranger.number, target.number],
            request=BulkRequest(action="merge", into=target.number),
        )
    )

    assert outcomes[duplicate.number].ok
    assert Ticket.objects.get(pk=duplicate.pk).merged_into_id == target.pk
    assert outcomes[stranger.number].code == "validation_error"
    assert "只能合并同一客户的工单" in outcomes[stranger.number].message  # the site language, Chinese
    assert outcomes[target.number].code == "validation_error"  # not into itself
    assert Ticket.objects.get(pk=stranger.pk).status == "new"


def test_merge_into_an_unknown_ticket_is_refused_before_anything(agent):
    ticket = TicketFactory()
    with pytest.raises(ValidationFailed) as error:
        tickets_bulk_apply(
            actor=agent, numbers=[ticket.number], request=BulkRequest(action="merge", into="T404")
        )
    assert "into" in error.value.details
    assert Ticket.objects.get(pk=ticket.pk).status == "new"


def test_technician_is_refused_what_it_may_not_do_and_cannot_reach_others_jobs():
    technician = UserFactory(role=Role.TECHNICIAN)
    own = TicketFactory(assignee=technician)
    others = TicketFactory()

    assign = _by_number(
        tickets_bulk_apply(
            actor=technician, numbers=[own.number], request=BulkRequest(action="priority", priority="urgent")
        )
    )
    assert assign[own.number].code == "permission_denied"

    stage = _by_number(
        tickets_bulk_apply(
            actor=technician,
            numbers=[own.number, others.number],
            request=BulkRequest(action="stage", to_status="accepted"),
        )
    )
    assert stage[own.number].ok
    assert stage[others.number].code == "not_found"  # out of scope: not even its existence
    assert Ticket.objects.get(pk=others.pk).status == "new"
    assert Ticket.objects.get(pk=own.pk).priority == "normal"


def test_supervisor_acts_only_within_its_scope():
    north = RegionFactory(code="north")
    south = RegionFactory(code="south")
    supervisor = UserFactory(role=Role.SUPERVISOR)
    supervisor.regions.set([north])
    team = TeamFactory()
    inside = TicketFactory(region=north)
    in_team = TicketFactory(region=south, team=team)
    outside = TicketFactory(region=south)
    team.members.add(supervisor)

    outcomes = _by_number(
        tickets_bulk_apply(
            actor=supervisor,
            numbers=[inside.number, in_team.number, outside.number],
            request=BulkRequest(action="priority", priority="urgent"),
        )
    )

    assert outcomes[inside.number].ok and outcomes[in_team.number].ok
    assert outcomes[outside.number].code == "not_found"
    assert Ticket.objects.get(pk=outside.pk).priority == "normal"
    # An organisation-wide agent reaches the same ticket.
    [agent_outcome] = tickets_bulk_apply(
        actor=UserFactory(role=Role.AGENT),
        numbers=[outside.number],
        request=BulkRequest(action="priority", priority="urgent"),
    )
    assert agent_outcome.ok


def test_customer_cannot_bulk_even_its_own_tickets():
    customer = CustomerFactory()
    login = customer_user(customer)
    ticket = TicketFactory(customer=customer)
    with pytest.raises(PermissionDenied):
        tickets_bulk_apply(
            actor=login, numbers=[ticket.number], request=BulkRequest(action="stage", to_status="cancelled")
        )
    assert Ticket.objects.get(pk=ticket.pk).status == "new"
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    ("numbers", "request_", "field"),
    [
        ([], BulkRequest(action="priority", priority="high"), "numbers"),
        (
            ["T1"] * 1 + [f"T{n}" for n in range(2, 103)],
            BulkRequest(action="priority", priority="high"),
            "numbers",
        ),
        (["T1"], BulkRequest(action="explode"), "action"),
        (["T1"], BulkRequest(action="stage", to_status="nowhere"), "to_status"),
        (["T1"], BulkRequest(action="priority", priority="sometime"), "priority"),
        (["T1"], BulkRequest(action="tag", tag="  "), "tag"),
    ],
)
def test_bad_requests_are_refused_whole(agent, numbers, request_, field):
    with pytest.raises(ValidationFailed) as error:
        tickets_bulk_apply(actor=agent, numbers=numbers, request=request_)
    assert field in error.value.details


def test_a_stale_read_does_not_stop_the_batch(agent):
    """Each ticket is read fresh inside its own transaction, so a change made meanwhile is seen."""
    ticket = TicketFactory()
    ticket_transition(ticket=ticket, actor=agent, to_status="accepted")
    [outcome] = tickets_bulk_apply(
        actor=agent, numbers=[ticket.number], request=BulkRequest(action="stage", to_status="diagnosing")
    )
    assert outcome.ok
    assert Ticket.objects.get(pk=ticket.pk).status == "diagnosing"
