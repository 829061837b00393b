"""Every write of the chat: conversations, their lines, the ticket behind them, agent presence.

A conversation becomes a ticket (channel chat) when it reaches a person: at its start when the
answer bot is off, when the visitor asks for a person, when an agent accepts it, or when the
visitor leaves a message. From then on every line is recorded on the ticket too: the visitor's
as customer messages, the agent's as public replies by that agent (so first response is
measured), the bot's as system events. Lines written before the ticket existed (the bot phase)
are copied onto it when it is opened.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from aftersales.core.errors import Conflict, PermissionDenied, ValidationFailed
from aftersales.core.events import publish
from aftersales.core.models import Team, User
from aftersales.core.roles import Capability
from aftersales.core.services import audit_record
from aftersales.core.text import text_problem
from aftersales.customers.identity import normalize_phone
from aftersales.customers.models import Contact, Customer
from aftersales.customers.services import customer_create, customer_identify
from aftersales.tickets.errors import TicketClosed
from aftersales.tickets.lifecycle import FINAL_STATUSES, TicketStatus
from aftersales.tickets.models import Channel, Ticket, TicketMessage
from aftersales.tickets.services import ticket_add_message, ticket_open, ticket_transition, ticket_update

from . import answer_bot
from .events import (
    ChatConversationAccepted,
    ChatConversationClosed,
    ChatConversationQueued,
    ChatConversationStarted,
    ChatMessagePosted,
)
from .models import (
    OPEN_STATUSES,
    AgentPresence,
    ChatChannel,
    ChatMessage,
    CloseReason,
    Conversation,
    ConversationStatus,
)

MAX_MESSAGE_CHARS = 2000
LANGUAGES = ("zh-hans", "en")
Status = ConversationStatus


# ---------------------------------------------------------------------------------------------
# checks


def normalise_language(language: str | None) -> str:
    value = (language or "").strip().lower().replace("_", "-")
    if value.startswith("en"):
        return "en"
    return "zh-hans"


def _text(value: Any, *, field: str, max_length: int, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationFailed(details={field: _("Enter text.")})
    value = value.strip()
    problem = text_problem(value)
    if problem:
        raise ValidationFailed(details={field: _("The text contains characters that are not allowed.")})
    if required and not value:
        raise ValidationFailed(details={field: _("This field is required.")})
    if len(value) > max_length:
        raise ValidationFailed(
            details={field: _("At most %(n)d characters.") % {"n": max_length}},
        )
    return value


def _contact_details(name: Any, email: Any, phone: Any) -> tuple[str, str, str]:
    name = _text(name, field="name", max_length=80)
    email = _text(email, field="email", max_length=254).lower()
    phone = _text(phone, field="phone", max_length=32)
    if email:
        try:
            validate_email(email)
        except DjangoValidationError:
            raise ValidationFailed(details={"email": _("Enter a valid e-mail address.")}) from None
    if phone:
        digits = [ch for ch in phone if ch.isdigit()]
        if len(digits) < 5 or any(not (ch.isdigit() or ch in "+-() ") for ch in phone):
            raise ValidationFailed(details={"phone": _("Enter a valid phone number.")})
        phone = normalize_phone(phone)
    return name, email, phone


def _body(value: Any) -> str:
    return _text(value, field="body", max_length=MAX_MESSAGE_CHARS, required=True)


def may_take_chats(user: User) -> bool:
    return bool(
        user.is_active
        and (user.is_staff_member or user.is_superuser)
        and user.can(Capability.TICKET_CREATE_FOR_CUSTOMER)
    )


def _require_chat_agent(user: User) -> None:
    if not may_take_chats(user):
        raise PermissionDenied()


def _conversation_changed(conversation: Conversation, expected_status: list[str], **values: Any) -> None:
    """Compare-and-set on (id, status, version): two agents accepting at once cannot both win."""
    now = timezone.now()
    values.setdefault("updated_at", now)
    updated = Conversation.objects.filter(
        pk=conversation.pk, status__in=expected_status, version=conversation.version
    ).update(version=F("version") + 1, **values)
    if updated != 1:
        raise Conflict(_("This chat was changed meanwhile; it has been refreshed."))
    for name, value in values.items():
        setattr(conversation, name, value)
    conversation.version += 1


def _touch(conversation: Conversation, **values: Any) -> None:
    values["updated_at"] = timezone.now()
    Conversation.objects.filter(pk=conversation.pk).update(**values)
    for name, value in values.items():
        setattr(conversation, name, value)


# ---------------------------------------------------------------------------------------------
# lines


def _system_line(conversation: Conversation, code: str, **data: Any) -> ChatMessage:
    line = ChatMessage.objects.create(
        conversation=conversation,
        author=ChatMessage.Author.SYSTEM,
        body=code,
        event_code=code,
        event_data=data,
    )
    publish(ChatMessagePosted(message=line))
    return line


def system_text(code: str, data: dict[str, Any]) -> str:
    """A system line in the active language."""
    texts = {
        "queued": _("You asked for a person. An agent will be with you shortly."),
        "queued_offline": _(
            "No agent is online right now. Please leave a message and we will get back to you."
        ),
        "agent_joined": _("%(agent)s joined the chat."),
        "closed_agent": _("The agent ended the chat."),
        "closed_visitor": _("The visitor ended the chat."),
        "closed_abandoned": _("The visitor left; the chat was closed."),
        "deflected": _("Glad we could help. The chat is closed."),
        "offline_left": _("Message received as ticket %(ticket)s. We will get back to you."),
        "contact_left": _("Contact details left: %(details)s"),
    }
    text = texts.get(code, code)
    try:
        return text % data if "%(" in text else text
    except (KeyError, TypeError, ValueError):
        return text


def _record_on_ticket(line: ChatMessage, conversation: Conversation, ticket: Ticket) -> None:
    """Copy one chat line onto the ticket; a closed ticket still gets it as an internal note."""
    author_agent = line.agent if line.author == ChatMessage.Author.AGENT else None
    if line.author == ChatMessage.Author.VISITOR:
        kwargs: dict[str, Any] = {"actor": None, "from_customer": True, "kind": TicketMessage.Kind.REPLY}
        body = line.body
    elif line.author == ChatMessage.Author.AGENT:
        kwargs = {"actor": author_agent, "kind": TicketMessage.Kind.REPLY}
        body = line.body
    elif line.author == ChatMessage.Author.BOT:
        with override(conversation.language):
            prefix = _("Answer bot")
        body = f"{prefix}: {line.body}"
        links = "\n".join(f"- {s.get('title', '')} {s.get('url', '')}".rstrip() for s in line.sources or [])
        if links:
            body = f"{body}\n{links}"
        kwargs = {"actor": None, "kind": TicketMessage.Kind.EVENT, "event_code": "chat.bot"}
    else:
        return  # system lines are the chat's own bookkeeping, not part of the customer's story
    try:
        with transaction.atomic():
            message = ticket_add_message(ticket=ticket, body=body, channel=Channel.CHAT, **kwargs)
    except TicketClosed:
        # The ticket was closed while the chat went on: nothing is lost, it becomes a note.
        message = ticket_add_message(
            ticket=ticket,
            actor=author_agent,
            body=body,
            kind=TicketMessage.Kind.NOTE,
            channel=Channel.CHAT,
            from_customer=line.author == ChatMessage.Author.VISITOR,
        )
    ChatMessage.objects.filter(pk=line.pk).update(ticket_message=message)
    line.ticket_message = message


def _line(
    conversation: Conversation,
    *,
    author: str,
    body: str,
    agent: User | None = None,
    sources: list[dict[str, Any]] | None = None,
    options: list[str] | None = None,
) -> ChatMessage:
    line = ChatMessage.objects.create(
        conversation=conversation,
        author=author,
        agent=agent,
        body=body,
        sources=sources or [],
        options=options or [],
    )
    if conversation.ticket_id:
        assert conversation.ticket is not None
        _record_on_ticket(line, conversation, conversation.ticket)
    publish(ChatMessagePosted(message=line))
    return line


# ---------------------------------------------------------------------------------------------
# the ticket behind a conversation


def _placeholder_customer(conversation: Conversation) -> tuple[Customer, Contact | None]:
    """A visitor who left no e-mail or phone: a customer of their own, for this conversation.

    ``customer_identify`` needs an identifier; an anonymous visitor gets a customer record named
    after the conversation, which an agent can merge into the right customer later."""
    with override("zh-hans"):
        name = conversation.visitor_name or _("Website visitor %(n)s") % {"n": conversation.pk}
        notes = _("Created for chat conversation %(n)s; the visitor left no contact details.") % {
            "n": conversation.pk
        }
    customer = customer_create(actor=None, name=name[:120], notes=notes, contact_name=name[:80])
    return customer, customer.contacts.order_by("id").first()


def _subject(conversation: Conversation) -> str:
    first = (
        conversation.messages.filter(author=ChatMessage.Author.VISITOR)
        .order_by("id")
        .values_list("body", flat=True)
        .first()
    )
    text = " ".join((first or "").split())
    if not text:
        with override(conversation.language):
            return _("Website chat with %(visitor)s") % {"visitor": conversation.visitor_label}
    return text if len(text) <= 80 else text[:79] + "…"


def _ensure_ticket(conversation: Conversation) -> Ticket:
    if conversation.ticket_id:
        assert conversation.ticket is not None
        return conversation.ticket
    contact: Contact | None
    if conversation.visitor_email or conversation.visitor_phone:
        customer, contact, _created = customer_identify(
            actor=None,
            name=conversation.visitor_name,
            email=conversation.visitor_email,
            phone=conversation.visitor_phone,
            channel=Channel.CHAT,
            language=conversation.language,
        )
    else:
        customer, contact = _placeholder_customer(conversation)
    team: Team | None = conversation.channel.team
    ticket = ticket_open(
        actor=None,
        customer=customer,
        contact=contact,
        subject=_subject(conversation),
        channel=Channel.CHAT,
        team=team if team is not None and team.is_active else None,
    )
    _touch(conversation, ticket=ticket, customer=customer)
    audit_record(
        actor=None,
        obj=conversation,
        action="chat.conversation.ticket",
        after={"ticket": ticket.number, "customer": customer.pk},
    )
    # The lines written before the ticket existed (the bot phase) become its first messages.
    for line in (
        conversation.messages.filter(ticket_message__isnull=True).select_related("agent").order_by("id")
    ):
        _record_on_ticket(line, conversation, ticket)
    return ticket


# ---------------------------------------------------------------------------------------------
# the visitor's side


def _ask_bot(conversation: Conversation, question: str) -> None:
    answer = answer_bot.ask(session_id=conversation.bot_session_id, question=question)
    if answer is None:
        # The bot is gone or failing: a person takes over rather than leaving the visitor alone.
        _queue(conversation)
        return
    if answer.text:
        _line(
            conversation,
            author=ChatMessage.Author.BOT,
            body=answer.text,
            sources=answer.sources,
            options=answer.options if answer.kind == "clarify" else [],
        )
    if answer.kind == "handover":
        _queue(conversation)


@transaction.atomic
def conversation_start(
    *,
    channel: ChatChannel,
    language: str = "zh-hans",
    body: Any = "",
    name: Any = "",
    email: Any = "",
    phone: Any = "",
    page_url: Any = "",
) -> tuple[Conversation, str]:
    """Start a visitor's conversation; returns it and its token (kept only by the visitor)."""
    if not channel.is_active:
        raise ValidationFailed(details={"channel": _("This chat is not available.")})
    name, email, phone = _contact_details(name, email, phone)
    first = _text(body, field="body", max_length=MAX_MESSAGE_CHARS)
    page = _text(page_url, field="page_url", max_length=500)
    language = normalise_language(language)
    token = secrets.token_urlsafe(32)
    use_bot = answer_bot.bot_enabled()
    now = timezone.now()
    conversation = Conversation.objects.create(
        channel=channel,
        public_token=token,
        status=Status.BOT if use_bot else Status.WAITING,
        language=language,
        visitor_name=name,
        visitor_email=email,
        visitor_phone=phone,
        page_url=page,
        created_at=now,
        updated_at=now,
        waiting_since=None if use_bot else now,
        last_visitor_seen_at=now,
    )
    audit_record(
        actor=None,
        obj=conversation,
        action="chat.conversation.start",
        after={"channel": channel.public_key, "status": conversation.status, "language": language},
    )
    publish(ChatConversationStarted(conversation=conversation))
    if use_bot:
        session_id = answer_bot.session_start(language=language)
        if session_id is None:
            _conversation_changed(conversation, [Status.BOT], status=Status.WAITING, waiting_since=now)
        else:
            _touch(conversation, bot_session_id=session_id)
    if first:
        conversation_visitor_message(conversation=conversation, body=first)
    elif conversation.status == Status.WAITING:
        publish(ChatConversationQueued(conversation=conversation))
    conversation.refresh_from_db()
    return conversation, token


