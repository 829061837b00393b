"""A merged customer's chats and calls follow it, like its tickets and products do."""

from __future__ import annotations

import pytest

from aftersales.channels.chat.models import Conversation
from aftersales.channels.phone.models import CallRecord
from aftersales.core.models import AuditEvent
from aftersales.core.roles import Role
from aftersales.customers.services import customer_merge
from tests.chat.factories import ChatChannelFactory
from tests.factories import CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_conversations_and_call_records_move_to_the_surviving_customer():
    supervisor = UserFactory(role=Role.ADMIN)
    duplicate, survivor, bystander = CustomerFactory(), CustomerFactory(), CustomerFactory()
    channel = ChatChannelFactory()
    chat = Conversation.objects.create(channel=channel, public_token="tok-merge-1", customer=duplicate)
    other_chat = Conversation.objects.create(channel=channel, public_token="tok-merge-2", customer=bystander)
    call = CallRecord.objects.create(customer=duplicate, caller_number="+8613800000001")

    customer_merge(actor=supervisor, source=duplicate, target=survivor)

    chat.refresh_from_db()
    other_chat.refresh_from_db()
    call.refresh_from_db()
    assert chat.customer_id == survivor.pk
    assert call.customer_id == survivor.pk
    assert other_chat.customer_id == bystander.pk
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"chat.conversation.follow_customer_merge", "phone.call.follow_customer_merge"} <= actions
