"""The signed inbound endpoint: WeChat, social media, shops and ERPs create and update tickets.

Every refusal is checked to create nothing: no customer, contact, ticket, message or reference,
only a "refused" line in the delivery log.
"""

from __future__ import annotations

import json
import threading
import time

import pytest
import time_machine
from django.db import connection
from django.test import Client

from aftersales.channels.webhooks import signing
from aftersales.channels.webhooks.models import ExternalRef, InboundDelivery
from aftersales.customers.models import Contact, Customer
from aftersales.tickets.models import Ticket, TicketMessage
from aftersales.tickets.services import ticket_transition
from tests.factories import ContactFactory, CustomerFactory, InstalledProductFactory, TeamFactory

from .factories import InboundSourceFactory

pytestmark = pytest.mark.django_db

NOW = 1_790_000_000  # 2026-09-21, a fixed clock for the signatures


def create_event(**data):
    payload = {
        "external_id": "WX-1001",
        "customer": {"wechat_openid": "oWX_abc123", "name": "李女士", "phone": "+86 139 0000 1111"},
        "subject": "马桶冲水无力",
        "description": "从昨天开始冲水无力",
        "type": "repair",
    }
    payload.update(data)
    return {"type": "ticket.create", "data": payload}


def send(
    source,
    document=None,
    *,
    raw: bytes | None = None,
    event_id: str | None = "evt-0001",
    secret: str | None = None,
    timestamp: int | None = None,
    signature: str | None = None,
    language: str = "en",
    key: str | None = None,
    client: Client | None = None,
):
    body = raw if raw is not None else json.dumps(document, ensure_ascii=False).encode()
    headers = {"Accept-Language": language}
    if signature is None:
        signature = signing.sign(secret or source.secret, body, timestamp=timestamp or int(time.time()))
    if signature:
        headers[signing.SIGNATURE_HEADER] = signature
    if event_id is not None:
        headers[signing.EVENT_ID_HEADER] = event_id
    return (client or Client()).post(
        f"/webhooks/in/{key or source.key}/", data=body, content_type="application/json", headers=headers
    )


def counts():
    return {
        "customers": Customer.objects.count(),
        "contacts": Contact.objects.count(),
        "tickets": Ticket.objects.count(),
        "messages": TicketMessage.objects.count(),
        "refs": ExternalRef.objects.count(),
        "accepted": InboundDelivery.objects.filter(status="accepted").count(),
    }


@pytest.fixture
def source(db):
    return InboundSourceFactory(default_team=TeamFactory())


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def test_ticket_create_identifies_the_customer_and_opens_a_ticket_on_the_source_channel(source):
    response = send(source, create_event())
    assert response.status_code == 201, response.content
    body = response.json()
    ticket = Ticket.objects.get()
    assert body["status"] == "accepted"
    assert body["ticket"] == {"number": ticket.number, "status": "new"}
    assert body["customer"]["created"] is True
    assert (ticket.channel, ticket.type, ticket.team, ticket.subject) == (
        "wechat",
        "repair",
        source.default_team,
        "马桶冲水无力",
    )
    contact = ticket.contact
    assert contact.wechat_openid == "oWX_abc123"
    assert ticket.customer.name == "李女士"
    assert ExternalRef.objects.get().external_id == "WX-1001"
    delivery = InboundDelivery.objects.get()
    assert (delivery.status, delivery.event_id, delivery.ticket, delivery.http_status) == (
        "accepted",
        "evt-0001",
        ticket,
        201,
    )


def test_ticket_create_for_a_known_wechat_user_reuses_the_customer_and_links_its_product(source):
    customer = CustomerFactory()
    ContactFactory(customer=customer, wechat_openid="oWX_known")
    product = InstalledProductFactory(customer=customer, serial_number="SN-777")
    response = send(source, create_event(customer={"wechat_openid": "oWX_known"}, serial_number="SN-777"))
    assert response.status_code == 201
    assert response.json()["customer"] == {"code": customer.code, "created": False}
    ticket = Ticket.objects.get()
    assert (ticket.customer, ticket.installed_product) == (customer, product)
    assert Customer.objects.count() == 1


