"""In Chromium: the parts clerk's ticket page offers internal notes and internal files only, and no
reports in its menu; the customer's page names staff by display name. Screenshots at 390 and
1440 px go to ``test-artifacts/``."""

from __future__ import annotations

import pytest

from aftersales.core.roles import Role
from aftersales.tickets.services import ticket_add_message, ticket_transition
from tests.browser_support import shoot, sign_in
from tests.factories import CustomerFactory, TicketFactory, UserFactory, customer_user

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture
def shop(transactional_db):
    agent = UserFactory(role=Role.AGENT, username="zhang.min@corp.example", display_name="张敏")
    clerk = UserFactory(role=Role.PARTS_CLERK, display_name="备件 王")
    customer = CustomerFactory(name="上海浦江酒店", value_tier="high_value")
    ticket = TicketFactory(customer=customer, assignee=agent, subject="智能马桶冲水无力")
    ticket = ticket_transition(ticket=ticket, actor=agent, to_status="accepted", note="客户难缠")
    ticket_add_message(ticket=ticket, actor=agent, body="师傅明天上门。")
    return {"agent": agent, "clerk": clerk, "ticket": ticket, "login": customer_user(customer)}


@pytest.mark.parametrize("width", [390, 1440])
def test_the_parts_clerk_writes_internal_notes_only(open_page, shop, width):
    page = open_page("zh-hans", width=width)
    sign_in(page, shop["clerk"].username, wait=True)
    page.goto(f"/console/tickets/{shop['ticket'].number}/")

    kinds = page.locator(".composer-kinds input[type=radio]")
    assert [kinds.nth(i).get_attribute("value") for i in range(kinds.count())] == ["note"]
    assert page.locator("form.upload input[name=is_internal][type=hidden]").count() == 1
    assert page.locator("nav a[href='/console/reports/sla/']").count() == 0
    shoot(page, f"roles-parts-clerk-ticket-{width}")


@pytest.mark.parametrize("width", [390, 1440])
def test_the_customer_sees_staff_by_display_name(open_page, shop, width):
    page = open_page("zh-hans", width=width)
    sign_in(page, shop["login"].username, wait=True)
    page.goto(f"/portal/tickets/{shop['ticket'].number}/")

    html = page.content()
    assert "张敏" in html
    assert "zhang.min@corp.example" not in html and "客户难缠" not in html
    shoot(page, f"roles-portal-ticket-{width}")
