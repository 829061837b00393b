from __future__ import annotations

import pytest

from aftersales.core.models import AuditEvent
from aftersales.customers.identity import normalize_email, normalize_phone, phone_spellings
from aftersales.customers.models import ContactIdentity, Customer
from aftersales.customers.selectors import customer_find_by_phone, customer_search
from aftersales.customers.services import contact_add, customer_create, customer_identify
from tests.factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "typed",
    [
        "13812345678",
        "138 1234 5678",
        "138-1234-5678",
        "+86 138 1234 5678",
        "+86-13812345678",
        "0086 13812345678",
        "008613812345678",
        "8613812345678",
        "＋８６ １３８１２３４５６７８",
        " 13812345678 ",
    ],
)
def test_every_spelling_of_a_mobile_number_has_one_canonical_form(typed):
    assert normalize_phone(typed) == "+8613812345678"


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("0571-88886666", "+8657188886666"),
        ("+86 (0)571 8888 6666", "+8657188886666"),
        ("(0571) 8888-6666 转 801", "+8657188886666"),
        ("010-12345678", "+861012345678"),
        ("+44 20 7946 0958", "+442079460958"),
        ("0044 20 7946 0958", "+442079460958"),
        ("400-800-1234", "+864008001234"),
        ("1", ""),
        ("110", ""),
        ("+86", ""),
        ("", ""),
        ("call me", ""),
    ],
)
def test_landlines_foreign_and_unusable_numbers(typed, canonical):
    assert normalize_phone(typed) == canonical


def test_spellings_of_a_number_include_the_canonical_and_national_forms():
    assert {"+8613812345678", "13812345678", "138 1234 5678", "008613812345678"} <= phone_spellings(
        "+8613812345678"
    )


def test_emails_are_case_insensitive_and_must_look_like_addresses():
    assert normalize_email("  Li.Ming@Example.COM ") == "li.ming@example.com"
    assert normalize_email("not-mail") == ""
    assert normalize_email("a b@c.d") == ""


def test_email_today_wechat_tomorrow_and_phone_with_plus86_are_one_customer():
    customer, contact, created = customer_identify(
        actor=None, name="李明", email="Li.Ming@Example.com", channel="email"
    )
    assert created
    again, same_contact, created_again = customer_identify(
        actor=None, email="li.ming@example.com", wechat_openid="oWX_123", channel="wechat"
    )
    assert (again, same_contact, created_again) == (customer, contact, False)
    by_openid, _, _ = customer_identify(actor=None, wechat_openid="oWX_123", phone="+86 138 1234 5678")
    assert by_openid == customer
    by_phone, by_phone_contact, created_by_phone = customer_identify(actor=None, phone="0086-138-1234-5678")
    assert (by_phone, by_phone_contact, created_by_phone) == (customer, contact, False)
    assert Customer.objects.count() == 1
    assert sorted(
        ContactIdentity.objects.filter(contact=contact).values_list("kind", "value", "is_routing")
    ) == [
        ("email", "li.ming@example.com", True),
        ("phone", "+8613812345678", True),
        ("wechat_openid", "oWX_123", True),
    ]
    contact.refresh_from_db()
    assert (contact.email, contact.phone, contact.wechat_openid) == (
        "li.ming@example.com",
        "+8613812345678",
        "oWX_123",
    )
    assert customer_find_by_phone(phone="138 1234 5678") == customer
    assert customer_find_by_phone(phone="+8613812345678") == customer
    assert AuditEvent.objects.filter(action="contact.identify.learn").count() == 2
    assert AuditEvent.objects.filter(action="customer.identify.create").count() == 1


def test_the_most_specific_identifier_wins_and_the_conflict_is_recorded_as_a_duplicate():
    family_phone, _, _ = customer_identify(actor=None, name="王家", phone="13900001111")
    person, _, _ = customer_identify(actor=None, name="王小明", wechat_openid="oWX_wang")
    found, contact, created = customer_identify(actor=None, wechat_openid="oWX_wang", phone="139 0000 1111")
    assert (found, created) == (person, False)
    rows = ContactIdentity.objects.filter(kind="phone", value="+8613900001111")
    assert sorted((r.contact.customer_id, r.is_routing) for r in rows) == sorted(
        [(family_phone.pk, True), (person.pk, False)]
    )
    # The phone still reaches the family.
    assert customer_identify(actor=None, phone="13900001111")[0] == family_phone


def test_identify_finds_records_written_without_identities():
    legacy = CustomerFactory(phone="138-0000-2222", email="Old@Example.com")
    ContactFactory(customer=legacy)
    assert customer_identify(actor=None, phone="+86 13800002222")[0] == legacy
    assert customer_identify(actor=None, email="old@example.com")[0] == legacy
    assert ContactIdentity.objects.filter(contact__customer=legacy, is_routing=True).count() == 2
    assert Customer.objects.count() == 1


def test_identify_refuses_no_usable_identifier():
    with pytest.raises(Exception) as error:
        customer_identify(actor=None, name="x", phone="1", email="not-mail")
    assert getattr(error.value, "code", "") == "validation_error"
    assert Customer.objects.count() == 0


def test_staff_typing_a_known_number_on_a_new_customer_records_it_without_stealing_it(agent):
    first = customer_create(actor=agent, name="甲", phone="13700000001")
    second = customer_create(actor=agent, name="乙", phone="137-0000-0001")
    assert customer_identify(actor=None, phone="13700000001")[0] == first
    assert ContactIdentity.objects.get(contact__customer=second).is_routing is False
    extra = contact_add(customer=first, actor=agent, name="甲的同事", email="colleague@example.com")
    assert customer_identify(actor=None, email="COLLEAGUE@example.com")[1] == extra


def test_search_finds_a_customer_by_any_spelling_of_its_identity(agent):
    customer, _, _ = customer_identify(actor=None, name="赵女士", phone="13611112222", wechat_openid="oZ1")
    page, _ = customer_search(user=agent, q="+86 136 1111 2222")
    assert page == [customer]
    page, _ = customer_search(user=agent, q="oZ1")
    assert page == [customer]
