"""The console: "log a phone call" with call details and caller history; the ticket's Calls panel."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from aftersales.channels.phone.models import CallRecord
from aftersales.customers.identity import normalize_phone, phone_spellings
from aftersales.customers.models import Customer
from aftersales.tickets.models import Ticket
from aftersales.tickets.services import ticket_open, ticket_transition
from tests.factories import ContactFactory, CustomerFactory, RegionFactory, UserFactory

pytestmark = pytest.mark.django_db


def login(user, language="en"):
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    ("typed", "national"),
    [
        ("138 1234 5678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("0086 13812345678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("+86 21 5555 6666", "02155556666"),
        ("021-5555 6666", "02155556666"),
    ],
)
def test_numbers_are_compared_without_the_country_code_and_separators(typed, national):
    assert normalize_phone(typed) == normalize_phone(national)
    assert national in phone_spellings(normalize_phone(typed))


@pytest.mark.parametrize("typed", ["13812345678", "138 1234 5678", "+86 138-1234-5678", "0086 13812345678"])
def test_the_caller_is_found_however_the_number_is_typed(agent, typed):
    customer = CustomerFactory(phone="13812345678", name="陈先生")
    ContactFactory(customer=customer)
    body = login(agent).get("/console/call/lookup/", {"phone": typed}).content.decode()
    assert "陈先生" in body
    assert f'name="customer_id" value="{customer.pk}"' in body


def test_a_contact_stored_with_spaces_is_found_by_bare_digits(agent):
    customer = CustomerFactory(phone="")
    ContactFactory(customer=customer, phone="139 0000 2222", name="前台")
    body = login(agent).get("/console/call/lookup/", {"phone": "13900002222"}).content.decode()
    assert f'value="{customer.pk}"' in body


def test_the_lookup_shows_open_tickets_and_recent_calls(agent, admin_user):
    customer = CustomerFactory(phone="13812345678")
    ContactFactory(customer=customer)
    open_one = ticket_open(actor=admin_user, customer=customer, subject="水压低")
    CallRecord.objects.create(
        customer=customer, ticket=open_one, direction="inbound", duration_seconds=125, status="ended"
    )
    body = login(agent, "en").get("/console/call/lookup/", {"phone": "13812345678"}).content.decode()
    assert "Open tickets" in body
    assert open_one.number in body
    assert "Recent calls" in body
    assert "2:05" in body


def test_logging_a_call_records_direction_duration_and_recording(agent):
    customer = CustomerFactory(phone="13812345678")
    ContactFactory(customer=customer)
    response = login(agent).post(
        "/console/call/",
        {
            "phone": "138 1234 5678",
            "customer_id": customer.pk,
            "type": "repair",
            "priority": "normal",
            "subject": "花洒漏水",
            "direction": "outbound",
            "duration": "3:25",
            "recording_url": "https://rec.example.com/a.mp3",
        },
    )
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    call = CallRecord.objects.get()
    assert (
        call.ticket,
        call.customer,
        call.direction,
        call.duration_seconds,
        call.recording_url,
        call.agent,
    ) == (
        ticket,
        customer,
        "outbound",
        205,
        "https://rec.example.com/a.mp3",
        agent,
    )
    assert call.callee_number == "138 1234 5678"
    # The agent was talking to the customer: the phone ticket has its first response.
    assert ticket.first_responded_at is not None
    assert ticket.first_responded_at - ticket.created_at < dt.timedelta(seconds=1)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("duration", "three minutes"),
        ("duration", "1:99"),
        ("recording_url", "ftp://x"),
        ("direction", "sideways"),
    ],
)
def test_bad_call_details_open_nothing(agent, field, value):
    data = {
        "phone": "13912345678",
        "customer_name": "王先生",
        "type": "repair",
        "priority": "normal",
        "subject": "漏水",
        "direction": "inbound",
    }
    data[field] = value
    response = login(agent).post("/console/call/", data)
    assert response.status_code == 200
    assert not Ticket.objects.exists()
    assert not Customer.objects.exists()
    assert not CallRecord.objects.exists()


def test_the_ticket_page_shows_the_calls_panel(agent, admin_user):
    customer = CustomerFactory()
    ticket = ticket_open(actor=admin_user, customer=customer, subject="热水器报错 E1", channel="phone")
    CallRecord.objects.create(
        ticket=ticket,
        customer=customer,
        direction="inbound",
        caller_number="13800000001",
        duration_seconds=95,
        status="ended",
        recording_url="https://rec.example.com/1.mp3",
        agent=agent,
    )
    CallRecord.objects.create(
        ticket=ticket, customer=customer, direction="outbound", callee_number="13800000001", status="missed"
    )
    english = login(agent, "en").get(f"/console/tickets/{ticket.number}/").content.decode()
    assert "Calls (2)" in english
    assert "1:35" in english
    assert 'href="https://rec.example.com/1.mp3"' in english
    assert "Outbound" in english and "Missed" in english
    chinese = login(agent, "zh-hans").get(f"/console/tickets/{ticket.number}/").content.decode()
    assert "通话 (2)" in chinese
    assert "呼入" in chinese and "录音" in chinese


def test_a_ticket_without_calls_says_so(agent, admin_user):
    ticket = ticket_open(actor=admin_user, customer=CustomerFactory(), subject="咨询")
    assert (
        "No calls on this ticket." in login(agent).get(f"/console/tickets/{ticket.number}/").content.decode()
    )


def test_a_call_about_an_open_ticket_is_recorded_on_it_with_the_notes(agent, admin_user):
    customer = CustomerFactory(phone="13812345678")
    ContactFactory(customer=customer)
    existing = ticket_open(actor=admin_user, customer=customer, subject="水压低")
    response = login(agent).post(
        "/console/call/",
        {
            "phone": "13812345678",
            "customer_id": customer.pk,
            "attach_to": existing.number,
            "notes": "客户说今天下午在家",
            "direction": "inbound",
            "duration": "1:10",
            "type": "repair",
            "priority": "normal",
        },
    )
    assert response["Location"] == f"/console/tickets/{existing.number}/"
    assert Ticket.objects.count() == 1
    call = CallRecord.objects.get()
    assert (call.ticket, call.duration_seconds) == (existing, 70)
    note = existing.messages.get(kind="note")
    assert (note.body, note.channel, note.author) == ("客户说今天下午在家", "phone", agent)
    existing.refresh_from_db()
    assert existing.first_responded_at is not None


def test_a_call_cannot_be_recorded_on_a_ticket_the_agent_cannot_see_or_that_is_closed(admin_user):
    technician = UserFactory(role="technician")
    # A supervisor of one region takes calls but does not see a ticket outside it.
    supervisor = UserFactory(role="supervisor")
    supervisor.regions.set([RegionFactory()])
    ticket = ticket_open(actor=admin_user, customer=CustomerFactory(), subject="别人的工单")
    data = {"phone": "13812345678", "attach_to": ticket.number, "type": "repair", "priority": "normal"}
    response = login(supervisor).post("/console/call/", data)
    assert (response.status_code, "flash-error" in response.content.decode()) == (200, True)
    assert login(technician).post("/console/call/", data).status_code == 403  # not the phone desk
    assert not CallRecord.objects.exists()
    ticket_transition(ticket=ticket, actor=admin_user, to_status="cancelled")
    response = login(admin_user).post("/console/call/", data)
    assert (response.status_code, "flash-error" in response.content.decode()) == (200, True)
    assert not CallRecord.objects.exists()
    assert not ticket.messages.exists()


def test_the_calls_page_lists_missed_calls_to_call_back(agent, admin_user, django_assert_max_num_queries):
    customer = CustomerFactory(name="黄女士")
    ticket = ticket_open(actor=admin_user, customer=customer, subject="回拨")
    for n in range(3):
        CallRecord.objects.create(
            customer=customer,
            ticket=ticket,
            caller_number=f"1380000000{n}",
            status="missed",
            direction="inbound",
        )
    CallRecord.objects.create(
        caller_number="13911112222", status="ended", direction="inbound", duration_seconds=61
    )
    client = login(agent)
    with django_assert_max_num_queries(12):
        body = client.get("/phone/calls/", {"status": "missed"}).content.decode()
    assert body.count('class="call-missed"') == 3
    assert "黄女士" in body and ticket.number in body
    assert 'class="call-ended"' not in body
    by_number = client.get("/phone/calls/", {"number": "+86 139 1111 2222"}).content.decode()
    assert by_number.count('<tr class="call-') == 1 and "1:01" in by_number
    assert "/phone/calls/?status=missed" in client.get("/console/call/").content.decode()


def test_customers_cannot_see_the_calls_page():
    from tests.factories import customer_user

    user = customer_user()
    assert login(user).get("/phone/calls/").status_code == 403
