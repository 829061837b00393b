from __future__ import annotations

import pytest

from aftersales.core.errors import ValidationFailed
from aftersales.customers.models import Customer
from aftersales.tickets.models import Ticket
from aftersales.tickets.services import phone_call_log
from tests.factories import CustomerFactory, InstalledProductFactory

pytestmark = pytest.mark.django_db


def test_a_known_caller_gets_a_phone_ticket_on_their_product(agent):
    customer = CustomerFactory(phone="13812345678")
    product = InstalledProductFactory(customer=customer)
    ticket = phone_call_log(
        actor=agent,
        phone="138 1234 5678",
        subject="马桶冲水无力",
        type="repair",
        installed_product_id=product.pk,
    )
    assert (ticket.customer, ticket.channel, ticket.installed_product) == (customer, "phone", product)


def test_a_new_caller_becomes_a_customer_stored_by_digits(agent):
    ticket = phone_call_log(actor=agent, phone="0571-8888 6666", subject="咨询安装", customer_name="赵先生")
    assert ticket.customer.name == "赵先生" and ticket.customer.phone == "057188886666"
    again = phone_call_log(actor=agent, phone="057188886666", subject="再次来电")
    assert again.customer == ticket.customer


def test_a_refused_call_leaves_no_customer_behind(agent):
    other_product = InstalledProductFactory()
    with pytest.raises(ValidationFailed):
        phone_call_log(
            actor=agent,
            phone="13900000000",
            subject="x",
            customer_name="钱女士",
            installed_product_id=other_product.pk,
        )
    with pytest.raises(ValidationFailed):
        phone_call_log(actor=agent, phone="13900000000", subject="x")
    assert not Customer.objects.filter(name="钱女士").exists()
    assert Ticket.objects.count() == 0