@transaction.atomic
def conversation_visitor_message(*, conversation: Conversation, body: Any) -> ChatMessage:
    text = _body(body)
    conversation = (
        Conversation.objects.select_for_update(of=("self",))
        .select_related("channel", "ticket")
        .get(pk=conversation.pk)
    )
    if not conversation.is_open:
        raise Conflict(_("This chat has ended. Start a new one to write again."), code="chat_closed")
    line = _line(conversation, author=ChatMessage.Author.VISITOR, body=text)
    _touch(conversation, last_visitor_seen_at=timezone.now())
    if conversation.status == Status.WAITING and not conversation.ticket_id:
        _ensure_ticket(conversation)
        publish(ChatConversationQueued(conversation=conversation))
    elif conversation.status == Status.BOT:
        _ask_bot(conversation, text)
    return line


def _queue(conversation: Conversation) -> None:
    """Hand the conversation to the agents: it gets its ticket and waits in the queue."""
    if conversation.status == Status.BOT:
        _conversation_changed(conversation, [Status.BOT], status=Status.WAITING, waiting_since=timezone.now())
    ticket = _ensure_ticket(conversation)
    answer_bot.hand_over(
        session_id=conversation.bot_session_id,
        customer=conversation.customer,
        ticket=ticket,
        subject=ticket.subject,
    )
    from .selectors import agents_available

    code = "queued" if agents_available(channel=conversation.channel) else "queued_offline"
    _system_line(conversation, code)
    audit_record(
        actor=None, obj=conversation, action="chat.conversation.queue", after={"ticket": ticket.number}
    )
    publish(ChatConversationQueued(conversation=conversation))


