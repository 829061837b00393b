"""The "log a phone call" form."""

from __future__ import annotations

import pytest

from aftersales.customers.models import Customer
from aftersales.tickets.models import Ticket
from tests.factories import ContactFactory, CustomerFactory, InstalledProductFactory

pytestmark = pytest.mark.django_db


def test_lookup_finds_the_caller_and_their_products(login, agent, customer, product):
    body = login(agent).get("/console/call/lookup/", {"phone": customer.phone}).content.decode()
    assert customer.name in body
    assert product.serial_number in body
    assert f'name="customer_id" value="{customer.pk}"' in body


def test_lookup_of_an_unknown_number_offers_a_new_customer(login, agent):
    body = login(agent, "zh-hans").get("/console/call/lookup/", {"phone": "13912345678"}).content.decode()
    assert 'name="customer_name"' in body
    assert "新客户" in body


def test_call_for_a_known_customer_opens_a_phone_ticket(login, agent, customer, product):
    ContactFactory(customer=customer, name="前台", phone="021-5555555")
    caller = ContactFactory(customer=customer, is_primary=False)
    response = login(agent).post(
        "/console/call/",
        {
            "phone": customer.phone,
            "customer_id": customer.pk,
            "installed_product": product.pk,
            "type": "repair",
            "priority": "high",
            "subject": "冲水无力",
            "notes": "客户来电称冲水无力",
        },
    )
    ticket = Ticket.objects.get()
    assert response["Location"] == f"/console/tickets/{ticket.number}/"
    assert (ticket.channel, ticket.customer, ticket.installed_product, ticket.priority) == (
        "phone",
        customer,
        product,
        "high",
    )
    assert ticket.description == "客户来电称冲水无力"
    assert ticket.contact == caller


def test_call_from_a_new_number_creates_the_customer_and_the_ticket(login, agent):
    login(agent).post(
        "/console/call/",
        {
            "phone": "139 1234 5678",
            "customer_name": "王先生",
            "type": "installation",
            "priority": "normal",
            "subject": "预约安装",
        },
    )
    customer = Customer.objects.get(name="王先生")
    ticket = Ticket.objects.get()
    assert ticket.customer == customer
    assert ticket.channel == "phone"
    assert customer.phone == "13912345678"  # the next call from this number finds the customer
    assert "王先生" in login(agent).get("/console/call/lookup/", {"phone": "139-1234-5678"}).content.decode()


def test_call_from_a_new_number_without_a_name_changes_nothing(login, agent):
    response = login(agent).post(
        "/console/call/", {"phone": "13912345678", "type": "repair", "priority": "normal", "subject": "漏水"}
    )
    assert response.status_code == 200
    assert "flash-error" in response.content.decode()
    assert not Customer.objects.exists()
    assert not Ticket.objects.exists()


def test_call_with_a_product_of_another_customer_changes_nothing(login, agent, customer):
    foreign = InstalledProductFactory(customer=CustomerFactory())
    response = login(agent).post(
        "/console/call/",
        {
            "phone": customer.phone,
            "customer_id": customer.pk,
            "installed_product": foreign.pk,
            "type": "repair",
            "priority": "normal",
            "subject": "漏水",
        },
    )
    assert response.status_code == 200
    assert not Ticket.objects.exists()


def test_technician_may_not_open_tickets_by_phone(login, technician):
    response = login(technician).post(
        "/console/call/",
        {
            "phone": "13912345678",
            "customer_name": "李女士",
            "type": "repair",
            "priority": "normal",
            "subject": "x",
        },
    )
    # The phone desk (and its caller lookup) is not the technician's: refused, nothing written.
    assert response.status_code == 403
    assert login(technician).get("/console/call/lookup/", {"phone": "13912345678"}).status_code == 403
    assert not Customer.objects.exists()
    assert not Ticket.objects.exists()
