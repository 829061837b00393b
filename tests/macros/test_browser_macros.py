"""Canned replies in Chromium at 390×844 and 1440×900, in both languages: a supervisor writes one
(an unknown placeholder is refused in the page's language), an agent inserts it on the ticket page
(filled in the customer's language) and applies another. Screenshots go to ``test-artifacts/``."""

from __future__ import annotations

import pytest

from aftersales.core.roles import Role
from aftersales.macros.models import Macro
from aftersales.macros.services import macro_create
from aftersales.tickets.models import Ticket, TicketMessage
from tests.browser_support import CJK, main_overflow, shoot, sign_in
from tests.factories import CustomerFactory, InstalledProductFactory, TicketFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
SIZES = [(390, 844), (1440, 900)]


@pytest.fixture
def desk(transactional_db):
    supervisor = UserFactory(role=Role.SUPERVISOR, display_name="刘主管")
    agent = UserFactory(role=Role.AGENT, display_name="张敏")
    customer = CustomerFactory(name="陈静", language="zh-hans")
    product = InstalledProductFactory(
        customer=customer, product_model__name="智能马桶 S7", product_model__name_en="Smart toilet S7"
    )
    ticket = TicketFactory(customer=customer, installed_product=product, subject="马桶冲水无力")
    english = TicketFactory(
        customer=CustomerFactory(name="Mark Lee", language="en"), subject="Shower leaks at the joint"
    )
    macro_create(
        actor=supervisor,
        name="需要照片",
        scope="global",
        body_zh="{{ customer_name }}您好，请拍一张{{ product }}的照片发给我们。",
        body_en="Hello {{ customer_name }}, please send us a photo of the {{ product }}.",
        set_priority="high",
        add_tags=["需照片"],
        set_status="waiting_on_customer",
    )
    return {"supervisor": supervisor, "agent": agent, "ticket": ticket, "english": english}


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize(("width", "height"), SIZES)
def test_macros_written_inserted_and_applied(open_page, desk, language, width, height):
    tag = f"{'zh' if language == 'zh-hans' else 'en'}-{width}"
    page = open_page(language, width=width, height=height)
    sign_in(page, desk["supervisor"].username, wait=True)
    page.goto("/console/macros/new/")
    page.fill("#id_name", "上门确认")
    page.select_option("#id_scope", "global")
    page.fill("#id_body_zh", "{{ 客户 }}您好")
    page.fill("#id_body_en", "Hello {{ customer_name }}")
    page.click("#save-macro")
    page.wait_for_selector(".flash-error")
    error = page.text_content("main")
    assert ("未知的占位符" if language == "zh-hans" else "Unknown placeholder") in error
    assert main_overflow(page) == []
    shoot(page, f"macro-form-error-{tag}")
    page.fill(
        "#id_body_zh", "{{ customer_name }}您好，工单 {{ ticket_number }} 的上门时间：{{ visit_window }}。"
    )
    page.fill("#id_body_en", "Dear {{ customer_name }}, visit for {{ ticket_number }}: {{ visit_window }}.")
    page.click("#save-macro")
    page.wait_for_selector("#macro-list")
    assert Macro.objects.filter(name="上门确认").exists()
    assert main_overflow(page) == []
    shoot(page, f"macro-list-{tag}")

    page = open_page(language, width=width, height=height)
    sign_in(page, desk["agent"].username, wait=True)
    ticket = desk["ticket"]
    page.goto(f"/console/tickets/{ticket.number}/")
    page.select_option("#macro-select", label="上门确认")
    page.click("#macro-insert")
    page.wait_for_selector("#inserted-macro")
    text = page.input_value("#conversation textarea[name=body]")
    assert text == f"陈静您好，工单 {ticket.number} 的上门时间：尚未预约。"  # the customer's language
    assert main_overflow(page) == []
    shoot(page, f"macro-inserted-{tag}", full_page=False)
    page.click("#conversation .composer button[type=submit]")
    page.wait_for_function("() => !document.querySelector('#inserted-macro')")
    assert TicketMessage.objects.filter(ticket=ticket, body=text).exists()
    assert Macro.objects.get(name="上门确认").usage_count == 1

    page.select_option("#macro-select", label="需要照片")
    page.click("#macro-apply")
    page.wait_for_selector(".flash-success")
    ticket.refresh_from_db()
    assert (ticket.priority, ticket.status) == ("high", "waiting_on_customer")
    assert TicketMessage.objects.filter(
        ticket=ticket, body="陈静您好，请拍一张智能马桶 S7的照片发给我们。"
    ).exists()
    assert main_overflow(page) == []
    shoot(page, f"macro-applied-{tag}")

    page.goto(f"/console/tickets/{desk['english'].number}/")
    page.select_option("#macro-select", label="上门确认")
    page.click("#macro-insert")
    page.wait_for_selector("#inserted-macro")
    assert page.input_value("#conversation textarea[name=body]") == (
        f"Dear Mark Lee, visit for {desk['english'].number}: not scheduled yet."
    )
    if language == "zh-hans":
        main = page.text_content("main")
        assert CJK.search(main)
        for english in ("Canned reply", "Insert", "Apply", "From the canned reply"):
            assert english not in main, english
    assert Ticket.objects.get(pk=desk["english"].pk).priority == "normal"
