from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from aftersales.core.roles import Role
from aftersales.customers.models import Contact, Customer
from aftersales.customers.services import customer_identify
from aftersales.tickets.models import TicketMessage
from aftersales.tickets.services import ticket_add_message, ticket_open
from tests.factories import UserFactory, customer_user

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=SH)


@pytest.fixture
def person(agent):
    """One person, three channels: an e-mail on Monday, WeChat on Tuesday, a call on Wednesday."""
    customer, contact, _ = customer_identify(
        actor=None, name="周先生", email="zhou@example.com", channel="email"
    )
    with time_machine.travel(at(9, 9), tick=False):
        mail = ticket_open(
            actor=None, customer=customer, contact=contact, subject="热水器不出热水", channel="email"
        )
    with time_machine.travel(at(9, 10), tick=False):
        ticket_add_message(ticket=mail, actor=agent, body="请问型号是？")
    with time_machine.travel(at(9, 11), tick=False):
        ticket_add_message(ticket=mail, actor=agent, body="内部：疑似温控器", kind=TicketMessage.Kind.NOTE)
    same, contact2, created = customer_identify(
        actor=None, wechat_openid="oWX_zhou", email="ZHOU@example.com"
    )
    assert (same, created) == (customer, False)
    with time_machine.travel(at(10, 9), tick=False):
        wechat = ticket_open(
            actor=None, customer=customer, contact=contact2, subject="预约安装", channel="wechat"
        )
    with time_machine.travel(at(10, 9, 5), tick=False):
        ticket_add_message(ticket=wechat, actor=None, body="周六可以吗", from_customer=True, channel="wechat")
    by_phone, _, _ = customer_identify(actor=None, phone="+86 139 1234 0000", wechat_openid="oWX_zhou")
    assert by_phone == customer
    with time_machine.travel(at(11, 14), tick=False):
        ticket_open(actor=agent, customer=customer, contact=contact, subject="来电催单", channel="phone")
    return customer


def _all_pages(client, customer_id, limit):
    items, cursor, pages = [], None, 0
    while True:
        params = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        response = client.get(f"/api/v1/customers/{customer_id}/history", params)
        assert response.status_code == 200, response.content
        body = response.json()
        items += body["items"]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            return items, pages


def test_history_spans_every_channel_newest_first_in_stable_pages(person, agent, api_as):
    client = api_as(agent)
    everything, _ = _all_pages(client, person.pk, 100)
    assert [(i["kind"], i["channel"], i["ticket"]["subject"]) for i in everything] == [
        ("ticket", "phone", "来电催单"),
        ("message", "wechat", "预约安装"),
        ("ticket", "wechat", "预约安装"),
        ("message", "email", "热水器不出热水"),  # the note, read by staff
        ("message", "email", "热水器不出热水"),
        ("ticket", "email", "热水器不出热水"),
    ]
    assert everything[1]["from_customer"] is True and everything[1]["excerpt"] == "周六可以吗"
    paged, pages = _all_pages(client, person.pk, 2)
    assert paged == everything and pages == 3
    only_wechat = client.get(f"/api/v1/customers/{person.pk}/history", {"channel": "wechat"}).json()
    assert [i["kind"] for i in only_wechat["items"]] == ["message", "ticket"]


def test_a_customer_login_sees_only_its_own_history_without_notes(person, api_as):
    login = customer_user(person)
    client = api_as(login)
    items, _ = _all_pages(client, person.pk, 10)
    assert len(items) == 5
    assert all(i["message_kind"] != "note" for i in items)
    other, _, _ = customer_identify(actor=None, email="other@example.com")
    assert client.get(f"/api/v1/customers/{other.pk}/history").status_code == 404
    assert client.get(f"/api/v1/customers/{other.pk}/duplicates").status_code == 403


def test_history_refuses_a_forged_cursor(person, agent, api_as):
    response = api_as(agent).get(f"/api/v1/customers/{person.pk}/history", {"cursor": "bm90LWEtY3Vyc29y"})
    assert response.status_code == 422
    assert api_as(agent).get("/api/v1/customers/999999/history").status_code == 404


def test_history_reads_a_constant_number_of_queries(person, agent, api_as, django_assert_max_num_queries):
    client = api_as(agent)
    with django_assert_max_num_queries(6):
        assert client.get(f"/api/v1/customers/{person.pk}/history", {"limit": 100}).status_code == 200


def test_customer_read_shows_identities_by_channel(person, agent, api_as):
    body = api_as(agent).get(f"/api/v1/customers/{person.pk}").json()
    identities = sorted((i["kind"], i["value"]) for c in body["contacts"] for i in c["identities"])
    assert identities == [
        ("email", "zhou@example.com"),
        ("phone", "+8613912340000"),
        ("wechat_openid", "oWX_zhou"),
    ]
    assert body["merged_into"] is None


def test_duplicates_and_merge_over_the_api(agent, api_as):
    supervisor = UserFactory(role=Role.SUPERVISOR)
    target, _, _ = customer_identify(actor=None, name="吴女士", email="wu@example.com")
    source, source_contact, _ = customer_identify(actor=None, name="吴女士", phone="13712340000")
    Contact.objects.filter(pk=source_contact.pk).update(email="WU@example.com")
    found = api_as(agent).get(f"/api/v1/customers/{target.pk}/duplicates").json()["items"]
    assert [(d["customer"]["id"], d["reasons"]) for d in found] == [(source.pk, ["email:wu@example.com"])]
    refused = api_as(agent).post(f"/api/v1/customers/{target.pk}/merge", {"source_id": source.pk})
    assert refused.status_code == 403
    assert Customer.objects.get(pk=source.pk).merged_into_id is None
    unknown = api_as(supervisor).post(f"/api/v1/customers/{target.pk}/merge", {"source_id": 99999999})
    assert unknown.status_code == 422
    itself = api_as(supervisor).post(f"/api/v1/customers/{target.pk}/merge", {"source_id": target.pk})
    assert itself.status_code == 422
    merged = api_as(supervisor).post(f"/api/v1/customers/{target.pk}/merge", {"source_id": source.pk})
    assert merged.status_code == 200, merged.content
    assert {c["id"] for c in merged.json()["contacts"]} >= {source_contact.pk}
    again = api_as(supervisor).post(f"/api/v1/customers/{target.pk}/merge", {"source_id": source.pk})
    assert again.status_code == 409
    assert api_as(agent).get(f"/api/v1/customers/{source.pk}").json()["merged_into"] == target.pk
    assert api_as(agent).patch(f"/api/v1/customers/{source.pk}", {"name": "x"}).status_code == 409


def test_duplicates_read_a_constant_number_of_queries(agent, api_as, django_assert_max_num_queries):
    target, _, _ = customer_identify(actor=None, name="钱先生", email="qian@example.com")
    for index in range(5):
        _, contact, _ = customer_identify(actor=None, name="钱先生", phone=f"1371234000{index}")
        Contact.objects.filter(pk=contact.pk).update(email="qian@example.com")
    client = api_as(agent)
    # 11: one of them counts the request in the shared rate limiter (core.rate_limit).
    with django_assert_max_num_queries(11):
        items = client.get(f"/api/v1/customers/{target.pk}/duplicates").json()["items"]
    assert len(items) == 5
