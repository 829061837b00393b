from __future__ import annotations

import pytest
from django.test import Client

from aftersales.core.roles import Role
from aftersales.customers.models import Customer
from aftersales.customers.services import customer_identify
from aftersales.tickets.services import ticket_add_message, ticket_open
from tests.factories import UserFactory, customer_user

pytestmark = pytest.mark.django_db


def login(user, language="en"):
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


@pytest.fixture
def known_twice(agent):
    customer, contact, _ = customer_identify(actor=None, name="郑女士", email="zheng@example.com")
    ticket = ticket_open(
        actor=None, customer=customer, contact=contact, subject="浴室柜门松动", channel="email"
    )
    ticket_add_message(ticket=ticket, actor=agent, body="我们会安排上门。")
    customer_identify(actor=None, email="zheng@example.com", wechat_openid="oWX_zheng")
    wechat = ticket_open(actor=None, customer=customer, contact=contact, subject="花洒漏水", channel="wechat")
    duplicate, dup_contact, _ = customer_identify(actor=None, name="郑女士", phone="13612345678")
    dup_contact.email = "zheng@example.com"
    dup_contact.save(update_fields=["email"])
    phone = ticket_open(
        actor=agent, customer=duplicate, contact=dup_contact, subject="来电咨询", channel="phone"
    )
    return {"customer": customer, "duplicate": duplicate, "wechat": wechat, "phone": phone, "email": ticket}


def test_customer_page_shows_identities_history_and_duplicates(known_twice, agent):
    customer = known_twice["customer"]
    page = login(agent).get(f"/console/customers/{customer.code}/")
    assert page.status_code == 200
    html = page.content.decode()
    for text in (
        "zheng@example.com",
        "oWX_zheng",
        "浴室柜门松动",
        "花洒漏水",
        "我们会安排上门。",
        "channel-wechat",
    ):
        assert text in html
    assert known_twice["duplicate"].code in html
    assert "Merge into this customer" not in html  # agents cannot merge


def test_supervisor_merges_a_duplicate_after_confirming(known_twice):
    supervisor = UserFactory(role=Role.SUPERVISOR)
    customer, duplicate = known_twice["customer"], known_twice["duplicate"]
    client = login(supervisor)
    page = client.get(f"/console/customers/{customer.code}/").content.decode()
    assert "Merge into this customer" in page
    confirm = client.get(f"/console/customers/{customer.code}/merge/", {"source": duplicate.code})
    assert confirm.status_code == 200 and "13612345678" in confirm.content.decode()
    assert Customer.objects.get(pk=duplicate.pk).merged_into_id is None
    done = client.post(f"/console/customers/{customer.code}/merge/", {"source": duplicate.code}, follow=True)
    assert done.status_code == 200
    assert Customer.objects.get(pk=duplicate.pk).merged_into_id == customer.pk
    assert "来电咨询" in done.content.decode()
    merged_page = client.get(f"/console/customers/{duplicate.code}/").content.decode()
    assert f"/console/customers/{customer.code}/" in merged_page


def test_agents_and_customers_cannot_merge(known_twice, agent):
    customer, duplicate = known_twice["customer"], known_twice["duplicate"]
    url = f"/console/customers/{customer.code}/merge/"
    assert login(agent).post(url, {"source": duplicate.code}).status_code == 403
    portal_user = customer_user(customer)
    assert login(portal_user).get(f"/console/customers/{customer.code}/").status_code == 403
    assert login(portal_user).post(url, {"source": duplicate.code}).status_code == 403
    assert Customer.objects.get(pk=duplicate.pk).merged_into_id is None


def test_ticket_page_shows_the_customers_cross_channel_history(known_twice, agent):
    html = login(agent).get(f"/console/tickets/{known_twice['wechat'].number}/").content.decode()
    assert 'id="customer-history"' in html
    assert known_twice["email"].number in html and "channel-email" in html
    assert f"/console/customers/{known_twice['customer'].code}/" in html


def test_unknown_customer_is_a_404(agent):
    assert login(agent).get("/console/customers/C9999999/").status_code == 404


def test_first_response_report_page_renders_in_both_languages(known_twice, agent):
    supervisor = UserFactory(role=Role.SUPERVISOR)
    assert login(agent).get("/console/reports/first-response/").status_code == 403  # reports: report.view
    for language in ("en", "zh-hans"):
        page = login(supervisor, language).get("/console/reports/first-response/")
        assert page.status_code == 200
        html = page.content.decode()
        assert 'data-channel="phone"' in html and 'data-channel="email"' in html
    bad = login(supervisor).get(
        "/console/reports/first-response/", {"from": "2026-05-01", "to": "2026-01-01"}
    )
    assert bad.status_code == 200 and "flash-error" in bad.content.decode()


def test_customer_page_reads_a_bounded_number_of_queries(known_twice, agent, django_assert_max_num_queries):
    client = login(agent)
    url = f"/console/customers/{known_twice['customer'].code}/"
    client.get(url)
    # 16 before the page became editable; +3: installed products, regions and product models
    # for the edit forms (issue 11).
    with django_assert_max_num_queries(19):
        first = client.get(url)
    for index in range(6):
        ticket_open(actor=None, customer=known_twice["customer"], subject=f"更多工单 {index}", channel="chat")
    with django_assert_max_num_queries(19):
        more = client.get(url)
    assert first.status_code == more.status_code == 200