def test_a_serial_of_another_customers_product_is_noted_not_linked(source):
    InstalledProductFactory(serial_number="SN-OTHER")
    send(source, create_event(serial_number="SN-OTHER"))
    ticket = Ticket.objects.get()
    assert ticket.installed_product is None
    assert "SN-OTHER" in ticket.description


def test_ticket_message_by_external_id_adds_the_customers_message(source):
    send(source, create_event(), event_id="evt-1")
    response = send(
        source,
        {"type": "ticket.message", "data": {"external_id": "WX-1001", "text": "照片已发"}},
        event_id="evt-2",
    )
    assert response.status_code == 200, response.content
    message = TicketMessage.objects.get(body="照片已发")
    assert (message.is_from_customer, message.channel, message.kind) == (True, "wechat", "reply")


def test_ticket_message_by_number_reaches_only_tickets_of_this_source(source):
    send(source, create_event(external_id=""), event_id="evt-1")
    ticket = Ticket.objects.get()
    ok = send(
        source,
        {"type": "ticket.message", "data": {"ticket_number": ticket.number, "text": "还在吗"}},
        event_id="e2",
    )
    assert ok.status_code == 200
    other_source = InboundSourceFactory()
    before = counts()
    refused = send(
        other_source,
        {"type": "ticket.message", "data": {"ticket_number": ticket.number, "text": "越权"}},
        event_id="e3",
    )
    assert refused.status_code == 404
    assert refused.json()["code"] == "ticket_not_found"
    assert counts() == before


def test_the_customer_confirms_a_resolution_through_the_source(source, admin_user):
    send(source, create_event(), event_id="evt-1")
    ticket = Ticket.objects.get()
    for status in ("accepted", "resolved"):
        ticket = ticket_transition(ticket=ticket, actor=admin_user, to_status=status)
    response = send(
        source,
        {"type": "ticket.update", "data": {"external_id": "WX-1001", "status": "confirmed"}},
        event_id="e2",
    )
    assert response.status_code == 200, response.content
    ticket.refresh_from_db()
    assert (ticket.status, ticket.close_reason) == ("closed", "confirmed")


def test_a_status_the_customer_may_not_set_is_refused(source):
    send(source, create_event(), event_id="evt-1")
    response = send(
        source,
        {"type": "ticket.update", "data": {"external_id": "WX-1001", "status": "confirmed"}},
        event_id="e2",
    )
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"
    assert Ticket.objects.get().status == "new"


# --- refusals: each creates nothing ---------------------------------------------------------------


