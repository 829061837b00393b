"""The console's customer list and the editable customer page: search in any spelling, filters,
totals and keyset pages, scope, edits through the services (audited), pinned query counts."""

from __future__ import annotations

import pytest
from django.test import Client

from aftersales.assets.models import InstalledProduct
from aftersales.core.models import AuditEvent
from aftersales.core.roles import Role
from aftersales.customers.models import Address, Contact, Customer
from aftersales.customers.services import customer_identify, customer_merge
from aftersales.tickets.selectors_customers import CustomerFilters, customer_list_for_user
from aftersales.tickets.services import ticket_transition
from tests.factories import (
    AddressFactory,
    CustomerFactory,
    InstalledProductFactory,
    ProductModelFactory,
    RegionFactory,
    TicketFactory,
    UserFactory,
    customer_user,
)

pytestmark = pytest.mark.django_db


def login(user, language="en"):
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def codes(page):
    return [c.code for c in page.items]


@pytest.fixture
def people(db):
    beijing = RegionFactory(code="bj", name="北京", name_en="Beijing")
    haidian = RegionFactory(code="bj-hd", name="海淀", name_en="Haidian", parent=beijing, level="district")
    shanghai = RegionFactory(code="sh", name="上海", name_en="Shanghai")
    wang, _contact, _ = customer_identify(
        actor=None, name="王建国", phone="+86 138-1234-5678", channel="phone"
    )
    Customer.objects.filter(pk=wang.pk).update(region=haidian, value_tier="high_value")
    li = CustomerFactory(
        name="李娜", region=shanghai, email="li.na@example.com", phone="02166668888"
    )  # typed before identities existed
    zhao = CustomerFactory(name="赵强", region=beijing, value_tier="core")
    TicketFactory(customer=li)  # open
    closed = TicketFactory(customer=zhao)
    agent = UserFactory(role=Role.AGENT)
    for status in ("accepted", "resolved", "closed"):
        closed = ticket_transition(ticket=closed, actor=agent, to_status=status)
    return {"wang": wang, "li": li, "zhao": zhao, "beijing": beijing, "shanghai": shanghai, "agent": agent}


@pytest.mark.parametrize(
    "spelling", ["13812345678", "138 1234 5678", "+86 138-1234-5678", "0086 13812345678"]
)
def test_phone_in_any_spelling_finds_the_customer(people, spelling):
    page = customer_list_for_user(user=people["agent"], filters=CustomerFilters(q=spelling))
    assert codes(page) == [people["wang"].code] and page.total == 1


def test_legacy_phone_spelling_and_email_and_name_are_found(people):
    agent = people["agent"]
    assert codes(customer_list_for_user(user=agent, filters=CustomerFilters(q="+86 21 6666 8888"))) == [
        people["li"].code
    ]
    assert codes(customer_list_for_user(user=agent, filters=CustomerFilters(q="LI.NA@example.com"))) == [
        people["li"].code
    ]
    assert codes(customer_list_for_user(user=agent, filters=CustomerFilters(q="建国"))) == [
        people["wang"].code
    ]


def test_filters_region_with_subregions_tier_and_open_tickets(people):
    agent = people["agent"]
    in_beijing = customer_list_for_user(user=agent, filters=CustomerFilters(region_id=people["beijing"].pk))
    assert set(codes(in_beijing)) == {people["wang"].code, people["zhao"].code}
    assert codes(customer_list_for_user(user=agent, filters=CustomerFilters(tier="core"))) == [
        people["zhao"].code
    ]
    with_open = customer_list_for_user(user=agent, filters=CustomerFilters(has_open_tickets=True))
    assert codes(with_open) == [people["li"].code] and with_open.items[0].open_ticket_count == 1
    without = customer_list_for_user(user=agent, filters=CustomerFilters(has_open_tickets=False))
    assert set(codes(without)) == {people["wang"].code, people["zhao"].code}


