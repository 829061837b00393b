"""The customer page and the first-response report in Debian's Chromium, in both languages.

Screenshots go to ``test-artifacts/`` (gitignored) for a person to look at.
"""

from __future__ import annotations

import datetime as dt
import os
from zoneinfo import ZoneInfo

import pytest
import time_machine

from aftersales.core.roles import Role
from aftersales.customers.models import Customer
from aftersales.customers.services import customer_identify
from aftersales.tickets.services import ticket_add_message, ticket_open
from tests.browser_support import CJK, shoot, sign_in
from tests.factories import UserFactory

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def people(transactional_db):
    agent = UserFactory(role=Role.AGENT, display_name="张敏")
    supervisor = UserFactory(role=Role.SUPERVISOR, display_name="刘主管")
    now = dt.datetime.now(SH).replace(microsecond=0)
    customer, contact, _ = customer_identify(
        actor=None, name="林晓", email="lin.xiao@example.com", channel="email"
    )
    with time_machine.travel(now - dt.timedelta(days=3, hours=2), tick=False):
        mail = ticket_open(
            actor=None, customer=customer, contact=contact, subject="热水器显示E3故障", channel="email"
        )
    with time_machine.travel(now - dt.timedelta(days=3), tick=False):
        ticket_add_message(ticket=mail, actor=agent, body="您好，E3 是点火故障，请检查燃气阀门是否打开。")
    customer_identify(actor=None, email="lin.xiao@example.com", wechat_openid="oWX_linxiao", channel="wechat")
    with time_machine.travel(now - dt.timedelta(days=1), tick=False):
        wechat = ticket_open(
            actor=None, customer=customer, contact=contact, subject="预约上门维修", channel="wechat"
        )
        ticket_add_message(
            ticket=wechat, actor=None, body="明天下午可以吗？", from_customer=True, channel="wechat"
        )
    with time_machine.travel(now - dt.timedelta(hours=23, minutes=58), tick=False):
        ticket_add_message(ticket=wechat, actor=agent, body="可以，工程师 14:00 到。")
    duplicate, dup_contact, _ = customer_identify(
        actor=None, name="林晓", phone="+86 139 8888 0001", channel="phone"
    )
    dup_contact.email = "LIN.XIAO@example.com"
    dup_contact.save(update_fields=["email"])
    with time_machine.travel(now - dt.timedelta(hours=2), tick=False):
        call = ticket_open(
            actor=agent, customer=duplicate, contact=dup_contact, subject="来电催促上门", channel="phone"
        )
    with time_machine.travel(now - dt.timedelta(hours=2) + dt.timedelta(seconds=40), tick=False):
        ticket_add_message(ticket=call, actor=agent, body="已联系工程师，马上出发。")
    return {
        "agent": agent,
        "supervisor": supervisor,
        "customer": customer,
        "duplicate": duplicate,
        "wechat": wechat,
    }


@pytest.mark.parametrize("language", ["zh-Hans", "en"])
def test_customer_page_merge_and_report_screenshots(open_page, people, language):  # noqa: F811
    tag = "zh" if language.startswith("zh") else "en"
    customer, duplicate = people["customer"], people["duplicate"]
    page = open_page(language)
    sign_in(page, people["supervisor"].username)
    page.wait_for_url("**/console/")
    page.goto(f"/console/customers/{customer.code}/")
    assert "oWX_linxiao" in page.text_content("main")
    assert page.locator("#customer-timeline li").count() == 5
    shoot(page, f"customer-page-{tag}")
    page.goto(f"/console/tickets/{people['wechat'].number}/")
    assert page.locator("#customer-history .timeline li").count() == 5
    shoot(page, f"customer-ticket-history-{tag}")
    page.goto(f"/console/customers/{customer.code}/")
    page.click(f"#duplicates a.button-small[href*='source={duplicate.code}']")
    page.wait_for_selector("#confirm-merge")
    shoot(page, f"customer-merge-confirm-{tag}")
    page.click("#confirm-merge")
    page.wait_for_selector("#customer-timeline")
    assert "来电催促上门" in page.text_content("#customer-timeline")
    assert Customer.objects.get(pk=duplicate.pk).merged_into_id == customer.pk
    shoot(page, f"customer-page-merged-{tag}")
    page.goto("/console/reports/first-response/")
    assert page.locator("#first-response tr[data-channel='phone'] td").nth(2).text_content().strip() == "1"
    shoot(page, f"report-first-response-{tag}")
    if tag == "zh":
        assert CJK.search(page.text_content("main"))
