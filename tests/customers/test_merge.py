from __future__ import annotations

import pytest

from aftersales.assets.models import InstalledProduct
from aftersales.core.errors import Conflict, PermissionDenied, ValidationFailed
from aftersales.core.models import AuditEvent
from aftersales.core.roles import Role
from aftersales.customers.models import Address, Contact, ContactIdentity, Customer
from aftersales.customers.selectors import customer_possible_duplicates, customer_search
from aftersales.customers.services import address_add, customer_identify, customer_merge
from aftersales.tickets.models import Ticket
from tests.factories import InstalledProductFactory, RegionFactory, TicketFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def supervisor(db):
    return UserFactory(role=Role.SUPERVISOR)


@pytest.fixture
def pair(agent):
    """The same person known twice: by e-mail (target) and by WeChat + phone (source)."""
    target, target_contact, _ = customer_identify(actor=None, name="陈女士", email="chen@example.com")
    source, source_contact, _ = customer_identify(
        actor=None, name="陈女士", wechat_openid="oWX_chen", phone="13855556666"
    )
    # Staff typed the e-mail on the duplicate too: recorded, not routing.
    ContactIdentity.objects.create(
        contact=source_contact, kind="email", value="chen@example.com", is_routing=False
    )
    address_add(customer=target, actor=agent, line="杭州市西湖区文三路1号")
    source_address = address_add(customer=source, actor=agent, line="杭州市西湖区文三路1号 3单元")
    product = InstalledProductFactory(customer=source, address=source_address)
    source_tickets = [
        TicketFactory(customer=source, channel="wechat"),
        TicketFactory(customer=source, channel="phone"),
    ]
    target_ticket = TicketFactory(customer=target, channel="email")
    return {
        "target": target,
        "source": source,
        "source_contact": source_contact,
        "target_contact": target_contact,
        "product": product,
        "source_address": source_address,
        "source_tickets": source_tickets,
        "target_ticket": target_ticket,
    }


def test_merge_moves_contacts_identities_addresses_products_and_tickets(pair, supervisor):
    target, source = pair["target"], pair["source"]
    result = customer_merge(actor=supervisor, source=source, target=target)
    assert result.pk == target.pk
    source.refresh_from_db()
    assert source.merged_into_id == target.pk and source.merged_at is not None
    assert set(Contact.objects.filter(customer=target).values_list("pk", flat=True)) == {
        pair["target_contact"].pk,
        pair["source_contact"].pk,
    }
    assert Contact.objects.get(pk=pair["target_contact"].pk).is_primary
    assert not Contact.objects.get(pk=pair["source_contact"].pk).is_primary
    # The duplicated e-mail identity is dropped; every value appears once for the target.
    assert sorted(
        ContactIdentity.objects.filter(contact__customer=target).values_list("kind", "value", "is_routing")
    ) == [
        ("email", "chen@example.com", True),
        ("phone", "+8613855556666", True),
        ("wechat_openid", "oWX_chen", True),
    ]
    assert Address.objects.filter(customer=target).count() == 2
    assert Address.objects.filter(customer=target, is_default=True).count() == 1
    assert InstalledProduct.objects.get(pk=pair["product"].pk).customer_id == target.pk
    moved = Ticket.objects.filter(pk__in=[t.pk for t in pair["source_tickets"]])
    assert {t.customer_id for t in moved} == {target.pk}
    assert all(t.version == 2 for t in moved)
    assert Ticket.objects.filter(customer=source).count() == 0
    # Every channel now reaches the one customer.
    assert customer_identify(actor=None, phone="+86 138 5555 6666")[0] == target
    assert customer_identify(actor=None, wechat_openid="oWX_chen")[0] == target
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"customer.merge", "customer.merge.receive", "ticket.customer_merge"} <= actions
    assert "installed_product.follow_customer_merge" in actions
    merge_event = AuditEvent.objects.get(action="customer.merge")
    assert merge_event.after["merged_into"] == target.code
    assert merge_event.after["identities_removed"] == ["email:chen@example.com"]


