"""First contacts from one address racing on real connections: one customer results."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from aftersales.customers.models import ContactIdentity, Customer
from aftersales.customers.services import customer_identify


def _race(calls: list[dict[str, str]]) -> list[int]:
    start = threading.Barrier(len(calls))
    found: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def identify(kwargs: dict[str, str]) -> None:
        try:
            start.wait()
            customer, _contact, _created = customer_identify(actor=None, channel="email", **kwargs)
            with lock:
                found.append(customer.pk)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=identify, args=(kwargs,)) for kwargs in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return found


@pytest.mark.django_db(transaction=True)
def test_simultaneous_first_contacts_from_one_address_create_one_customer():
    spellings = ["Race@Example.com", "race@example.com", " RACE@example.COM", "race@EXAMPLE.com"] * 2
    found = _race([{"email": email, "name": "并发"} for email in spellings])
    assert Customer.objects.count() == 1
    assert found == [Customer.objects.get().pk] * len(spellings)
    assert list(ContactIdentity.objects.values_list("kind", "value", "is_routing")) == [
        ("email", "race@example.com", True)
    ]


@pytest.mark.django_db(transaction=True)
def test_simultaneous_calls_with_one_number_in_several_spellings_create_one_customer():
    spellings = ["13812340000", "+86 138 1234 0000", "0086-138-1234-0000", "138 1234 0000"] * 2
    found = _race([{"phone": phone} for phone in spellings])
    assert Customer.objects.count() == 1
    assert set(found) == {Customer.objects.get().pk}
    assert ContactIdentity.objects.filter(value="+8613812340000", is_routing=True).count() == 1
