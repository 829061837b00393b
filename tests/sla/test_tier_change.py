"""A customer's value tier changes: its open tickets follow, and the SLA policy is re-applied."""

from __future__ import annotations

import datetime as dt

import pytest

from aftersales.core.models import AuditEvent
from aftersales.customers.services import customer_update
from aftersales.sla.models import SlaPolicy, TicketSla
from aftersales.sla.policies import sla_policy_save
from aftersales.tickets.services import ticket_open, ticket_transition
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_open_tickets_follow_the_customer_tier_and_get_the_tier_policy(agent):
    customer = CustomerFactory(value_tier="potential")
    open_ticket = ticket_open(actor=agent, customer=customer, subject="漏水")
    done = ticket_open(actor=agent, customer=customer, subject="已完成")
    for status in ("accepted", "resolved", "closed"):
        done = ticket_transition(ticket=done, actor=agent, to_status=status)
    vip = sla_policy_save(
        actor=None,
        name="高价值客户",
        customer_tier="high_value",
        precedence=5,
        first_response=dt.timedelta(minutes=10),
    )
    customer_update(customer=customer, actor=agent, changes={"value_tier": "high_value"})
    open_ticket.refresh_from_db()
    done.refresh_from_db()
    assert (open_ticket.customer_tier, done.customer_tier) == ("high_value", "potential")
    assert (
        AuditEvent.objects.filter(action="ticket.customer_tier", object_id=str(open_ticket.pk)).count() == 1
    )
    applied = TicketSla.objects.get(pk=open_ticket.pk)
    assert applied.targets["first_response"]["policy"] == vip.pk
    assert SlaPolicy.objects.filter(pk=vip.pk).exists()