def test_merged_customer_is_hidden_from_search_and_duplicates(pair, supervisor, agent):
    assert [c.customer for c in customer_possible_duplicates(user=agent, customer=pair["target"])] == [
        pair["source"]
    ]
    customer_merge(actor=supervisor, source=pair["source"], target=pair["target"])
    page, _ = customer_search(user=agent, q="陈女士")
    assert page == [pair["target"]]
    assert customer_possible_duplicates(user=agent, customer=pair["target"]) == []


def _snapshot():
    return (
        list(Customer.objects.order_by("pk").values_list("pk", "merged_into_id", "version")),
        list(Contact.objects.order_by("pk").values_list("pk", "customer_id")),
        list(Ticket.objects.order_by("pk").values_list("pk", "customer_id", "version")),
        list(InstalledProduct.objects.order_by("pk").values_list("pk", "customer_id")),
        AuditEvent.objects.filter(action__startswith="customer.merge").count(),
    )


def test_merge_refuses_agents_self_and_merged_customers_and_changes_nothing(pair, supervisor, agent):
    target, source = pair["target"], pair["source"]
    before = _snapshot()
    with pytest.raises(PermissionDenied):
        customer_merge(actor=agent, source=source, target=target)
    with pytest.raises(ValidationFailed):
        customer_merge(actor=supervisor, source=target, target=target)
    assert _snapshot() == before
    customer_merge(actor=supervisor, source=source, target=target)
    third, _, _ = customer_identify(actor=None, email="third@example.com")
    after_first = _snapshot()
    with pytest.raises(Conflict):
        customer_merge(actor=supervisor, source=source, target=target)
    with pytest.raises(Conflict):
        customer_merge(actor=supervisor, source=third, target=source)
    assert _snapshot()[:4] == after_first[:4]


def test_a_portal_login_of_the_duplicate_sees_the_merged_history(pair, supervisor, api_as):
    login = UserFactory(role=Role.CUSTOMER)
    Contact.objects.filter(pk=pair["source_contact"].pk).update(user=login)
    customer_merge(actor=supervisor, source=pair["source"], target=pair["target"])
    login.refresh_from_db()
    numbers = {item["number"] for item in api_as(login).get("/api/v1/tickets").json()["items"]}
    assert numbers == {pair["target_ticket"].number, *(t.number for t in pair["source_tickets"])}


def test_open_tickets_take_the_target_tier(agent, supervisor):
    target, _, _ = customer_identify(actor=None, email="vip@example.com")
    Customer.objects.filter(pk=target.pk).update(value_tier="high_value")
    target.refresh_from_db()
    source, _, _ = customer_identify(actor=None, phone="13700001234")
    ticket = TicketFactory(customer=source)
    customer_merge(actor=supervisor, source=source, target=target)
    ticket.refresh_from_db()
    assert ticket.customer_tier == "high_value"


def test_same_name_in_the_same_region_is_a_possible_duplicate(agent):
    region = RegionFactory()
    first, _, _ = customer_identify(actor=None, name="杭州西湖酒店", email="a@hotel.cn")
    second, _, _ = customer_identify(actor=None, name="杭州西湖酒店", email="b@hotel.cn")
    elsewhere, _, _ = customer_identify(actor=None, name="杭州西湖酒店", email="c@hotel.cn")
    Customer.objects.filter(pk__in=[first.pk, second.pk]).update(region=region)
    first.refresh_from_db()
    found = customer_possible_duplicates(user=agent, customer=first)
    assert [(c.customer, c.reasons) for c in found] == [(second, ["name_region"])]
    assert elsewhere not in [c.customer for c in found]


def test_a_ticket_opened_for_a_merged_customer_lands_on_the_one_it_joined(pair, supervisor, agent):
    from aftersales.tickets.services import ticket_open

    stale_source = pair["source"]
    customer_merge(actor=supervisor, source=Customer.objects.get(pk=stale_source.pk), target=pair["target"])
    merged = Customer.objects.get(pk=stale_source.pk)
    contact = Contact.objects.get(pk=pair["source_contact"].pk)  # moved with the merge
    ticket = ticket_open(actor=None, customer=merged, contact=contact, subject="合并后来信", channel="email")
    assert ticket.customer_id == pair["target"].pk