@transaction.atomic
def conversation_request_agent(*, conversation: Conversation) -> Conversation:
    """The visitor asks for a person ("talk to a person")."""
    conversation = (
        Conversation.objects.select_for_update(of=("self",))
        .select_related("channel", "ticket")
        .get(pk=conversation.pk)
    )
    if not conversation.is_open:
        raise Conflict(_("This chat has ended. Start a new one to write again."), code="chat_closed")
    if conversation.status == Status.BOT:
        _queue(conversation)
    return conversation


@transaction.atomic
def conversation_bot_feedback(*, conversation: Conversation, solved: bool) -> Conversation:
    """The visitor's verdict on the bot's answers: solved closes the chat (deflected, no ticket)."""
    conversation = (
        Conversation.objects.select_for_update(of=("self",))
        .select_related("channel", "ticket")
        .get(pk=conversation.pk)
    )
    if conversation.status != Status.BOT:
        raise Conflict(_("The answer bot is no longer part of this chat."), code="chat_not_with_bot")
    if not solved:
        _queue(conversation)
        return conversation
    answer_bot.resolve(session_id=conversation.bot_session_id, solved=True)
    now = timezone.now()
    _conversation_changed(
        conversation, [Status.BOT], status=Status.CLOSED, close_reason=CloseReason.DEFLECTED, closed_at=now
    )
    _system_line(conversation, "deflected")
    audit_record(
        actor=None,
        obj=conversation,
        action="chat.conversation.close",
        before={"status": Status.BOT},
        after={"status": Status.CLOSED, "reason": CloseReason.DEFLECTED},
    )
    publish(ChatConversationClosed(conversation=conversation, actor=None, reason=CloseReason.DEFLECTED))
    return conversation