def test_merged_duplicates_are_hidden_and_scope_applies(people):
    lead = UserFactory(role=Role.SUPERVISOR)
    lead.regions.set([people["beijing"]])
    page = customer_list_for_user(user=lead, filters=CustomerFilters())
    assert set(codes(page)) == {people["wang"].code, people["zhao"].code} and page.total == 2
    technician = UserFactory(role=Role.TECHNICIAN)
    assert customer_list_for_user(user=technician, filters=CustomerFilters()).total == 0
    admin = UserFactory(role=Role.ADMIN)
    customer_merge(actor=admin, source=people["zhao"], target=people["wang"])
    assert people["zhao"].code not in codes(customer_list_for_user(user=admin, filters=CustomerFilters()))


def test_keyset_pages_cover_every_customer_once_with_a_total(agent):
    CustomerFactory.create_batch(30)
    seen: list[str] = []
    cursor = None
    while True:
        page = customer_list_for_user(user=agent, filters=CustomerFilters(), cursor=cursor, limit=25)
        assert page.total == 30
        seen += codes(page)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 30


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_list_page_renders_with_total_and_filters_in_both_languages(people, language):
    response = login(people["agent"], language).get("/console/customers/", {"q": "138 1234 5678"})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-total="1"' in html and people["wang"].code in html
    assert ("共 1 位客户" if language == "zh-hans" else "1 customer") in html
    fragment = login(people["agent"], language).get(
        "/console/customers/",
        {"open_tickets": "yes"},
        headers={"HX-Request": "true", "HX-Target": "customer-results"},
    )
    assert "<html" not in fragment.content.decode() and people["li"].code in fragment.content.decode()
    assert login(people["agent"]).get("/console/customers/", {"cursor": "!!"}).status_code == 200
    assert login(customer_user()).get("/console/customers/").status_code == 403


def test_list_page_query_count_is_pinned(agent, django_assert_max_num_queries):
    for index in range(30):
        customer = CustomerFactory(region=RegionFactory())
        if index % 3 == 0:
            TicketFactory(customer=customer)
    client = login(agent)
    client.get("/console/customers/")
    # session, user, unread notices, regions (filter), count, page, open counts
    with django_assert_max_num_queries(8):
        response = client.get("/console/customers/", {"q": "客户", "open_tickets": "yes"})
    assert response.status_code == 200
    with django_assert_max_num_queries(8):
        response = client.get("/console/customers/")
    assert response.content.decode().count("data-code=") == 25


# --- the customer page ----------------------------------------------------------------------------


@pytest.fixture
def home(agent):
    customer, contact, _ = customer_identify(
        actor=None, name="孙丽", email="sun.li@example.com", channel="email"
    )
    address = AddressFactory(customer=customer, line="北京市海淀区中关村大街1号")
    product = InstalledProductFactory(customer=customer, address=address)
    TicketFactory(customer=customer, subject="热水器不加热", installed_product=product)
    return {"customer": customer, "contact": contact, "address": address, "product": product}


