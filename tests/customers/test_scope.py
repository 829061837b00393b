"""Customer records are scoped like tickets: a supervisor of 北京 reads, edits and merges only the
customers of its regions and tickets; a technician only the customers of its jobs."""

from __future__ import annotations

import pytest
from django.test import Client

from aftersales.core.errors import NotFound
from aftersales.core.models import Region
from aftersales.core.roles import Role
from aftersales.customers.models import Customer
from aftersales.customers.selectors import customer_possible_duplicates, customer_search, visible_customers
from aftersales.customers.services import customer_merge, customer_update
from tests.factories import ContactFactory, CustomerFactory, RegionFactory, TicketFactory, UserFactory


@pytest.fixture
def beijing(db):
    return RegionFactory(code="bj", name="北京", level=Region.Level.CITY)


@pytest.fixture
def shanghai(db):
    return RegionFactory(code="sh", name="上海", level=Region.Level.CITY)


@pytest.fixture
def beijing_supervisor(beijing):
    supervisor = UserFactory(role=Role.SUPERVISOR)
    supervisor.regions.set([beijing])
    return supervisor


def test_a_supervisor_of_beijing_sees_only_its_customers(beijing_supervisor, beijing, shanghai):
    in_beijing = CustomerFactory(region=beijing)
    in_shanghai = CustomerFactory(region=shanghai, email="li@example.cn")
    # A Shanghai customer with a ticket handled in Beijing is the supervisor's business too.
    with_beijing_ticket = CustomerFactory(region=shanghai)
    TicketFactory(customer=with_beijing_ticket, region=beijing)

    page, _cursor = customer_search(user=beijing_supervisor)

    assert {c.pk for c in page} == {in_beijing.pk, with_beijing_ticket.pk}
    assert in_shanghai.pk not in set(visible_customers(beijing_supervisor).values_list("pk", flat=True))
    assert customer_search(user=beijing_supervisor, q="li@example.cn")[0] == []


def test_a_supervisor_of_beijing_cannot_edit_or_merge_a_shanghai_customer(
    beijing_supervisor, beijing, shanghai
):
    shanghai_customer = CustomerFactory(region=shanghai, name="李女士")
    shanghai_duplicate = CustomerFactory(region=shanghai, name="李女士")
    beijing_customer = CustomerFactory(region=beijing)

    with pytest.raises(NotFound):
        customer_update(customer=shanghai_customer, actor=beijing_supervisor, changes={"notes": "x"})
    with pytest.raises(NotFound):
        customer_merge(actor=beijing_supervisor, source=shanghai_duplicate, target=shanghai_customer)
    with pytest.raises(NotFound):  # not even into a customer of its own
        customer_merge(actor=beijing_supervisor, source=shanghai_duplicate, target=beijing_customer)

    shanghai_customer.refresh_from_db()
    shanghai_duplicate.refresh_from_db()
    assert (shanghai_customer.notes, shanghai_customer.version) == ("", 1)
    assert shanghai_duplicate.merged_into_id is None


def test_the_api_and_the_console_answer_404_for_a_customer_out_of_scope(beijing_supervisor, shanghai, api_as):
    shanghai_customer = CustomerFactory(region=shanghai)
    duplicate = CustomerFactory(region=shanghai, email=shanghai_customer.email)
    client = api_as(beijing_supervisor)

    assert client.get(f"/api/v1/customers/{shanghai_customer.pk}").status_code == 404
    assert client.patch(f"/api/v1/customers/{shanghai_customer.pk}", {"notes": "x"}).status_code == 404
    assert (
        client.post(
            f"/api/v1/customers/{shanghai_customer.pk}/merge", {"source_id": duplicate.pk}
        ).status_code
        == 404
    )
    assert client.get(f"/api/v1/customers/{shanghai_customer.pk}/history").status_code == 404
    console = Client()
    console.force_login(beijing_supervisor)
    assert console.get(f"/console/customers/{shanghai_customer.code}/").status_code == 404
    assert Customer.objects.get(pk=duplicate.pk).merged_into_id is None


def test_a_duplicate_outside_the_scope_is_not_suggested(beijing_supervisor, beijing, shanghai):
    mine, elsewhere, also_mine = (CustomerFactory(region=region) for region in (beijing, shanghai, beijing))
    for customer in (mine, elsewhere, also_mine):
        ContactFactory(customer=customer, email="same@example.cn")

    candidates = customer_possible_duplicates(user=beijing_supervisor, customer=mine)

    assert [c.customer.pk for c in candidates] == [also_mine.pk]


def test_a_technician_lists_only_the_customers_of_its_jobs(db, api_as):
    technician = UserFactory(role=Role.TECHNICIAN)
    mine = CustomerFactory()
    TicketFactory(customer=mine, assignee=technician)
    someone_else = CustomerFactory()
    TicketFactory(customer=someone_else)

    response = api_as(technician).get("/api/v1/customers")

    assert response.status_code == 200
    assert [item["id"] for item in response.json()["items"]] == [mine.pk]
    assert api_as(technician).get(f"/api/v1/customers/{someone_else.pk}").status_code == 404
    assert api_as(technician).get("/api/v1/customers", {"q": someone_else.phone}).json()["items"] == []
