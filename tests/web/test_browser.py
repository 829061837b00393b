"""End-to-end in Debian's Chromium through Playwright: the agent's and the customer's paths.

One browser per module; each test gets a fresh context. Screenshots of the main pages in both
languages go to ``test-artifacts/`` (gitignored) for a person to look at.
"""

from __future__ import annotations

import pytest

from aftersales.core.roles import Role
from aftersales.tickets.models import Ticket, TicketMessage
from aftersales.tickets.services import ticket_add_message, ticket_transition
from tests.browser_support import CJK, shoot, sign_in
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    InstalledProductFactory,
    TeamFactory,
    TicketFactory,
    UserFactory,
    customer_user,
)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture
def desk(transactional_db):
    """A small service desk: an agent in a team, a customer with a product and a ticket."""
    team = TeamFactory(name="客户服务一组", name_en="Customer service 1")
    agent = UserFactory(role=Role.AGENT, display_name="张敏")
    team.members.add(agent)
    customer = CustomerFactory(name="上海浦江酒店", value_tier="high_value")
    ContactFactory(customer=customer, name="陈经理")
    product = InstalledProductFactory(customer=customer)
    ticket = TicketFactory(
        customer=customer,
        installed_product=product,
        team=team,
        assignee=agent,
        subject="智能马桶冲水无力",
        priority="high",
    )
    for index, (subject, priority) in enumerate(
        [
            ("热水器不出热水", "urgent"),
            ("安装预约：浴室柜", "normal"),
            ("龙头滴水", "low"),
            ("咨询保修政策", "normal"),
        ]
    ):
        TicketFactory(
            customer=CustomerFactory(), subject=subject, priority=priority, team=team if index % 2 else None
        )
    return {"agent": agent, "customer": customer, "product": product, "ticket": ticket, "team": team}


def test_agent_opens_a_ticket_replies_and_resolves_it(open_page, desk):
    agent, ticket = desk["agent"], desk["ticket"]
    page = open_page("en")
    sign_in(page, agent.username)
    page.wait_for_url("**/console/")
    page.click(f"text={ticket.number}")
    page.wait_for_url(f"**/console/tickets/{ticket.number}/")

    page.fill("#conversation textarea[name=body]", "An engineer will visit tomorrow morning.")
    page.click("#conversation button[type=submit]")
    page.wait_for_selector("#conversation .msg-reply >> text=An engineer will visit tomorrow morning.")
    assert page.input_value("#conversation textarea[name=body]") == ""

    page.click("button[data-target=accepted]")
    page.wait_for_selector("#ticket-status.status-accepted")
    page.click("button[data-target=resolved]")
    page.wait_for_selector("#ticket-status.status-resolved")

    ticket.refresh_from_db()
    assert ticket.status == "resolved"
    assert TicketMessage.objects.filter(ticket=ticket, kind="reply", author=agent).count() == 1


def test_customer_submits_a_ticket_and_sees_its_status_change_in_chinese(open_page, desk):
    customer, product, agent = desk["customer"], desk["product"], desk["agent"]
    user = customer_user(customer, display_name="陈经理")
    page = open_page("zh-Hans")
    sign_in(page, user.username)
    page.wait_for_url("**/portal/")
    assert "我的服务申请" in page.text_content("main")

    page.click("a.button-small[href='/portal/new/']")
    page.fill("input[name=subject]", "浴室柜门关不严")
    page.select_option("select[name=type]", "repair")
    page.select_option("select[name=installed_product]", str(product.pk))
    page.fill("textarea[name=description]", "柜门合页松动，关门时有缝隙。")
    with page.expect_navigation():
        page.click("form.card button[type=submit]")
    assert "/portal/tickets/T" in page.url, page.text_content("main")
    assert page.text_content("#ticket-status").strip() == "新建"

    ticket = Ticket.objects.get(subject="浴室柜门关不严")
    ticket = ticket_transition(ticket=ticket, actor=agent, to_status="accepted")
    ticket_add_message(ticket=ticket, actor=agent, body="您好，我们已安排工程师上门检查。")

    page.reload()
    assert page.text_content("#ticket-status").strip() == "已受理"
    assert "您好，我们已安排工程师上门检查。" in page.text_content("main")
    assert page.locator("ol.progress .step-current .step-label").text_content() == "已受理"
    assert CJK.search(page.text_content("body"))


@pytest.mark.parametrize("language", ["zh-Hans", "en"])
def test_screenshots_of_the_main_pages(open_page, desk, language):
    agent, customer, ticket = desk["agent"], desk["customer"], desk["ticket"]
    ticket = ticket_transition(ticket=ticket, actor=agent, to_status="accepted")
    ticket_add_message(ticket=ticket, actor=None, body="冲水时水箱声音很大，水流很小。")
    ticket_add_message(ticket=ticket, actor=agent, body="您好，请问马桶使用多久了？", kind="reply")
    ticket_add_message(ticket=ticket, actor=agent, body="可能是进水阀堵塞，备件库有货。", kind="note")
    ticket = ticket_transition(ticket=ticket, actor=agent, to_status="diagnosing")
    tag = "zh" if language.startswith("zh") else "en"

    page = open_page(language)
    page.goto("/login/")
    shoot(page, f"login-{tag}")
    sign_in(page, agent.username)
    page.wait_for_url("**/console/")
    page.goto("/console/queue/all/")
    shoot(page, f"console-queue-{tag}")
    page.goto(f"/console/tickets/{ticket.number}/")
    shoot(page, f"console-ticket-{tag}")
    page.goto("/console/call/")
    page.fill("input[name=phone]", customer.phone)
    page.wait_for_selector("#caller .caller.found")
    page.fill("input[name=subject]", "马桶漏水")
    shoot(page, f"console-call-{tag}")
    if tag == "zh":
        assert "登记来电" in page.text_content("body")

    portal = open_page(language)
    user = customer_user(customer)
    sign_in(portal, user.username)
    portal.wait_for_url("**/portal/")
    shoot(portal, f"portal-list-{tag}")
    portal.goto(f"/portal/tickets/{ticket.number}/")
    shoot(portal, f"portal-ticket-{tag}")
    portal.goto("/portal/new/")
    shoot(portal, f"portal-new-{tag}")
    assert "可能是进水阀堵塞" not in portal.content()
