"""Writes of the telephony app: calls logged by agents and events from the call centre.

An answered call is the phone channel's first response: the agent is talking to the customer.
The ticket's ``first_responded_at`` is set from the first answered call (through
``tickets.services.response``); its ``TicketFirstResponded`` event meets the SLA's first-response
clock at the same moment (the SLA subscribes; the channel does not call it).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.core.errors import PermissionDenied, ValidationFailed
from aftersales.core.models import User
from aftersales.core.roles import Capability, Role
from aftersales.core.services import audit_record
from aftersales.customers.identity import normalize_phone
from aftersales.customers.models import Customer
from aftersales.customers.services import customer_identify
from aftersales.tickets.errors import TicketClosed
from aftersales.tickets.lifecycle import FINAL_STATUSES, OPEN_STATUSES, TicketStatus
from aftersales.tickets.models import Channel, Priority, Ticket, TicketMessage, TicketType
from aftersales.tickets.selectors import ticket_get_for_user
from aftersales.tickets.services import (
    phone_call_log,
    ticket_add_message,
    ticket_open,
    ticket_transition,
    ticket_update,
)
from aftersales.tickets.services.response import ticket_record_first_response

from .models import AnswerMode, CallDirection, CallRecord, CallStatus, CtiEvent, CtiSource
from .selectors import caller_find

MAX_DURATION_SECONDS = 24 * 3600


def _check_recording_url(url: str) -> str:
    url = url.strip()
    if url and not url.lower().startswith(("http://", "https://")):
        raise ValidationFailed(
            details={"recording_url": _("A recording link starts with http:// or https://.")}
        )
    return url


def _first_response(*, ticket: Ticket, at: dt.datetime, actor: User | None) -> None:
    """The answered call counts as the ticket's first response (if none was given yet)."""
    ticket_record_first_response(ticket=ticket, at=max(at, ticket.created_at), actor=actor, via="phone")


# --- calls an agent logs in the console ----------------------------------------------------------


@transaction.atomic
def call_record_log(
    *,
    actor: User,
    ticket: Ticket | None,
    customer: Customer | None,
    direction: str,
    number: str,
    duration_seconds: int | None = None,
    recording_url: str = "",
    ended_at: dt.datetime | None = None,
) -> CallRecord:
    """Record a call the agent just had (answered, now ended) on ``ticket``."""
    if not actor.can(Capability.TICKET_CREATE_FOR_CUSTOMER):
        raise PermissionDenied()
    if direction not in CallDirection.values:
        raise ValidationFailed(details={"direction": _("Choose inbound or outbound.")})
    if duration_seconds is not None and not 0 <= duration_seconds <= MAX_DURATION_SECONDS:
        raise ValidationFailed(details={"duration": _("A call lasts between 0 seconds and 24 hours.")})
    recording_url = _check_recording_url(recording_url)
    end = ended_at or timezone.now()
    start = end - dt.timedelta(seconds=duration_seconds or 0)
    own = actor.phone or ""
    call = CallRecord.objects.create(
        ticket=ticket,
        customer=customer if customer is not None else (ticket.customer if ticket else None),
        direction=direction,
        caller_number=number[:32] if direction == CallDirection.INBOUND else own[:32],
        callee_number=own[:32] if direction == CallDirection.INBOUND else number[:32],
        agent=actor,
        started_at=start,
        answered_at=start,
        ended_at=end,
        duration_seconds=duration_seconds,
        status=CallStatus.ENDED,
        recording_url=recording_url,
        source="console",
    )
    audit_record(
        actor=actor,
        obj=call,
        action="phone.call.log",
        after={
            "ticket": ticket.number if ticket else None,
            "direction": direction,
            "duration_seconds": duration_seconds,
        },
    )
    if ticket is not None:
        _first_response(ticket=ticket, at=start, actor=actor)
    return call


@transaction.atomic
def phone_call_log_with_record(
    *,
    actor: User,
    phone: str,
    subject: str,
    notes: str = "",
    type: str = TicketType.CONSULTATION,  # noqa: A002 - the domain word
    priority: str = Priority.NORMAL,
    customer_id: int | None = None,
    customer_name: str = "",
    installed_product_id: int | None = None,
    direction: str = CallDirection.INBOUND,
    duration_seconds: int | None = None,
    recording_url: str = "",
) -> tuple[Ticket, CallRecord]:
    """The console's "log a phone call": open the phone ticket and record the call on it, in one
    transaction (a refused call record leaves no ticket behind)."""
    ticket = phone_call_log(
        actor=actor,
        phone=phone,
        subject=subject,
        notes=notes,
        type=type,
        priority=priority,
        customer_id=customer_id,
        customer_name=customer_name,
        installed_product_id=installed_product_id,
    )
    call = call_record_log(
        actor=actor,
        ticket=ticket,
        customer=ticket.customer,
        direction=direction,
        number=phone.strip(),
        duration_seconds=duration_seconds,
        recording_url=recording_url,
    )
    return ticket, call