@transaction.atomic
def conversation_set_contact(
    *, conversation: Conversation, name: Any = "", email: Any = "", phone: Any = ""
) -> Conversation:
    """The visitor leaves (more) contact details. Before the ticket exists they decide who the
    customer is; afterwards they are noted on the ticket for the agent."""
    name, email, phone = _contact_details(name, email, phone)
    conversation = (
        Conversation.objects.select_for_update(of=("self",))
        .select_related("channel", "ticket")
        .get(pk=conversation.pk)
    )
    if not conversation.is_open:
        raise Conflict(_("This chat has ended. Start a new one to write again."), code="chat_closed")
    changes = {
        field: value
        for field, value in (("visitor_name", name), ("visitor_email", email), ("visitor_phone", phone))
        if value and value != getattr(conversation, field)
    }
    if not changes:
        return conversation
    before = {field: getattr(conversation, field) for field in changes}
    _touch(conversation, **changes)
    audit_record(
        actor=None, obj=conversation, action="chat.conversation.contact", before=before, after=changes
    )
    if conversation.ticket_id:
        assert conversation.ticket is not None
        details = ", ".join(value for value in (name, email, phone) if value)
        with override(conversation.ticket.customer.language or "zh-hans"):
            note = system_text("contact_left", {"details": details})
        ticket_add_message(
            ticket=conversation.ticket,
            actor=None,
            body=note,
            kind=TicketMessage.Kind.NOTE,
            channel=Channel.CHAT,
        )
        _system_line(conversation, "contact_left", details=details)
    return conversation


