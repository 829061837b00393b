"""In Debian's Chromium: an agent logs a call with its details, and the ticket shows the call.

Screenshots of the form and the Calls panel in both languages go to ``test-artifacts/``.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from aftersales.channels.phone.models import CallRecord
from aftersales.core.roles import Role
from aftersales.tickets.models import Ticket
from tests.browser_support import shoot, sign_in
from tests.factories import ContactFactory, CustomerFactory, InstalledProductFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_agent_logs_a_call_and_sees_it_on_the_ticket(open_page, transactional_db, language):  # noqa: F811
    agent = UserFactory(role=Role.AGENT, display_name="张敏", phone="8001")
    customer = CustomerFactory(name="上海浦江酒店", phone="13812345678")
    ContactFactory(customer=customer, name="陈经理")
    InstalledProductFactory(customer=customer)
    earlier = CallRecord.objects.create(
        customer=customer,
        direction="inbound",
        caller_number="13812345678",
        status="missed",
        started_at=timezone.now() - dt.timedelta(hours=3),
    )
    page = open_page(language)
    sign_in(page, agent.username)
    page.wait_for_url("**/console/")
    page.goto("/console/call/")
    page.fill("#id_phone", "+86 138 1234 5678")
    page.wait_for_selector("#caller .caller.found")
    assert "上海浦江酒店" in page.text_content("#caller")
    assert page.locator("#caller .caller-calls li").count() == 1
    page.fill(
        "input[name=subject]", "热水器显示 E1 故障码" if language != "en" else "Water heater shows error E1"
    )
    page.check("input[name=direction][value=inbound]")
    page.fill("input[name=duration]", "4:05")
    page.fill("input[name=recording_url]", "https://rec.example.com/2026/0921/8001-1.mp3")
    shoot(page, f"phone-log-call-{language}")
    with page.expect_navigation():
        page.click("form.callform button[type=submit]")
    ticket = Ticket.objects.get()
    page.wait_for_selector("#calls")
    panel = page.text_content("#calls")
    assert "4:05" in panel
    assert ("Inbound" if language == "en" else "呼入") in panel
    link = page.get_attribute("#calls a.call-recording", "href")
    assert link == "https://rec.example.com/2026/0921/8001-1.mp3"
    call = CallRecord.objects.exclude(pk=earlier.pk).get()
    assert (call.ticket, call.duration_seconds, call.agent) == (ticket, 245, agent)
    shoot(page, f"phone-calls-panel-{language}")


def test_agent_records_a_call_on_the_callers_open_ticket(open_page, transactional_db):  # noqa: F811
    from aftersales.tickets.services import ticket_open

    agent = UserFactory(role=Role.AGENT, display_name="张敏")
    customer = CustomerFactory(name="上海浦江酒店", phone="13812345678")
    ContactFactory(customer=customer, name="陈经理")
    existing = ticket_open(actor=agent, customer=customer, subject="淋浴房漏水")
    page = open_page("zh-hans")
    sign_in(page, agent.username)
    page.wait_for_url("**/console/")
    page.goto("/console/call/")
    page.fill("#id_phone", "138-1234-5678")
    page.wait_for_selector(f"#caller input[name=attach_to][value={existing.number}]")
    page.check(f"#caller input[name=attach_to][value={existing.number}]")
    assert not page.is_visible("#id_subject")  # no subject needed for an existing ticket
    assert page.text_content("form.callform button[type=submit]") == "记到此工单"
    page.fill("textarea[name=notes]", "客户确认周五上午在家")
    page.fill("input[name=duration]", "0:48")
    shoot(page, "phone-log-call-on-open-ticket-zh-hans")
    with page.expect_navigation():
        page.click("form.callform button[type=submit]")
    page.wait_for_selector("#calls")
    assert Ticket.objects.count() == 1
    assert CallRecord.objects.get().ticket == existing
    assert "0:48" in page.text_content("#calls")
    assert existing.messages.get(kind="note").body == "客户确认周五上午在家"