@transaction.atomic
def call_log_on_ticket(
    *,
    actor: User,
    ticket_number: str,
    phone: str,
    notes: str = "",
    direction: str = CallDirection.INBOUND,
    duration_seconds: int | None = None,
    recording_url: str = "",
) -> tuple[Ticket, CallRecord]:
    """The console's "log a phone call" about a ticket the caller already has: the call is
    recorded on it and the agent's notes become an internal note; no new ticket."""
    ticket = ticket_get_for_user(number=ticket_number.strip().upper(), user=actor)
    if ticket.status in FINAL_STATUSES:
        raise TicketClosed()
    call = call_record_log(
        actor=actor,
        ticket=ticket,
        customer=ticket.customer,
        direction=direction,
        number=phone.strip(),
        duration_seconds=duration_seconds,
        recording_url=recording_url,
    )
    if notes.strip():
        ticket_add_message(
            ticket=ticket, actor=actor, body=notes, kind=TicketMessage.Kind.NOTE, channel=Channel.PHONE
        )
    return ticket, call


# --- call-centre (CTI) events --------------------------------------------------------------------


@dataclass(frozen=True)
class CtiEventData:
    event: str
    call_id: str
    direction: str = CallDirection.INBOUND
    caller: str = ""
    callee: str = ""
    agent_extension: str = ""
    agent_email: str = ""
    occurred_at: dt.datetime | None = None
    duration_seconds: int | None = None
    recording_url: str = ""


@dataclass(frozen=True)
class CtiOutcome:
    call: CallRecord
    duplicate: bool


def _agent(data: CtiEventData) -> User | None:
    staff = User.objects.filter(is_active=True).exclude(role=Role.CUSTOMER)
    if data.agent_email:
        found = staff.filter(email__iexact=data.agent_email).order_by("id").first()
        if found is not None:
            return found
    if data.agent_extension:
        return staff.filter(phone=data.agent_extension).order_by("id").first()
    return None


def _customer_number(call: CallRecord) -> str:
    return call.caller_number if call.direction == CallDirection.INBOUND else call.callee_number


def _open_ticket_of(customer: Customer) -> Ticket | None:
    return (
        Ticket.objects.filter(customer=customer, status__in=sorted(OPEN_STATUSES), merged_into__isnull=True)
        .order_by("-updated_at", "-id")
        .first()
    )


def _identified_customer(call: CallRecord) -> Customer | None:
    number = _customer_number(call)
    if call.customer is not None:
        return call.customer
    if not normalize_phone(number):
        return None
    customer, _contact, _created = customer_identify(actor=None, phone=number, channel="phone")
    call.customer = customer
    return customer


def _ticket_for_call(source: CtiSource, call: CallRecord) -> None:
    """Attach the inbound call to the caller's open ticket, or open a phone ticket for it.

    Done when the phone rings (or at the first event that arrives), so the ticket's clock starts
    when the customer starts waiting: its first response is the answer, and ring → answer is what
    the phone channel's 60-second target measures.
    """
    if call.ticket_id is not None or source.answer_mode == AnswerMode.RECORD_ONLY:
        return
    if call.direction == CallDirection.OUTBOUND:
        # An agent calling a customer back: the call joins the customer's open ticket, if any.
        if source.answer_mode == AnswerMode.ATTACH_OR_OPEN and call.customer is not None:
            call.ticket = _open_ticket_of(call.customer)
        return
    customer = _identified_customer(call)
    if customer is None:
        return
    ticket = _open_ticket_of(customer) if source.answer_mode == AnswerMode.ATTACH_OR_OPEN else None
    if ticket is None:
        ticket = ticket_open(
            actor=None,
            customer=customer,
            subject=_("Phone call from %(number)s") % {"number": call.caller_number or "?"},
            channel=Channel.PHONE,
            team=source.default_team,
            assignee=call.agent if call.agent is not None and call.agent.is_staff_member else None,
            contact=customer.contacts.order_by("-is_primary", "id").first(),
        )
        call.opened_ticket = True
    call.ticket = ticket


