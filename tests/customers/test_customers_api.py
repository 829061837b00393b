from __future__ import annotations

import pytest

from aftersales.core.models import AuditEvent
from aftersales.customers.models import Customer
from aftersales.customers.selectors import customer_find_by_phone
from aftersales.customers.services import contact_add, customer_create
from tests.factories import CustomerFactory, InstalledProductFactory, customer_user

pytestmark = pytest.mark.django_db


def test_create_customer_with_its_primary_contact(agent, api_as):
    response = api_as(agent).post(
        "/api/v1/customers",
        {
            "name": "杭州西湖酒店",
            "kind": "company",
            "phone": "0571-88886666",
            "email": "Service@Hotel.cn",
            "value_tier": "high_value",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["code"].startswith("C") and body["email"] == "service@hotel.cn"
    assert [c["name"] for c in body["contacts"]] == ["杭州西湖酒店"]
    assert AuditEvent.objects.filter(action="customer.create").count() == 1


@pytest.mark.parametrize(
    "payload",
    [
        {"name": ""},
        {"name": "x", "kind": "alien"},
        {"name": "x", "email": "not-mail"},
        {"name": "x", "extra": 1},
        {"name": "x", "region": 999999},
    ],
)
def test_bad_customer_input_is_refused(agent, api_as, payload):
    before = Customer.objects.count()
    response = api_as(agent).post("/api/v1/customers", payload)
    assert response.status_code == 422
    assert Customer.objects.count() == before


def test_patch_customer_is_versioned_and_audited(agent, api_as):
    customer = customer_create(actor=agent, name="李女士", phone="13900001111")
    client = api_as(agent)
    ok = client.patch(f"/api/v1/customers/{customer.pk}", {"value_tier": "core", "version": 1})
    assert ok.status_code == 200 and ok.json()["version"] == 2
    stale = client.patch(f"/api/v1/customers/{customer.pk}", {"name": "李某", "version": 1})
    assert stale.status_code == 409
    assert Customer.objects.get(pk=customer.pk).name == "李女士"


def test_a_customer_login_sees_only_itself(api_as):
    customer = CustomerFactory()
    other = CustomerFactory()
    client = api_as(customer_user(customer))
    assert client.get(f"/api/v1/customers/{customer.pk}").status_code == 200
    assert client.get(f"/api/v1/customers/{other.pk}").status_code == 404
    assert [c["id"] for c in client.get("/api/v1/customers").json()["items"]] == [customer.pk]
    assert client.post("/api/v1/customers", {"name": "x"}).status_code == 403


def test_installed_products_are_scoped_to_the_customer(api_as, agent):
    customer = CustomerFactory()
    mine = InstalledProductFactory(customer=customer)
    theirs = InstalledProductFactory()
    client = api_as(customer_user(customer))
    assert [p["serial_number"] for p in client.get("/api/v1/installed-products").json()["items"]] == [
        mine.serial_number
    ]
    assert client.get(f"/api/v1/installed-products/{theirs.pk}").status_code == 404
    staff = api_as(agent)
    created = staff.post(
        "/api/v1/installed-products",
        {
            "serial_number": "WX-2026-001",
            "product_model": mine.product_model.code,
            "customer": customer.pk,
            "purchased_on": "2026-01-10",
        },
    )
    assert created.status_code == 201, created.content
    assert created.json()["warranty_status"] == "in_warranty"
    duplicate = staff.post(
        "/api/v1/installed-products",
        {"serial_number": "WX-2026-001", "product_model": mine.product_model.code, "customer": customer.pk},
    )
    assert duplicate.status_code == 409


def test_caller_lookup_finds_customers_by_their_or_a_contacts_number():
    customer = CustomerFactory(phone="13812345678")
    contact_add(customer=customer, actor=None, name="王太太", phone="13987654321")
    assert customer_find_by_phone(phone="138 1234 5678") == customer
    assert customer_find_by_phone(phone="13987654321") == customer
    assert customer_find_by_phone(phone="1") is None


def test_customer_search_pages_with_a_cursor(agent, api_as):
    for n in range(5):
        customer_create(actor=agent, name=f"青岛客户{n}", phone=f"1530000000{n}")
    client = api_as(agent)
    first = client.get("/api/v1/customers", {"q": "青岛", "limit": 3}).json()
    second = client.get("/api/v1/customers", {"q": "青岛", "limit": 3, "cursor": first["next_cursor"]}).json()
    names = [c["name"] for c in first["items"] + second["items"]]
    assert names == [f"青岛客户{n}" for n in (4, 3, 2, 1, 0)]
    assert second["next_cursor"] is None
    assert client.get("/api/v1/customers", {"cursor": "bad!"}).status_code == 422