@transaction.atomic
def conversation_leave_message(
    *,
    channel: ChatChannel,
    language: str = "zh-hans",
    name: Any = "",
    email: Any = "",
    phone: Any = "",
    body: Any = "",
    page_url: Any = "",
    conversation: Conversation | None = None,
) -> Conversation:
    """No agent is online: the visitor's message becomes a ticket (channel chat) at once."""
    name, email, phone = _contact_details(name, email, phone)
    if not (email or phone):
        raise ValidationFailed(
            details={"contact": _("Leave an e-mail address or a phone number so we can answer.")}
        )
    text = _body(body)
    if conversation is None:
        if not channel.is_active:
            raise ValidationFailed(details={"channel": _("This chat is not available.")})
        now = timezone.now()
        conversation = Conversation.objects.create(
            channel=channel,
            public_token=secrets.token_urlsafe(32),
            status=Status.OFFLINE_MESSAGE,
            language=normalise_language(language),
            visitor_name=name,
            visitor_email=email,
            visitor_phone=phone,
            page_url=_text(page_url, field="page_url", max_length=500),
            created_at=now,
            updated_at=now,
            last_visitor_seen_at=now,
        )
        audit_record(
            actor=None,
            obj=conversation,
            action="chat.conversation.offline_message",
            after={"channel": channel.public_key},
        )
        publish(ChatConversationStarted(conversation=conversation))
        _line(conversation, author=ChatMessage.Author.VISITOR, body=text)
    else:
        conversation = (
            Conversation.objects.select_for_update(of=("self",))
            .select_related("channel", "ticket")
            .get(pk=conversation.pk)
        )
        if conversation.status not in (Status.BOT, Status.WAITING):
            raise Conflict(_("This chat has ended. Start a new one to write again."), code="chat_closed")
        if not conversation.ticket_id:
            # The customer is who they now say they are.
            _touch(
                conversation,
                visitor_name=name or conversation.visitor_name,
                visitor_email=email or conversation.visitor_email,
                visitor_phone=phone or conversation.visitor_phone,
            )
        else:
            conversation_set_contact(conversation=conversation, name=name, email=email, phone=phone)
        _line(conversation, author=ChatMessage.Author.VISITOR, body=text)
        old_status = conversation.status
        _conversation_changed(
            conversation,
            [Status.BOT, Status.WAITING],
            status=Status.OFFLINE_MESSAGE,
            close_reason=CloseReason.OFFLINE,
            closed_at=timezone.now(),
        )
        audit_record(
            actor=None,
            obj=conversation,
            action="chat.conversation.offline_message",
            before={"status": old_status},
            after={"status": Status.OFFLINE_MESSAGE},
        )
    if conversation.status != Status.OFFLINE_MESSAGE:
        _conversation_changed(conversation, list(OPEN_STATUSES), status=Status.OFFLINE_MESSAGE)
    ticket = _ensure_ticket(conversation)
    if conversation.bot_session_id:
        answer_bot.hand_over(
            session_id=conversation.bot_session_id,
            customer=conversation.customer,
            ticket=ticket,
            subject=ticket.subject,
        )
    _system_line(conversation, "offline_left", ticket=ticket.number)
    publish(ChatConversationClosed(conversation=conversation, actor=None, reason=CloseReason.OFFLINE))
    return conversation