def refused(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code
    assert set(body) == {"code", "message", "details"}
    return body


def test_a_bad_signature_is_refused_and_creates_nothing(source):
    before = counts()
    body = refused(send(source, create_event(), secret="whsec_wrong"), 401, "signature_invalid")
    assert "signature" in body["message"]
    assert counts() == before
    log = InboundDelivery.objects.get()
    assert (log.status, log.reason, log.source, log.event_id) == ("refused", "signature_invalid", source, "")


def test_a_missing_signature_is_refused_and_creates_nothing(source):
    before = counts()
    refused(send(source, create_event(), signature=""), 401, "signature_invalid")
    assert counts() == before


def test_a_stale_timestamp_is_refused_and_creates_nothing(source):
    before = counts()
    refused(send(source, create_event(), timestamp=NOW - 301), 401, "timestamp_out_of_range")
    refused(send(source, create_event(), timestamp=NOW + 301), 401, "timestamp_out_of_range")
    assert counts() == before


def test_a_replayed_event_id_is_refused_with_the_original_result_and_creates_nothing(source):
    first = send(source, create_event(), event_id="evt-replay")
    assert first.status_code == 201
    before = counts()
    body = refused(send(source, create_event(), event_id="evt-replay"), 409, "duplicate_event")
    assert body["details"]["original_result"]["ticket"] == first.json()["ticket"]
    # Even with a different body and a fresh signature, the id is spent.
    refused(send(source, create_event(external_id="WX-2"), event_id="evt-replay"), 409, "duplicate_event")
    assert counts() == before
    assert InboundDelivery.objects.filter(status="refused", reason="duplicate_event").count() == 2


def test_the_same_request_replayed_within_the_window_is_refused(source):
    body = json.dumps(create_event()).encode()
    signature = signing.sign(source.secret, body, timestamp=NOW)
    assert send(source, raw=body, signature=signature).status_code == 201
    before = counts()
    with time_machine.travel(NOW + 120, tick=False):
        refused(send(source, raw=body, signature=signature), 409, "duplicate_event")
    with time_machine.travel(NOW + 400, tick=False):
        refused(send(source, raw=body, signature=signature), 401, "timestamp_out_of_range")
    assert counts() == before


def test_one_signed_body_replayed_under_a_new_event_id_makes_no_second_ticket(source):
    # A v1 signature (the older scheme) covers the body and the time, not the event id.
    body = json.dumps(create_event()).encode()
    signature = signing.sign(source.secret, body, timestamp=NOW)
    assert send(source, raw=body, signature=signature, event_id="evt-original").status_code == 201
    before = counts()
    with time_machine.travel(NOW + 30, tick=False):
        refused(
            send(source, raw=body, signature=signature, event_id="evt-fresh-1"), 409, "duplicate_signed_body"
        )
        refused(
            send(source, raw=body, signature=signature, event_id="evt-fresh-2"), 409, "duplicate_signed_body"
        )
    assert counts() == before
    assert Ticket.objects.count() == 1


def test_a_v2_signature_binds_the_event_id(source):
    body = json.dumps(create_event()).encode()
    header = signing.sign(source.secret, body, timestamp=NOW, event_id="evt-v2")
    assert send(source, raw=body, signature=header, event_id="evt-v2").status_code == 201
    before = counts()
    only_v2 = ",".join(part for part in header.split(",") if not part.startswith("v1="))
    refused(send(source, raw=body, signature=only_v2, event_id="evt-other"), 401, "signature_invalid")
    # Stripped to its v1 value, the same request collides with the accepted body.
    only_v1 = ",".join(part for part in header.split(",") if not part.startswith("v2="))
    refused(send(source, raw=body, signature=only_v1, event_id="evt-other"), 409, "duplicate_signed_body")
    assert counts() == before


def test_the_same_body_signed_again_later_is_a_new_event(source):
    # A customer who writes "好的" twice sends two identical bodies: each signing is its own event.
    ticket_response = send(source, create_event(), event_id="evt-create")
    assert ticket_response.status_code == 201
    body = json.dumps({"type": "ticket.message", "data": {"external_id": "WX-1001", "text": "好的"}}).encode()
    first = signing.sign(source.secret, body, timestamp=NOW, event_id="evt-a")
    assert send(source, raw=body, signature=first, event_id="evt-a").status_code == 200
    with time_machine.travel(NOW + 1, tick=False):
        second = signing.sign(source.secret, body, timestamp=NOW + 1, event_id="evt-b")
        assert send(source, raw=body, signature=second, event_id="evt-b").status_code == 200
    assert TicketMessage.objects.filter(body="好的").count() == 2


def test_an_oversized_body_is_refused_and_creates_nothing(source):
    before = counts()
    big = create_event(description="水" * 90_000)  # 270 KB of UTF-8
    refused(send(source, big), 413, "payload_too_large")
    assert counts() == before


def test_bad_json_is_refused_and_creates_nothing(source):
    before = counts()
    refused(send(source, raw=b"{not json"), 400, "malformed_json")
    refused(send(source, raw=b"[1, 2]", event_id="e2"), 400, "malformed_json")
    refused(send(source, raw=b"\xff\xfe", event_id="e3"), 400, "malformed_json")
    assert counts() == before


def test_an_unknown_or_inactive_source_is_refused_and_creates_nothing(source):
    before = counts()
    refused(send(source, create_event(), key="no-such-source"), 404, "unknown_source")
    source.is_active = False
    source.save()
    refused(send(source, create_event()), 404, "unknown_source")
    assert counts() == before
    assert InboundDelivery.objects.filter(status="refused", reason="unknown_source").count() == 2


def test_a_missing_event_id_is_refused_and_creates_nothing(source):
    before = counts()
    refused(send(source, create_event(), event_id=None), 400, "event_id_missing")
    refused(send(source, create_event(), event_id="x" * 101), 400, "event_id_missing")
    assert counts() == before


@pytest.mark.parametrize(
    "document",
    [
        {"type": "ticket.delete", "data": {}},
        {"type": "ticket.create"},
        create_event(subject=""),
        create_event(customer={"name": "无联系方式"}),
        create_event(type="teleport"),
        create_event(unexpected="field"),
        create_event(subject="x" * 201),
        create_event(description="bad\x00byte"),
        {"type": "ticket.message", "data": {"text": "no reference"}},
        {"type": "ticket.update", "data": {"external_id": "WX-1001", "status": "deleted"}},
    ],
)
def test_a_body_that_breaks_the_schema_is_refused_and_creates_nothing(source, document):
    before = counts()
    body = refused(send(source, document), 422, "validation_error")
    assert body["details"]
    assert counts() == before


def test_a_refused_event_id_can_be_sent_again_once_corrected(source):
    refused(send(source, create_event(subject=""), event_id="evt-fix"), 422, "validation_error")
    assert send(source, create_event(), event_id="evt-fix").status_code == 201


def test_a_second_create_with_the_same_external_id_is_refused(source):
    send(source, create_event(), event_id="e1")
    before = counts()
    # Another event (another body) about the same external case.
    body = refused(
        send(source, create_event(description="再次报修"), event_id="e2"), 409, "external_ref_exists"
    )
    assert body["details"]["ticket"] == Ticket.objects.get().number
    assert counts() == before


def test_errors_are_in_the_callers_language(source):
    english = send(source, create_event(), secret="whsec_wrong", language="en").json()
    chinese = send(source, create_event(), secret="whsec_wrong", language="zh-hans").json()
    assert english["code"] == chinese["code"] == "signature_invalid"
    assert english["message"] != chinese["message"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in chinese["message"])


def test_only_post_is_accepted(source):
    response = Client().get(f"/webhooks/in/{source.key}/")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


@pytest.mark.django_db(transaction=True)
def test_the_same_event_sent_twice_at_once_creates_one_ticket():
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL; SQLite serialises them")
    source = InboundSourceFactory()
    body = json.dumps(create_event()).encode()
    barrier = threading.Barrier(4)
    statuses: list[int] = []

    def deliver():
        try:
            barrier.wait()
            statuses.append(
                Client()
                .post(
                    f"/webhooks/in/{source.key}/",
                    data=body,
                    content_type="application/json",
                    headers={
                        signing.SIGNATURE_HEADER: signing.sign(source.secret, body),
                        signing.EVENT_ID_HEADER: "evt-race",
                    },
                )
                .status_code
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201, 409, 409, 409]
    assert Ticket.objects.count() == 1
    assert Customer.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_events_creating_the_same_external_case_at_once_create_one_ticket():
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL; SQLite serialises them")
    source = InboundSourceFactory()
    barrier = threading.Barrier(3)
    answers: list[tuple[int, str]] = []

    def deliver(event_id: str):
        # Three different events (bodies) naming one external case.
        body = json.dumps(create_event(description=f"来自 {event_id}")).encode()
        try:
            barrier.wait()
            response = Client().post(
                f"/webhooks/in/{source.key}/",
                data=body,
                content_type="application/json",
                headers={
                    signing.SIGNATURE_HEADER: signing.sign(source.secret, body),
                    signing.EVENT_ID_HEADER: event_id,
                },
            )
            answers.append((response.status_code, response.json().get("code", "accepted")))
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver, args=(f"evt-{n}",)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [(201, "accepted"), (409, "external_ref_exists"), (409, "external_ref_exists")]
    assert Ticket.objects.count() == 1
    assert ExternalRef.objects.count() == 1
    assert Customer.objects.count() == 1  # the losers' customers rolled back with them
