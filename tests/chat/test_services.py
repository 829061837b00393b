"""Chat services: a conversation becomes a ticket, every line is on it, agents take turns safely."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from aftersales.channels.chat.models import AgentPresence, ChatMessage, Conversation
from aftersales.channels.chat.selectors import agents_available
from aftersales.channels.chat.services import (
    agent_presence_heartbeat,
    agent_presence_set,
    conversation_accept,
    conversation_agent_message,
    conversation_close,
    conversation_leave_message,
    conversation_set_contact,
    conversation_start,
    conversation_visitor_message,
)
from aftersales.core.errors import Conflict, PermissionDenied, ValidationFailed
from aftersales.core.models import AuditEvent
from aftersales.core.roles import Role
from aftersales.customers.models import Customer
from aftersales.tickets.lifecycle import TicketStatus
from aftersales.tickets.models import Ticket, TicketMessage
from tests.factories import ContactFactory, CustomerFactory, TeamFactory, UserFactory, customer_user

pytestmark = pytest.mark.django_db


def test_a_visitor_with_an_email_becomes_a_known_customer_and_a_chat_ticket(channel):
    known = ContactFactory(customer=CustomerFactory(email="wang@example.com", name="王先生")).customer
    conversation, token = conversation_start(
        channel=channel, body="热水器不出热水", name="王先生", email="Wang@Example.com"
    )
    conversation.refresh_from_db()
    assert conversation.status == "waiting"
    assert len(token) >= 40 and conversation.public_token == token
    ticket = conversation.ticket
    assert ticket is not None
    assert ticket.channel == "chat"
    assert ticket.customer == known
    assert ticket.subject == "热水器不出热水"
    messages = list(ticket.messages.all())
    assert [(m.body, m.is_from_customer, m.channel, m.kind) for m in messages] == [
        ("热水器不出热水", True, "chat", "reply")
    ]
    assert ChatMessage.objects.get(conversation=conversation).ticket_message == messages[0]
    assert AuditEvent.objects.filter(
        action="chat.conversation.start", object_id=str(conversation.pk)
    ).exists()


def test_an_anonymous_visitor_gets_a_customer_of_their_own(channel):
    conversation, _token = conversation_start(channel=channel, body="马桶一直漏水")
    conversation.refresh_from_db()
    customer = conversation.ticket.customer
    assert customer.email == "" and customer.phone == ""
    assert str(conversation.pk) in customer.name
    other, _ = conversation_start(channel=channel, body="另一个问题")
    other.refresh_from_db()
    assert other.ticket.customer != customer


def test_a_phone_number_identifies_the_customer(channel):
    known = ContactFactory(customer=CustomerFactory(phone="13912345678")).customer
    conversation, _ = conversation_start(channel=channel, body="预约安装", phone="139 1234 5678")
    conversation.refresh_from_db()
    assert conversation.ticket.customer == known


def test_start_without_a_message_opens_no_ticket_until_the_visitor_writes(channel):
    conversation, _ = conversation_start(channel=channel, name="李女士", email="li@example.com")
    conversation.refresh_from_db()
    assert conversation.ticket is None
    conversation_visitor_message(conversation=conversation, body="浴室柜门松了")
    conversation.refresh_from_db()
    assert conversation.ticket.subject == "浴室柜门松了"


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("email", {"email": "not-an-email"}),
        ("phone", {"phone": "12"}),
        ("phone", {"phone": "call me maybe"}),
        ("body", {"body": "x" * 2001}),
        ("name", {"name": "a\x00b"}),
        ("body", {"body": ["not", "text"]}),
    ],
)
def test_bad_input_is_refused_and_nothing_is_created(channel, field, kwargs):
    with pytest.raises(ValidationFailed) as caught:
        conversation_start(channel=channel, **kwargs)
    assert field in caught.value.details
    assert not Conversation.objects.exists()
    assert not Ticket.objects.exists()


def test_an_agent_accepts_answers_and_first_response_is_measured(channel, agent):
    conversation, _ = conversation_start(channel=channel, body="龙头滴水怎么办", email="a@example.com")
    conversation_accept(conversation=conversation, agent=agent)
    conversation.refresh_from_db()
    assert conversation.status == "active"
    assert conversation.assigned_agent == agent
    ticket = conversation.ticket
    ticket.refresh_from_db()
    assert ticket.assignee == agent
    assert ticket.status == TicketStatus.ACCEPTED
    assert ticket.first_responded_at is None

    line = conversation_agent_message(conversation=conversation, agent=agent, body="请先关闭角阀。")
    ticket.refresh_from_db()
    reply = line.ticket_message
    assert reply.author == agent and reply.kind == "reply" and not reply.is_from_customer
    assert reply.channel == "chat"
    assert ticket.first_responded_at == reply.created_at

    conversation_visitor_message(conversation=conversation, body="好的，谢谢")
    bodies = list(ticket.messages.filter(kind="reply").values_list("body", "is_from_customer"))
    assert bodies == [("龙头滴水怎么办", True), ("请先关闭角阀。", False), ("好的，谢谢", True)]


def test_two_agents_cannot_both_take_a_chat(channel, agent):
    other = UserFactory(role=Role.AGENT)
    conversation, _ = conversation_start(channel=channel, body="咨询保修")
    stale = Conversation.objects.get(pk=conversation.pk)
    conversation_accept(conversation=conversation, agent=agent)
    with pytest.raises(Conflict) as caught:
        conversation_accept(conversation=stale, agent=other)
    assert caught.value.code == "chat_taken"
    conversation.refresh_from_db()
    assert conversation.assigned_agent == agent
    assert conversation.messages.filter(event_code="agent_joined").count() == 1


def test_only_desk_staff_take_chats(channel):
    conversation, _ = conversation_start(channel=channel, body="你好")
    for user in (UserFactory(role=Role.TECHNICIAN), customer_user()):
        with pytest.raises(PermissionDenied):
            conversation_accept(conversation=conversation, agent=user)
    conversation.refresh_from_db()
    assert conversation.status == "waiting" and conversation.assigned_agent is None


def test_an_agent_must_accept_before_answering(channel, agent):
    conversation, _ = conversation_start(channel=channel, body="你好")
    with pytest.raises(Conflict):
        conversation_agent_message(conversation=conversation, agent=agent, body="您好")
    assert not TicketMessage.objects.filter(author=agent).exists()


def test_closing_the_chat_keeps_the_ticket_open_and_refuses_more_lines(channel, agent):
    conversation, _ = conversation_start(channel=channel, body="热水器报E1")
    conversation_accept(conversation=conversation, agent=agent)
    conversation_close(conversation=conversation, actor=agent)
    conversation.refresh_from_db()
    assert conversation.status == "closed" and conversation.close_reason == "agent"
    assert conversation.ticket.status == TicketStatus.ACCEPTED
    with pytest.raises(Conflict) as caught:
        conversation_visitor_message(conversation=conversation, body="还在吗")
    assert caught.value.code == "chat_closed"
    assert not conversation.ticket.messages.filter(body="还在吗").exists()


def test_a_closed_ticket_still_receives_the_chat_as_a_note(channel, agent):
    conversation, _ = conversation_start(channel=channel, body="咨询")
    conversation_accept(conversation=conversation, agent=agent)
    Ticket.objects.filter(pk=conversation.ticket_id).update(
        status=TicketStatus.CLOSED, closed_at=timezone.now()
    )
    conversation_visitor_message(conversation=conversation, body="补充一句")
    kept = TicketMessage.objects.get(ticket=conversation.ticket_id, body="补充一句")
    assert kept.kind == "note" and kept.is_from_customer


def test_leaving_a_message_opens_a_ticket_at_once(channel):
    conversation = conversation_leave_message(
        channel=channel, name="赵先生", phone="13800001111", body="晚上能上门吗？", language="en"
    )
    conversation.refresh_from_db()
    assert conversation.status == "offline_message"
    assert conversation.language == "en"
    ticket = conversation.ticket
    assert ticket.channel == "chat" and ticket.customer.phone.endswith("13800001111")
    assert ticket.messages.get().body == "晚上能上门吗？"
    assert conversation.messages.filter(event_code="offline_left").get().event_data == {
        "ticket": ticket.number
    }


def test_leaving_a_message_needs_a_way_to_answer(channel):
    with pytest.raises(ValidationFailed) as caught:
        conversation_leave_message(channel=channel, name="赵", body="你好")
    assert "contact" in caught.value.details
    assert not Ticket.objects.exists() and not Customer.objects.exists()


def test_a_waiting_chat_turns_into_a_left_message(channel):
    conversation, _ = conversation_start(channel=channel, body="有人吗")
    left = conversation_leave_message(
        channel=channel, email="qian@example.com", body="请回电", conversation=conversation
    )
    left.refresh_from_db()
    assert left.pk == conversation.pk and left.status == "offline_message"
    assert list(left.ticket.messages.filter(kind="reply").values_list("body", flat=True)) == [
        "有人吗",
        "请回电",
    ]
    assert left.ticket.messages.filter(kind="note", body__contains="qian@example.com").exists()


def test_contact_details_before_the_ticket_decide_the_customer(channel):
    known = ContactFactory(customer=CustomerFactory(email="sun@example.com")).customer
    conversation, _ = conversation_start(channel=channel)
    conversation_set_contact(conversation=conversation, email="sun@example.com")
    conversation_visitor_message(conversation=conversation, body="马桶盖坏了")
    conversation.refresh_from_db()
    assert conversation.ticket.customer == known


def test_the_channel_team_receives_the_ticket(channel):
    team = TeamFactory()
    channel.team = team
    channel.save()
    conversation, _ = conversation_start(channel=channel, body="安装预约")
    conversation.refresh_from_db()
    assert conversation.ticket.team == team


def test_presence_lasts_sixty_seconds_after_the_last_heartbeat(channel, agent):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        agent_presence_set(user=agent, online=True)
        assert agents_available(channel=channel)
    with time_machine.travel(start + dt.timedelta(seconds=59), tick=False):
        assert agents_available(channel=channel)
        assert agent_presence_heartbeat(user=agent)
    with time_machine.travel(start + dt.timedelta(seconds=118), tick=False):
        assert agents_available(channel=channel)
    with time_machine.travel(start + dt.timedelta(seconds=120), tick=False):
        assert not agents_available(channel=channel)
    agent_presence_set(user=agent, online=False)
    assert not AgentPresence.objects.get(user=agent).is_online
    assert not agent_presence_heartbeat(user=agent)
    assert AuditEvent.objects.filter(action="chat.presence").count() == 2


def test_a_team_channel_needs_a_team_member_online(channel, agent):
    team = TeamFactory()
    member = UserFactory(role=Role.AGENT)
    team.members.add(member)
    channel.team = team
    channel.save()
    agent_presence_set(user=agent, online=True)
    assert not agents_available(channel=channel)
    agent_presence_set(user=member, online=True)
    assert agents_available(channel=channel)


def test_chats_whose_visitor_left_are_closed_by_the_sweep(channel, agent):
    from aftersales.channels.chat.services import conversations_close_abandoned
    from aftersales.channels.chat.tasks import close_abandoned

    start = timezone.now()
    with time_machine.travel(start, tick=False):
        left, _ = conversation_start(channel=channel, body="走了")
        staying, _ = conversation_start(channel=channel, body="还在")
    with time_machine.travel(start + dt.timedelta(minutes=25), tick=False):
        from aftersales.channels.chat.services import conversation_visitor_seen

        conversation_visitor_seen(conversation=staying)
    with time_machine.travel(start + dt.timedelta(minutes=31), tick=False):
        assert close_abandoned() == 1
        assert conversations_close_abandoned() == 0  # safe to run twice
    left.refresh_from_db()
    staying.refresh_from_db()
    assert (left.status, left.close_reason) == ("closed", "abandoned")
    assert left.messages.filter(event_code="closed_abandoned").count() == 1
    assert left.ticket.status == TicketStatus.NEW  # the ticket stays for follow-up
    assert staying.status == "waiting"


def test_many_abandoned_bot_chats_never_hide_a_waiting_one(channel, agent, settings):
    from aftersales.channels.chat.selectors import console_conversations

    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for index in range(120):
            Conversation.objects.create(
                channel=channel, public_token=f"old-{index}", status="bot", last_visitor_seen_at=start
            )
    with time_machine.travel(start + dt.timedelta(minutes=20), tick=False):
        waiting, _ = conversation_start(channel=channel, body="有人吗")
        fresh = Conversation.objects.create(
            channel=channel, public_token="fresh", status="bot", last_visitor_seen_at=timezone.now()
        )
        rows = console_conversations(user=agent)
    assert [c.pk for c in rows] == [waiting.pk, fresh.pk]


def test_accepting_a_chat_whose_ticket_was_closed_still_works(channel, agent):
    conversation, _ = conversation_start(channel=channel, body="咨询")
    Ticket.objects.filter(pk=conversation.ticket_id).update(
        status=TicketStatus.CLOSED, closed_at=timezone.now()
    )
    conversation_accept(conversation=conversation, agent=agent)
    conversation.refresh_from_db()
    assert conversation.status == "active"
    line = conversation_agent_message(conversation=conversation, agent=agent, body="您好")
    assert (line.ticket_message.kind, line.ticket_message.author) == ("note", agent)