def test_agent_edits_the_customer_contacts_addresses_and_products(agent, home):
    customer = home["customer"]
    client = login(agent)
    url = f"/console/customers/{customer.code}/"
    page = client.get(url).content.decode()
    assert "热水器不加热" in page and home["product"].serial_number in page and 'id="edit-customer"' in page
    saved = client.post(
        url + "edit/",
        {
            "version": customer.version,
            "name": "孙丽",
            "kind": "person",
            "phone": "139 0000 1111",
            "email": "sun.li@example.com",
            "region": "",
            "value_tier": "core",
            "notes": "喜欢上午上门",
        },
    )
    assert saved.status_code == 302
    customer.refresh_from_db()
    assert (customer.phone, customer.value_tier, customer.notes) == ("139 0000 1111", "core", "喜欢上午上门")
    stale = client.post(url + "edit/", {"version": 1, "name": "改名", "kind": "person"})
    assert stale.status_code == 302
    assert Customer.objects.get(pk=customer.pk).name == "孙丽"

    client.post(url + "contacts/", {"name": "孙先生", "phone": "13700001111", "is_primary": "on"})
    new_contact = Contact.objects.get(customer=customer, name="孙先生")
    assert new_contact.is_primary and not Contact.objects.get(pk=home["contact"].pk).is_primary
    client.post(
        url + "contacts/",
        {"contact_id": home["contact"].pk, "name": "孙丽（本人）", "email": "sun@example.com"},
    )
    assert Contact.objects.get(pk=home["contact"].pk).name == "孙丽（本人）"

    client.post(
        url + "addresses/", {"line": "北京市朝阳区建国路2号", "label": "公司", "postal_code": "100022"}
    )
    assert Address.objects.get(line="北京市朝阳区建国路2号").postal_code == "100022"  # kept on add too
    assert Address.objects.filter(customer=customer, label="公司").exists()
    client.post(
        url + "addresses/",
        {"address_id": home["address"].pk, "line": "北京市海淀区中关村大街1号院", "is_default": "on"},
    )
    assert Address.objects.get(pk=home["address"].pk).line == "北京市海淀区中关村大街1号院"

    model = ProductModelFactory()
    client.post(
        url + "products/",
        {
            "product_model": model.pk,
            "serial_number": "SN-NEW-001",
            "purchased_on": "2026-01-02",
            "installed_on": "2026-01-05",
        },
    )
    assert InstalledProduct.objects.filter(customer=customer, serial_number="SN-NEW-001").exists()
    client.post(
        url + "products/",
        {
            "product_id": home["product"].pk,
            "product_model": home["product"].product_model_id,
            "serial_number": home["product"].serial_number,
            "installed_on": "2026-02-01",
        },
    )
    assert str(InstalledProduct.objects.get(pk=home["product"].pk).installed_on) == "2026-02-01"
    duplicate_serial = client.post(
        url + "products/", {"product_model": model.pk, "serial_number": "SN-NEW-001"}, follow=True
    )
    assert "already registered" in duplicate_serial.content.decode()
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "customer.update",
        "contact.add",
        "contact.update",
        "address.add",
        "address.update",
        "installed_product.register",
        "installed_product.update",
    } <= actions


def test_bad_input_is_a_translated_message_not_a_500(agent, home):
    url = f"/console/customers/{home['customer'].code}/"
    response = login(agent, "zh-hans").post(
        url + "products/",
        {
            "product_model": home["product"].product_model_id,
            "serial_number": "X1",
            "purchased_on": "2026-03-01",
            "installed_on": "2026-01-01",
        },
        follow=True,
    )
    assert response.status_code == 200
    assert "安装日期不能早于购买日期" in response.content.decode()


def test_who_may_edit_what_on_the_customer_page(home):
    customer = home["customer"]
    url = f"/console/customers/{customer.code}/"
    parts_clerk = UserFactory(role=Role.PARTS_CLERK)
    page = login(parts_clerk).get(url).content.decode()
    assert 'id="edit-customer"' not in page and home["product"].serial_number in page
    assert (
        login(parts_clerk).post(url + "edit/", {"version": 1, "name": "x", "kind": "person"}).status_code
        == 403
    )
    assert login(parts_clerk).post(url + "products/", {"serial_number": "x"}).status_code == 403
    outsider = UserFactory(role=Role.TECHNICIAN)
    assert login(outsider).get(url).status_code == 404
    assert login(outsider).post(url + "contacts/", {"name": "x"}).status_code == 404
    assert Customer.objects.get(pk=customer.pk).version == customer.version


def test_customer_page_query_count_is_pinned(agent, home, django_assert_max_num_queries):
    client = login(agent)
    url = f"/console/customers/{home['customer'].code}/"
    client.get(url)
    with django_assert_max_num_queries(19):
        first = client.get(url)
    for _index in range(5):
        InstalledProductFactory(customer=home["customer"], address=home["address"])
        TicketFactory(customer=home["customer"])
        AddressFactory(customer=home["customer"], is_default=False)
    with django_assert_max_num_queries(19):
        more = client.get(url)
    assert first.status_code == more.status_code == 200
    assert more.content.decode().count("data-serial=") == 6
