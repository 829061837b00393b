"""Call-centre (CTI) events: signed, idempotent, and turned into call records and tickets."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from django.test import Client

from aftersales.channels.phone.models import CallRecord, CtiEvent
from aftersales.channels.phone.selectors import caller_find
from aftersales.channels.webhooks import signing
from aftersales.sla.models import SlaClock
from aftersales.tickets.models import Ticket, TicketMessage
from aftersales.tickets.services import ticket_open
from tests.factories import ContactFactory, CustomerFactory, UserFactory

from .factories import CtiSourceFactory

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 9, 21, 9, 0, tzinfo=dt.UTC)
URL = "/api/v1/phone/cti/events"


def post(source, event: dict, *, secret: str | None = None, key: str | None = None, raw: bytes | None = None):
    """Send ``event`` signed, at the moment it happened (the clock stands still meanwhile)."""
    body = raw if raw is not None else json.dumps(event).encode()
    try:
        moment = dt.datetime.fromisoformat(event.get("occurred_at") or "")
    except ValueError:
        moment = T0
    if moment.tzinfo is None:
        moment = T0
    with time_machine.travel(moment, tick=False):
        return Client().post(
            URL,
            data=body,
            content_type="application/json",
            headers={
                "X-Aftersales-Source": key or source.key,
                signing.SIGNATURE_HEADER: signing.sign(secret or source.secret, body),
            },
        )


def event(name: str, at: dt.datetime, **extra):
    payload = {
        "event": name,
        "call_id": "CALL-1",
        "direction": "inbound",
        "caller": "+86 138 0000 0001",
        "callee": "400-800-1234",
        "occurred_at": at.isoformat(),
    }
    payload.update(extra)
    return payload


@pytest.fixture
def source(db):
    return CtiSourceFactory()


@pytest.fixture
def customer(db):
    customer = CustomerFactory(phone="13800000001")
    ContactFactory(customer=customer)
    return customer


@pytest.fixture
def agent_on_phone(db):
    return UserFactory(role="agent", phone="8001", email="zhang@example.com")


def test_ringing_finds_the_caller_and_opens_a_phone_ticket_while_they_wait(source, customer):
    response = post(source, event("ringing", T0))
    assert response.status_code == 200, response.content
    call = CallRecord.objects.get()
    assert (call.status, call.customer, call.direction, call.started_at) == (
        "ringing",
        customer,
        "inbound",
        T0,
    )
    ticket = Ticket.objects.get()
    assert (call.ticket, call.opened_ticket) == (ticket, True)
    assert (ticket.channel, ticket.customer, ticket.created_at, ticket.first_responded_at) == (
        "phone",
        customer,
        T0,
        None,
    )
    assert response.json()["call"]["status"] == "ringing"


def test_ringing_from_an_unknown_number_makes_the_caller_a_customer(source):
    post(source, event("ringing", T0, caller="0086 139 1234 5678"))
    call = CallRecord.objects.get()
    assert call.customer is not None
    assert call.ticket.customer == call.customer
    # Found again however the number is spelled next time.
    assert caller_find(phone="139 1234 5678") == call.customer


def test_an_answered_call_attaches_to_the_callers_open_ticket_and_is_its_first_response(
    source, customer, agent_on_phone, admin_user
):
    ticket = ticket_open(actor=admin_user, customer=customer, subject="热水器漏水", channel="email")
    Ticket.objects.filter(pk=ticket.pk).update(created_at=T0 - dt.timedelta(minutes=5))
    post(source, event("ringing", T0))
    post(source, event("answered", T0 + dt.timedelta(seconds=42), agent_extension="8001"))
    call = CallRecord.objects.get()
    assert (call.status, call.ticket, call.agent) == ("answered", ticket, agent_on_phone)
    assert call.wait_seconds == 42
    ticket.refresh_from_db()
    assert ticket.first_responded_at == T0 + dt.timedelta(seconds=42)
    first_response = SlaClock.objects.get(ticket=ticket, target="first_response")
    assert (first_response.status, first_response.stopped_at) == ("met", T0 + dt.timedelta(seconds=42))
    assert Ticket.objects.count() == 1


def test_the_answer_is_the_first_response_of_the_ticket_the_ringing_opened(source, customer, agent_on_phone):
    post(source, event("ringing", T0))
    post(source, event("answered", T0 + dt.timedelta(seconds=20), agent_email="ZHANG@example.com"))
    ticket = Ticket.objects.get()
    assert (ticket.channel, ticket.customer, ticket.assignee) == ("phone", customer, agent_on_phone)
    # Ring to answer: the phone channel's first-response time, and the SLA's 60 s clock is met.
    assert ticket.first_responded_at - ticket.created_at == dt.timedelta(seconds=20)
    clock = SlaClock.objects.get(ticket=ticket, target="first_response")
    assert (clock.status, clock.stopped_at) == ("met", T0 + dt.timedelta(seconds=20))
    assert CallRecord.objects.get().wait_seconds == 20


def test_an_answered_call_from_a_new_number_without_ringing_opens_a_ticket(source, agent_on_phone):
    post(source, event("answered", T0, caller="+86 139 1234 5678", agent_extension="8001"))
    ticket = Ticket.objects.get()
    assert ticket.assignee == agent_on_phone
    assert caller_find(phone="13912345678") == ticket.customer


def test_record_only_sources_open_no_ticket(source, customer):
    source.answer_mode = "record_only"
    source.save()
    post(source, event("answered", T0))
    assert CallRecord.objects.get().ticket is None
    assert not Ticket.objects.exists()


def test_the_end_of_a_call_records_duration_and_recording(source, customer, agent_on_phone):
    post(source, event("ringing", T0))
    post(source, event("answered", T0 + dt.timedelta(seconds=10), agent_extension="8001"))
    post(
        source,
        event(
            "ended",
            T0 + dt.timedelta(seconds=190),
            recording_url="https://rec.example.com/CALL-1.mp3",
        ),
    )
    call = CallRecord.objects.get()
    assert (call.status, call.duration_seconds, call.recording_url) == (
        "ended",
        180,
        "https://rec.example.com/CALL-1.mp3",
    )
    assert call.ended_at == T0 + dt.timedelta(seconds=190)


def test_a_missed_call_leaves_a_callback_note_on_its_ticket_and_repeated_calls_join_it(source, customer):
    post(source, event("ringing", T0))
    post(source, event("missed", T0 + dt.timedelta(seconds=30)))
    ticket = Ticket.objects.get()
    assert (ticket.channel, ticket.customer, ticket.status) == ("phone", customer, "new")
    assert CallRecord.objects.get().status == "missed"
    notes = TicketMessage.objects.filter(ticket=ticket, kind="note")
    assert notes.count() == 1 and "17:00" in notes.get().body  # the missed call's local time
    # The same caller rings again and is missed again: one ticket, two calls, two notes.
    post(source, event("ringing", T0 + dt.timedelta(minutes=5), call_id="CALL-2"))
    post(source, event("missed", T0 + dt.timedelta(minutes=6), call_id="CALL-2"))
    assert Ticket.objects.count() == 1
    assert CallRecord.objects.filter(ticket=ticket).count() == 2
    assert TicketMessage.objects.filter(ticket=ticket, kind="note").count() == 2


def test_a_missed_call_reported_without_ringing_opens_one_high_priority_callback(source, customer):
    post(source, event("missed", T0))
    ticket = Ticket.objects.get()
    assert (ticket.channel, ticket.priority, ticket.customer) == ("phone", "high", customer)
    post(source, event("missed", T0 + dt.timedelta(minutes=2), call_id="CALL-2"))
    assert Ticket.objects.count() == 1
    assert CallRecord.objects.filter(ticket=ticket).count() == 2
    assert TicketMessage.objects.filter(ticket=ticket, kind="note").count() == 1


def test_without_callbacks_a_missed_call_cancels_the_ticket_its_ringing_opened(source, customer):
    source.missed_call_ticket = False
    source.save()
    post(source, event("ringing", T0))
    post(source, event("missed", T0 + dt.timedelta(seconds=30)))
    assert Ticket.objects.get().status == "cancelled"
    assert CallRecord.objects.get().ticket is None


def test_an_ended_call_that_was_never_answered_is_missed(source, customer):
    post(source, event("ringing", T0))
    post(source, event("ended", T0 + dt.timedelta(seconds=25)))
    assert CallRecord.objects.get().status == "missed"
    assert TicketMessage.objects.filter(kind="note").count() == 1


def test_a_resent_event_changes_nothing(source, customer, agent_on_phone):
    first = post(source, event("answered", T0, agent_extension="8001"))
    again = post(source, event("answered", T0, agent_extension="8001"))
    assert (first.json()["duplicate"], again.json()["duplicate"]) == (False, True)
    assert again.json()["call"]["id"] == first.json()["call"]["id"]
    assert CallRecord.objects.count() == 1
    assert CtiEvent.objects.count() == 1
    assert Ticket.objects.count() == 1


def test_the_same_call_id_from_another_source_is_another_call(source, customer):
    other = CtiSourceFactory()
    post(source, event("ringing", T0))
    post(other, event("ringing", T0))
    assert CallRecord.objects.count() == 2


def refused(response, status, code):
    assert response.status_code == status, response.content
    assert response.json()["code"] == code


def test_a_wrong_signature_unknown_source_or_stale_time_is_refused_and_records_nothing(source, customer):
    refused(post(source, event("ringing", T0), secret="ctisec_wrong"), 401, "signature_invalid")
    refused(post(source, event("ringing", T0), key="nobody"), 401, "signature_invalid")
    body = json.dumps(event("ringing", T0)).encode()
    stale = signing.sign(source.secret, body, timestamp=int((T0 + dt.timedelta(minutes=20)).timestamp()))
    response = Client().post(
        URL,
        data=body,
        content_type="application/json",
        headers={"X-Aftersales-Source": source.key, signing.SIGNATURE_HEADER: stale},
    )
    refused(response, 401, "timestamp_out_of_range")
    # A bearer token is not how a call centre authenticates.
    refused(Client().post(URL, data=body, content_type="application/json"), 401, "signature_invalid")
    assert not CallRecord.objects.exists()
    assert not CtiEvent.objects.exists()


def test_an_invalid_event_is_refused_after_the_signature_and_records_nothing(source):
    refused(post(source, {"event": "exploded", "call_id": "X"}), 422, "validation_error")
    refused(post(source, event("ringing", T0, duration_seconds=-1)), 422, "validation_error")
    refused(post(source, event("ended", T0, recording_url="javascript:alert(1)")), 422, "validation_error")
    refused(post(source, event("ringing", T0, occurred_at="2026-09-21T09:00:00")), 422, "validation_error")
    refused(post(source, {}, raw=b"{oops"), 400, "malformed_request")
    refused(
        post(source, {}, raw=b'{"event": "ringing", "call_id": "' + b"x" * 70_000 + b'"}'),
        413,
        "payload_too_large",
    )
    assert not CallRecord.objects.exists()
    assert not CtiEvent.objects.exists()


def test_calls_api_lists_a_tickets_calls_for_staff_only(source, customer, agent_on_phone, api_as):
    post(source, event("answered", T0, agent_extension="8001"))
    ticket = Ticket.objects.get()
    items = api_as(agent_on_phone).get("/api/v1/phone/calls", {"ticket": ticket.number}).json()["items"]
    assert [(c["ticket"], c["status"], c["external_call_id"]) for c in items] == [
        (ticket.number, "answered", "CALL-1")
    ]
    from tests.factories import customer_user

    assert api_as(customer_user(customer)).get("/api/v1/phone/calls").status_code == 403


def test_an_outbound_call_joins_the_customers_open_ticket_and_counts_as_its_response(
    source, customer, agent_on_phone, admin_user
):
    with time_machine.travel(T0 - dt.timedelta(hours=1), tick=False):
        ticket = ticket_open(actor=admin_user, customer=customer, subject="请回电", channel="web")
    outbound = {
        "direction": "outbound",
        "caller": "8001",
        "callee": "138-0000-0001",
        "agent_extension": "8001",
    }
    post(source, event("ringing", T0, **outbound))
    post(source, event("answered", T0 + dt.timedelta(seconds=8), **outbound))
    call = CallRecord.objects.get()
    assert (call.direction, call.customer, call.ticket) == ("outbound", customer, ticket)
    ticket.refresh_from_db()
    assert ticket.first_responded_at == T0 + dt.timedelta(seconds=8)
    assert Ticket.objects.count() == 1


def test_an_outbound_call_to_a_customer_without_open_tickets_opens_nothing(source, customer):
    post(source, event("missed", T0, direction="outbound", caller="8001", callee="13800000001"))
    assert CallRecord.objects.get().ticket is None
    assert not Ticket.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_events_of_one_call_arriving_at_once_make_one_call_and_one_ticket():
    import threading

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL; SQLite serialises them")
    source = CtiSourceFactory()
    customer = CustomerFactory(phone="13800000001")
    ContactFactory(customer=customer)
    UserFactory(role="agent", phone="8001")
    events = [
        event("ringing", T0),
        event("answered", T0 + dt.timedelta(seconds=5), agent_extension="8001"),
        event("answered", T0 + dt.timedelta(seconds=5), agent_extension="8001"),
        event("ended", T0 + dt.timedelta(seconds=65), recording_url="https://rec.example.com/1.mp3"),
    ]
    barrier = threading.Barrier(len(events))
    statuses: list[int] = []

    def send(payload):
        try:
            barrier.wait()
            body = json.dumps(payload).encode()  # signed now: no clock travel across threads
            response = Client().post(
                URL,
                data=body,
                content_type="application/json",
                headers={
                    "X-Aftersales-Source": source.key,
                    signing.SIGNATURE_HEADER: signing.sign(source.secret, body),
                },
            )
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(payload,)) for payload in events]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200, 200, 200, 200]
    call = CallRecord.objects.get()
    assert (call.status, call.answered_at, call.recording_url) == (
        "ended",
        T0 + dt.timedelta(seconds=5),
        "https://rec.example.com/1.mp3",
    )
    assert CtiEvent.objects.count() == 3
    assert Ticket.objects.count() == 1