def _assign_answering_agent(call: CallRecord) -> None:
    """A ticket the call opened goes to the agent who answered it (if nobody has it yet)."""
    ticket, agent = call.ticket, call.agent
    if not call.opened_ticket or ticket is None or agent is None or ticket.assignee_id is not None:
        return
    if not agent.can(Capability.TICKET_ASSIGN) or ticket.status != TicketStatus.NEW:
        return
    ticket_update(ticket=ticket, actor=agent, changes={"assignee": agent})


def _missed(source: CtiSource, call: CallRecord) -> None:
    """An inbound call nobody answered: the customer is owed a call back."""
    if call.direction != CallDirection.INBOUND:
        return
    if call.ticket is None:
        _callback_for_missed(source, call)
        return
    when = timezone.localtime(call.started_at).strftime("%Y-%m-%d %H:%M")
    if call.opened_ticket and not source.missed_call_ticket:
        # Configured not to keep tickets for missed calls: the one the ringing opened goes.
        ticket_transition(
            ticket=call.ticket,
            actor=None,
            to_status=TicketStatus.CANCELLED,
            note=_("Missed call; no callback."),
        )
        call.ticket = None
        return
    if source.missed_call_ticket and call.ticket.status not in FINAL_STATUSES:
        ticket_add_message(
            ticket=call.ticket,
            actor=None,
            kind=TicketMessage.Kind.NOTE,
            body=_("Missed call at %(time)s. Call the customer back.") % {"time": when},
        )


def _callback_for_missed(source: CtiSource, call: CallRecord) -> None:
    if not source.missed_call_ticket or call.direction != CallDirection.INBOUND or call.ticket_id is not None:
        return
    customer = _identified_customer(call)
    if customer is None:
        return
    pending = (
        CallRecord.objects.filter(
            customer=customer, status=CallStatus.MISSED, ticket__status="new", ticket__channel=Channel.PHONE
        )
        .exclude(pk=call.pk)
        .select_related("ticket")
        .order_by("-id")
        .first()
    )
    when = timezone.localtime(call.started_at).strftime("%Y-%m-%d %H:%M")
    if pending is not None and pending.ticket is not None:
        # One callback per caller: a second missed call joins the callback already waiting.
        ticket_add_message(
            ticket=pending.ticket,
            actor=None,
            kind=TicketMessage.Kind.NOTE,
            body=_("Another missed call from %(number)s at %(time)s.")
            % {"number": call.caller_number, "time": when},
        )
        call.ticket = pending.ticket
        return
    call.ticket = ticket_open(
        actor=None,
        customer=customer,
        subject=_("Call back: missed call from %(number)s") % {"number": call.caller_number or "?"},
        description=_("Missed call at %(time)s. Call the customer back.") % {"time": when},
        channel=Channel.PHONE,
        priority=Priority.HIGH,
        team=source.default_team,
        contact=customer.contacts.order_by("-is_primary", "id").first(),
    )


def _status_of(call: CallRecord, missed: bool) -> str:
    if call.answered_at is not None:
        return CallStatus.ENDED if call.ended_at is not None else CallStatus.ANSWERED
    if missed or call.ended_at is not None:
        return CallStatus.MISSED
    return CallStatus.RINGING


def _apply(source: CtiSource, call: CallRecord, data: CtiEventData, at: dt.datetime) -> None:
    if data.caller:
        call.caller_number = data.caller[:32]
    if data.callee:
        call.callee_number = data.callee[:32]
    agent = _agent(data)
    if agent is not None:
        call.agent = agent
    if data.recording_url:
        call.recording_url = data.recording_url
    if call.customer_id is None:
        call.customer = caller_find(phone=_customer_number(call))
    if data.event == CallStatus.RINGING:
        call.started_at = min(call.started_at, at)
    elif data.event == CallStatus.ANSWERED:
        call.answered_at = at
        call.started_at = min(call.started_at, at)
    elif data.event in (CallStatus.ENDED, CallStatus.MISSED):
        call.ended_at = at
    if data.duration_seconds is not None:
        call.duration_seconds = data.duration_seconds
    elif call.ended_at is not None and call.answered_at is not None:
        call.duration_seconds = max(0, int((call.ended_at - call.answered_at).total_seconds()))
    previous_status = call.status if call.pk else ""
    call.status = _status_of(call, missed=data.event == CallStatus.MISSED)
    if call.status == CallStatus.MISSED:
        if previous_status != CallStatus.MISSED:
            _missed(source, call)
        return
    _ticket_for_call(source, call)
    if call.status in (CallStatus.ANSWERED, CallStatus.ENDED):
        _assign_answering_agent(call)


