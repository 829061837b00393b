"""The parts clerk as README.md and docs/roles.md say: reads every ticket and writes internal
notes; it neither replies to the customer nor moves the ticket (core/roles.py)."""

from __future__ import annotations

import pytest
from django.test import Client

from aftersales.core.roles import ROLE_CAPABILITIES, Capability, Role
from aftersales.tickets.models import TicketMessage
from tests.factories import TicketFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_the_role_table_gives_the_parts_clerk_reading_and_notes_only():
    capabilities = ROLE_CAPABILITIES[Role.PARTS_CLERK]
    assert Capability.TICKET_VIEW_ALL in capabilities
    assert Capability.TICKET_INTERNAL_NOTE in capabilities
    assert Capability.TICKET_REPLY not in capabilities
    assert Capability.TICKET_TRANSITION not in capabilities


def test_the_console_offers_the_parts_clerk_notes_but_no_reply_and_no_stage_change():
    ticket = TicketFactory()
    client = Client()
    client.force_login(UserFactory(role=Role.PARTS_CLERK))

    page = client.get(f"/console/tickets/{ticket.number}/").content.decode()
    assert f"/console/tickets/{ticket.number}/transition/" not in page
    assert 'value="reply"' not in page

    client.post(f"/console/tickets/{ticket.number}/transition/", {"to_status": "accepted", "to": "accepted"})
    client.post(f"/console/tickets/{ticket.number}/reply/", {"body": "您好", "kind": "reply"})
    client.post(f"/console/tickets/{ticket.number}/reply/", {"body": "备件已到库", "kind": "note"})
    ticket.refresh_from_db()
    assert ticket.status == "new"
    assert list(ticket.messages.values_list("kind", "body")) == [(TicketMessage.Kind.NOTE, "备件已到库")]
