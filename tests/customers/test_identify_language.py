"""A first contact keeps the language it wrote in; a known customer keeps its own."""

from __future__ import annotations

import pytest

from aftersales.customers.services import customer_identify

pytestmark = pytest.mark.django_db


def test_a_new_customer_takes_the_contacts_language_and_a_known_one_keeps_its_own():
    customer, _contact, created = customer_identify(actor=None, email="anna@example.com", language="en")
    assert created and customer.language == "en"
    again, _contact, created = customer_identify(actor=None, email="ANNA@example.com", language="zh-hans")
    assert not created and again.pk == customer.pk
    again.refresh_from_db()
    assert again.language == "en"


def test_an_unknown_language_falls_back_to_the_default():
    customer, _contact, _created = customer_identify(actor=None, phone="13800001111", language="fr")
    assert customer.language == "zh-hans"