def _locked_call(source: CtiSource, call_id: str) -> CallRecord | None:
    return (
        CallRecord.objects.select_for_update(of=("self",))
        .select_related("ticket", "customer", "agent")
        .filter(source=source.key, external_call_id=call_id)
        .first()
    )


@transaction.atomic
def cti_event_receive(*, source: CtiSource, data: CtiEventData) -> CtiOutcome:
    """Apply one call-centre event. Idempotent per (source, call id, event): a resent event
    changes nothing and returns the call as it is."""
    if data.event not in CallStatus.values:
        raise ValidationFailed(details={"event": _("Unknown call event.")})
    if data.duration_seconds is not None and not 0 <= data.duration_seconds <= MAX_DURATION_SECONDS:
        raise ValidationFailed(
            details={"duration_seconds": _("A call lasts between 0 seconds and 24 hours.")}
        )
    _check_recording_url(data.recording_url)
    seen = (
        CtiEvent.objects.filter(source=source, external_call_id=data.call_id, event=data.event)
        .select_related("call")
        .first()
    )
    if seen is not None and seen.call is not None:
        return CtiOutcome(call=seen.call, duplicate=True)
    at = data.occurred_at or timezone.now()
    try:
        with transaction.atomic():
            event = CtiEvent.objects.create(
                source=source,
                external_call_id=data.call_id,
                event=data.event,
                payload=_payload(data),
                received_at=timezone.now(),
            )
    except IntegrityError:
        # The same event, delivered twice at once: the other delivery applies it.
        seen = CtiEvent.objects.select_related("call").get(
            source=source, external_call_id=data.call_id, event=data.event
        )
        if seen.call is None:
            raise
        return CtiOutcome(call=seen.call, duplicate=True)
    call = _locked_call(source, data.call_id)
    created = call is None
    if call is None:
        try:
            with transaction.atomic():
                call = CallRecord.objects.create(
                    source=source.key,
                    external_call_id=data.call_id,
                    direction=data.direction,
                    started_at=at,
                    status=CallStatus.RINGING,
                )
        except IntegrityError:
            # Another event of this call created it at the same moment: wait for it, then apply.
            call = _locked_call(source, data.call_id)
            if call is None:
                raise
            created = False
    before_ticket = call.ticket_id
    _apply(source, call, data, at)
    call.save()
    CtiEvent.objects.filter(pk=event.pk).update(call=call)
    if call.ticket is not None and call.answered_at is not None and call.agent is not None:
        _first_response(ticket=call.ticket, at=call.answered_at, actor=call.agent)
    audit_record(
        actor=None,
        obj=call,
        action=f"phone.cti.{data.event}",
        after={
            "source": source.key,
            "call_id": data.call_id,
            "status": call.status,
            "ticket": call.ticket.number if call.ticket is not None else None,
            "created": created,
            "ticket_linked": call.ticket_id != before_ticket,
        },
    )
    return CtiOutcome(call=call, duplicate=False)


def _payload(data: CtiEventData) -> dict[str, Any]:
    return {
        "event": data.event,
        "call_id": data.call_id,
        "direction": data.direction,
        "caller": data.caller,
        "callee": data.callee,
        "agent_extension": data.agent_extension,
        "agent_email": data.agent_email,
        "occurred_at": data.occurred_at.isoformat() if data.occurred_at else None,
        "duration_seconds": data.duration_seconds,
        "recording_url": data.recording_url,
    }


@transaction.atomic
def call_records_follow_customer_merge(*, source_id: int, target_id: int, actor: User | None) -> int:
    """Call records of a customer merged into another now belong to that one (``CustomersMerged``)."""
    ids = list(CallRecord.objects.filter(customer_id=source_id).order_by("id").values_list("id", flat=True))
    moved = CallRecord.objects.filter(pk__in=ids).update(customer_id=target_id)
    if moved:
        audit_record(
            actor=actor,
            obj=Customer.objects.get(pk=target_id),
            action="phone.call.follow_customer_merge",
            after={"from_customer": source_id, "calls": ids},
        )
    return moved