@transaction.atomic
def conversation_visitor_seen(*, conversation: Conversation) -> None:
    """The visitor's stream is alive (a heartbeat, not a business change: no audit row)."""
    Conversation.objects.filter(pk=conversation.pk).update(last_visitor_seen_at=timezone.now())


# ---------------------------------------------------------------------------------------------
# the agent's side


@transaction.atomic
def conversation_accept(*, conversation: Conversation, agent: User) -> Conversation:
    _require_chat_agent(agent)
    conversation = (
        Conversation.objects.select_for_update(of=("self",))
        .select_related("channel", "ticket")
        .get(pk=conversation.pk)
    )
    if conversation.status not in (Status.BOT, Status.WAITING):
        if conversation.status == Status.ACTIVE and conversation.assigned_agent_id == agent.pk:
            return conversation
        raise Conflict(
            _("Another agent has taken this chat, or it has ended."),
            code="chat_taken",
            details={"status": conversation.status},
        )
    old_status = conversation.status
    now = timezone.now()
    _conversation_changed(
        conversation,
        [Status.BOT, Status.WAITING],
        status=Status.ACTIVE,
        assigned_agent=agent,
        accepted_at=now,
        waiting_since=conversation.waiting_since or now,
    )
    ticket = _ensure_ticket(conversation)
    if old_status == Status.BOT:
        answer_bot.hand_over(
            session_id=conversation.bot_session_id,
            customer=conversation.customer,
            ticket=ticket,
            subject=ticket.subject,
        )
    ticket.refresh_from_db()
    if (
        ticket.assignee_id is None
        and ticket.status not in FINAL_STATUSES
        and agent.can(Capability.TICKET_EDIT)
    ):
        ticket = ticket_update(ticket=ticket, actor=agent, changes={"assignee": agent})
    if ticket.status == TicketStatus.NEW and agent.can(Capability.TICKET_TRANSITION):
        ticket_transition(ticket=ticket, actor=agent, to_status=TicketStatus.ACCEPTED)
    _system_line(conversation, "agent_joined", agent=str(agent))
    audit_record(
        actor=agent,
        obj=conversation,
        action="chat.conversation.accept",
        before={"status": old_status},
        after={"status": Status.ACTIVE, "agent": agent.pk},
    )
    publish(ChatConversationAccepted(conversation=conversation, agent=agent))
    return conversation


def _check_may_answer(conversation: Conversation, agent: User) -> None:
    _require_chat_agent(agent)
    if conversation.status != Status.ACTIVE:
        raise Conflict(_("Accept the chat before answering."), code="chat_not_active")
    if conversation.assigned_agent_id != agent.pk and not agent.can(Capability.TICKET_ASSIGN):
        raise PermissionDenied(_("Another agent is handling this chat."))


@transaction.atomic
def conversation_agent_message(*, conversation: Conversation, agent: User, body: Any) -> ChatMessage:
    text = _body(body)
    conversation = (
        Conversation.objects.select_for_update(of=("self",))
        .select_related("channel", "ticket")
        .get(pk=conversation.pk)
    )
    _check_may_answer(conversation, agent)
    _ensure_ticket(conversation)
    line = _line(conversation, author=ChatMessage.Author.AGENT, body=text, agent=agent)
    _touch(conversation)
    audit_record(
        actor=agent,
        obj=conversation,
        action="chat.message.agent",
        after={"message": line.pk, "length": len(text)},
    )
    return line


@transaction.atomic
def conversation_close(*, conversation: Conversation, actor: User | None) -> Conversation:
    """End the chat (the agent, or the visitor when ``actor`` is None); the ticket stays open."""
    conversation = (
        Conversation.objects.select_for_update(of=("self",))
        .select_related("channel", "ticket")
        .get(pk=conversation.pk)
    )
    if actor is not None:
        _require_chat_agent(actor)
    if not conversation.is_open:
        return conversation
    old_status = conversation.status
    reason = CloseReason.AGENT if actor is not None else CloseReason.VISITOR
    _conversation_changed(
        conversation, list(OPEN_STATUSES), status=Status.CLOSED, close_reason=reason, closed_at=timezone.now()
    )
    if old_status == Status.BOT:
        answer_bot.resolve(session_id=conversation.bot_session_id, solved=False)
    _system_line(conversation, "closed_agent" if actor is not None else "closed_visitor")
    audit_record(
        actor=actor,
        obj=conversation,
        action="chat.conversation.close",
        before={"status": old_status},
        after={"status": Status.CLOSED, "reason": reason},
    )
    publish(ChatConversationClosed(conversation=conversation, actor=actor, reason=reason))
    return conversation


