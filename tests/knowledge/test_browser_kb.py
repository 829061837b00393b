"""In Debian's Chromium: a customer searches the help centre in Chinese, reads an article, asks the
bot and is handed to a person; screenshots of the help centre, an article, the bot, the suggestion
panels and the reports in both languages go to ``test-artifacts/`` for a person to look at."""

from __future__ import annotations

import pytest

from aftersales.knowledge.models import BotOutcome, BotSession, TicketArticleUse
from aftersales.knowledge.search import rebuild_index
from aftersales.knowledge.services import feedback_record, search_log, ticket_article_use
from aftersales.tickets.models import Ticket
from tests.browser_support import CJK, sign_in
from tests.browser_support import shoot as shoot_as
from tests.factories import CustomerFactory, TicketFactory, customer_user

from .web_support import build_library

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def shoot(page, name: str) -> None:
    shoot_as(page, f"kb-{name}")


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """The bot's per-address limits live in the (process-wide) cache: each test starts afresh."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def library(transactional_db):
    # The search index tables are not Django models: a flushed transactional test leaves rows behind.
    rebuild_index()
    return build_library()


def test_customer_searches_in_chinese_reads_asks_the_bot_and_is_handed_to_a_person(open_page, library):
    page = open_page("zh-Hans")
    page.goto("/help/")
    page.wait_for_url("**/help/zh-hans/")
    assert "有什么可以帮您" in page.text_content("main")

    page.fill("#kb-q", "热水器 E1")
    page.press("#kb-q", "Enter")
    page.wait_for_url("**/help/zh-hans/search/**")
    assert page.locator(".kb-hit mark").count() >= 1
    page.click("a.kb-hit-title >> text=热水器显示 E1 故障代码怎么办")
    page.wait_for_url("**/help/zh-hans/a/water-heater-e1/")
    assert "确认燃气阀门已经打开" in page.text_content(".kb-body")
    assert "版本 1" in page.text_content(".kb-meta")

    page.click("#feedback button[value=yes]")
    page.wait_for_selector("#feedback .kb-thanks")

    page.click(".kb-askcard a.button-small")
    page.wait_for_url("**/help/zh-hans/ask/")
    page.fill("#kb-question", "热水器显示E1怎么办")
    page.click("#kb-bot-ask button[type=submit]")
    page.wait_for_selector(".kb-turn-bot.kb-kind-answer")
    answer = page.text_content(".kb-kind-answer")
    assert "确认燃气阀门已经打开" in answer
    assert (
        page.locator(".kb-kind-answer .kb-sources a").get_attribute("href")
        == "/help/zh-hans/a/water-heater-e1/"
    )

    page.fill("#kb-question", "还是不行，转人工")
    page.click("#kb-bot-ask button[type=submit]")
    page.wait_for_selector("form.kb-contact")
    page.fill("form.kb-contact input[name=name]", "刘女士")
    page.fill("form.kb-contact input[name=phone]", "13700001234")
    page.click("form.kb-contact button[type=submit]")
    page.wait_for_selector(".kb-handed")

    ticket = Ticket.objects.get()
    assert ticket.number in page.text_content(".kb-handed")
    assert ticket.customer.name == "刘女士"
    assert "热水器显示E1怎么办" in ticket.description
    assert "确认燃气阀门已经打开" in ticket.description
    assert "还是不行，转人工" in ticket.description
    session = BotSession.objects.get()
    assert session.outcome == BotOutcome.HANDED_OVER and session.ticket == ticket
    assert TicketArticleUse.objects.filter(ticket=ticket, via="bot", article=library["e1_zh"]).exists()
    shoot(page, "bot-handed-over-zh")


def test_signed_in_customer_hands_over_from_the_bot_and_follows_the_request(open_page, library):
    user = customer_user(CustomerFactory(language="en"))
    page = open_page("en")
    sign_in(page, user.username)
    page.wait_for_url("**/portal/")
    page.goto("/help/en/ask/")
    page.fill("#kb-question", "How do I clean the shower head?")
    page.click("#kb-bot-ask button[type=submit]")
    page.wait_for_selector(".kb-options")
    page.click(".kb-option >> text=Cleaning the shower head filter")
    page.wait_for_selector(".kb-turn-bot.kb-kind-answer >> text=filter screen")
    page.click(".kb-resolve .kb-person")
    page.wait_for_selector(".kb-handed a.button-small")
    ticket = Ticket.objects.get()
    assert ticket.customer == user.contact.customer
    page.click(".kb-handed a.button-small")
    page.wait_for_url(f"**/portal/tickets/{ticket.number}/")


def _report_data(library, agent) -> Ticket:
    ticket = TicketFactory(
        customer=CustomerFactory(language="en"),
        subject="Water heater shows E1",
        description="Since this morning the display shows E1 and there is no hot water.",
    )
    for _ in range(3):
        ticket_article_use(ticket=TicketFactory(), article=library["e1_en"], actor=agent, via="reply")
    ticket_article_use(ticket=TicketFactory(), article=library["e1_zh"], actor=None, via="bot")
    ticket_article_use(ticket=TicketFactory(), article=library["nozzle"], actor=agent, via="reply")
    for query, locale, times in (
        ("太阳能热水器", "zh-hans", 4),
        ("solar inverter", "en", 2),
        ("净水器滤芯更换", "zh-hans", 1),
    ):
        for _ in range(times):
            search_log(query=query, locale=locale, audience="public", results=0, source="help")
    for index in range(3):
        feedback_record(
            article=library["nozzle"],
            helpful=False,
            comment=f"Picture missing {index}",
            session_key=f"x{index}",
        )
    feedback_record(article=library["e1_zh"], helpful=False, comment="步骤二没用", session_key="y")
    feedback_record(article=library["e1_zh"], helpful=True, session_key="z")
    return ticket


@pytest.mark.parametrize("language", ["zh-Hans", "en"])
def test_screenshots_of_the_knowledge_pages(open_page, library, agent, language):
    tag = "zh" if language.startswith("zh") else "en"
    locale = "zh-hans" if tag == "zh" else "en"
    ticket = _report_data(library, agent)

    page = open_page(language)
    page.goto(f"/help/{locale}/")
    assert page.locator("html").get_attribute("lang") == locale
    shoot(page, f"help-home-{tag}")
    page.fill("#kb-q", "热水器 E1" if tag == "zh" else "water heater E1")
    page.press("#kb-q", "Enter")
    page.wait_for_selector(".kb-hit")
    shoot(page, f"help-search-{tag}")
    page.goto(f"/help/{locale}/search/?q=" + ("太阳能热水器" if tag == "zh" else "showr nozzels"))
    shoot(page, f"help-search-noresult-{tag}")
    page.goto(f"/help/{locale}/a/water-heater-e1/")
    shoot(page, f"help-article-{tag}")
    page.goto(f"/help/{locale}/ask/")
    page.fill("#kb-question", "热水器显示E1怎么办" if tag == "zh" else "My water heater shows E1")
    page.click("#kb-bot-ask button[type=submit]")
    page.wait_for_selector(".kb-kind-answer")
    page.fill("#kb-question", "怎么清洁" if tag == "zh" else "clean shower head")
    page.click("#kb-bot-ask button[type=submit]")
    page.wait_for_selector(".kb-turn-customer >> nth=1")
    shoot(page, f"bot-{tag}")

    phone = open_page(language, width=390, height=844)
    phone.goto(f"/help/{locale}/a/water-heater-e1/")
    shoot(phone, f"help-article-phone-{tag}")
    phone.goto(f"/help/{locale}/")
    shoot(phone, f"help-home-phone-{tag}")

    sign_in(page, agent.username)
    page.wait_for_url("**/console/")
    page.goto(f"/console/tickets/{ticket.number}/")
    page.wait_for_selector("#kb-suggest .kb-suggestion")
    page.click("#kb-suggest .kb-suggestion .kb-insert >> nth=0")
    page.wait_for_selector("#kb-suggest .kb-used")
    assert "/help/en/a/water-heater-e1/" in page.input_value("#conversation textarea[name=body]")
    assert TicketArticleUse.objects.filter(ticket=ticket, via="reply").exists()
    shoot(page, f"console-suggestions-{tag}")
    for name in ("top-problems", "missing-articles", "feedback"):
        page.goto(f"/console/kb/reports/{name}/")
        shoot(page, f"report-{name}-{tag}")
    if tag == "zh":
        assert CJK.search(page.text_content("main"))

    customer = customer_user(CustomerFactory(language=locale))
    portal = open_page(language)
    sign_in(portal, customer.username)
    portal.wait_for_url("**/portal/")
    portal.goto("/portal/new/")
    portal.fill("input[name=subject]", "热水器显示E1" if tag == "zh" else "Water heater shows E1")
    portal.wait_for_selector("#kb-portal-suggest-list a")
    shoot(portal, f"portal-suggestions-{tag}")