def conversations_close_abandoned(*, idle_minutes: int = 30, batch: int = 500) -> int:
    """Close open chats whose visitor left (no page open and no line for ``idle_minutes``).

    A sweep: each row is closed by compare-and-set in its own transaction, so it is safe to run
    twice or on several schedulers at once; the tickets stay open for follow-up."""
    cutoff = timezone.now() - dt.timedelta(minutes=idle_minutes)
    ids = list(
        Conversation.objects.filter(status__in=OPEN_STATUSES, updated_at__lt=cutoff)
        .filter(Q(last_visitor_seen_at__lt=cutoff) | Q(last_visitor_seen_at__isnull=True))
        .order_by("id")
        .values_list("id", flat=True)[:batch]
    )
    closed = 0
    for conversation_id in ids:
        with transaction.atomic():
            conversation = (
                Conversation.objects.select_for_update(of=("self",)).filter(pk=conversation_id).first()
            )
            if conversation is None or not conversation.is_open:
                continue
            seen = conversation.last_visitor_seen_at
            if conversation.updated_at >= cutoff or (seen is not None and seen >= cutoff):
                continue
            old_status = conversation.status
            _conversation_changed(
                conversation,
                [old_status],
                status=Status.CLOSED,
                close_reason=CloseReason.ABANDONED,
                closed_at=timezone.now(),
            )
            _system_line(conversation, "closed_abandoned")
            audit_record(
                actor=None,
                obj=conversation,
                action="chat.conversation.close",
                before={"status": old_status},
                after={"status": Status.CLOSED, "reason": CloseReason.ABANDONED},
            )
            publish(
                ChatConversationClosed(conversation=conversation, actor=None, reason=CloseReason.ABANDONED)
            )
            closed += 1
    return closed


@transaction.atomic
def agent_presence_set(*, user: User, online: bool) -> AgentPresence:
    _require_chat_agent(user)
    now = timezone.now()
    presence, _created = AgentPresence.objects.select_for_update().get_or_create(user=user)
    before = {"is_online": presence.is_online}
    presence.is_online = online
    presence.last_seen_at = now
    presence.changed_at = now
    presence.save(update_fields=["is_online", "last_seen_at", "changed_at"])
    if before["is_online"] != online:
        audit_record(
            actor=user, obj=presence, action="chat.presence", before=before, after={"is_online": online}
        )
    return presence


def agent_presence_heartbeat(*, user: User) -> bool:
    """The console is open: keep an online agent online. A heartbeat, not a change: no audit row."""
    return bool(AgentPresence.objects.filter(user=user, is_online=True).update(last_seen_at=timezone.now()))


@transaction.atomic
def chat_channel_save(*, actor: User, channel: ChatChannel, created: bool) -> ChatChannel:
    """Create or edit a chat channel (from the admin)."""
    if not actor.can(Capability.CONFIGURE):
        raise PermissionDenied()
    channel.name = _text(channel.name, field="name", max_length=80, required=True)
    for origin in channel.origins():
        if origin != "*" and not origin.startswith(("http://", "https://")):
            raise ValidationFailed(
                details={"allowed_origins": _("An origin starts with http:// or https://.")}
            )
    channel.save()
    audit_record(
        actor=actor,
        obj=channel,
        action="chat.channel.create" if created else "chat.channel.update",
        after={
            "name": channel.name,
            "allowed_origins": channel.origins(),
            "team": channel.team_id,
            "is_active": channel.is_active,
        },
    )
    return channel


@transaction.atomic
def conversations_follow_customer_merge(*, source_id: int, target_id: int, actor: User | None) -> int:
    """Conversations of a customer merged into another now belong to that one (``CustomersMerged``)."""
    ids = list(Conversation.objects.filter(customer_id=source_id).order_by("id").values_list("id", flat=True))
    moved = Conversation.objects.filter(pk__in=ids).update(customer_id=target_id)
    if moved:
        audit_record(
            actor=actor,
            obj=Customer.objects.get(pk=target_id),
            action="chat.conversation.follow_customer_merge",
            after={"from_customer": source_id, "conversations": ids},
        )
    return moved
