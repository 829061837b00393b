"""End-to-end in Debian's Chromium: a visitor chats on the demo page, an agent answers in the console.

Two browser contexts (the visitor's and the signed-in agent's) talk through the live server; live
updates travel over Server-Sent Events both ways. Screenshots of the widget and of the console's
Chat page in both languages go to ``test-artifacts/``.
"""

from __future__ import annotations

import re

import pytest

from aftersales.channels.chat.models import ChatChannel, Conversation
from aftersales.core.roles import Role
from aftersales.tickets.models import Ticket
from tests.browser_support import CJK, playwright_sync, shoot
from tests.browser_support import sign_in as sign_in_as
from tests.factories import UserFactory

expect = playwright_sync.expect

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture(autouse=True)
def _live_streams(settings):
    # Streams live a few seconds here so reconnection is exercised too.
    settings.AFTERSALES_CHAT_STREAM_SECONDS = 4
    settings.AFTERSALES_CHAT_POLL_SECONDS = 0.2
    settings.AFTERSALES_CHAT_HEARTBEAT_SECONDS = 2


@pytest.fixture
def desk(transactional_db):
    ChatChannel.objects.update(is_active=False)
    channel = ChatChannel.objects.create(
        public_key="ch_browser_demo",
        name="澜泉卫浴官网在线客服",
        greeting="您好，欢迎咨询澜泉卫浴！",
        greeting_en="Hello and welcome to Lanquan Bathroom!",
    )
    agent = UserFactory(role=Role.AGENT, display_name="张敏", username="zhangmin@example.com")
    return {"channel": channel, "agent": agent}


def sign_in(page, username: str) -> None:
    sign_in_as(page, username)
    page.wait_for_url(re.compile(r".*/console/.*"))


def agent_online(page, username: str) -> None:
    sign_in(page, username)
    page.goto("/chat/console/")
    page.click("#presence-toggle")
    expect(page.locator("#presence-dot")).to_have_class(re.compile(r"\bon\b"))


def test_visitor_chats_and_an_agent_answers_live_in_the_console(open_page, desk, settings):
    settings.AFTERSALES_CHAT_BOT = False
    agent_page = open_page("zh-hans")
    agent_online(agent_page, desk["agent"].username)

    visitor = open_page("zh-hans")
    visitor.goto(f"/chat/demo/?lang=zh-hans&channel={desk['channel'].public_key}")
    visitor.click(".launcher")
    expect(visitor.locator(".head .s")).to_contain_text("客服在线")
    visitor.fill("textarea[name=body]", "你好，热水器显示E1故障码")
    visitor.click("button[name=start]")
    expect(visitor.locator(".msg.visitor")).to_have_text("你好，热水器显示E1故障码")

    # The waiting chat appears in the agent's queue without a reload.
    row = agent_page.locator("#list-waiting .chat-row")
    expect(row).to_have_count(1)
    row.click()
    expect(agent_page.locator("#pane-thread .chat-line.visitor")).to_contain_text("热水器显示E1故障码")
    agent_page.click("#pane-accept")
    expect(agent_page.locator("#pane-composer")).to_be_visible()
    agent_page.fill("#pane-input", "您好，请先确认燃气阀门已经打开。")
    agent_page.keyboard.press("Enter")

    # The visitor sees who joined and the answer, live.
    expect(visitor.locator(".msg.agent")).to_contain_text("请先确认燃气阀门已经打开")
    expect(visitor.locator(".head .s")).to_contain_text("张敏")
    shoot(visitor, "chat-widget-zh", full_page=False)

    # And the agent sees the visitor's reply live.
    visitor.fill(".foot textarea", "阀门是开着的")
    visitor.click(".foot .btn")
    expect(agent_page.locator("#pane-thread .chat-line.visitor").last).to_contain_text("阀门是开着的")
    shoot(agent_page, "chat-console-zh", full_page=False)

    conversation = Conversation.objects.get()
    ticket = Ticket.objects.get(pk=conversation.ticket_id)
    assert ticket.channel == "chat" and ticket.assignee == desk["agent"]
    assert ticket.first_responded_at is not None
    assert list(ticket.messages.filter(kind="reply").values_list("body", flat=True)) == [
        "你好，热水器显示E1故障码",
        "您好，请先确认燃气阀门已经打开。",
        "阀门是开着的",
    ]

    # The agent ends the chat; the visitor is told, the ticket link stays for follow-up.
    agent_page.click("#pane-close")
    expect(visitor.locator(".actions")).to_contain_text("对话已结束")
    expect(agent_page.locator("#pane-ticket")).to_have_attribute("href", f"/console/tickets/{ticket.number}/")


def test_with_no_agent_online_the_visitor_leaves_a_message(open_page, desk, settings):
    settings.AFTERSALES_CHAT_BOT = False
    visitor = open_page("en")
    visitor.goto(f"/chat/demo/?lang=en&channel={desk['channel'].public_key}")
    visitor.click(".launcher")
    expect(visitor.locator(".head .s")).to_have_text("No agent is online right now")
    expect(visitor.locator("button[name=leave]")).to_be_visible()
    form = visitor.locator(".form:not(.hidden)")
    form.locator("input[name=name]").fill("Mr Zhao")
    form.locator("input[name=contact]").fill("zhao@example.com")
    form.locator("textarea[name=body]").fill("The bathroom cabinet door is loose.")
    form.locator("button[name=leave]").click()
    done = visitor.locator(".done")
    expect(done).to_contain_text("Your message was received as ticket T")
    number = re.search(r"T\d{7}", done.inner_text()).group(0)
    ticket = Ticket.objects.get(number=number)
    assert ticket.channel == "chat"
    assert ticket.customer.email == "zhao@example.com"
    assert ticket.messages.get(kind="reply").body == "The bathroom cabinet door is loose."
    shoot(visitor, "chat-widget-offline-en", full_page=False)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_screenshots_of_the_widget_and_the_console(open_page, desk, settings, language):
    settings.AFTERSALES_CHAT_BOT = False
    agent_page = open_page(language)
    agent_online(agent_page, desk["agent"].username)
    visitor = open_page(language)
    visitor.goto(f"/chat/demo/?lang={language}&channel={desk['channel'].public_key}")
    expect(visitor.locator(".launcher")).to_be_visible()
    shoot(visitor, f"chat-demo-{language}", full_page=False)
    visitor.click(".launcher")
    expect(visitor.locator("button[name=start]")).to_be_visible()
    shoot(visitor, f"chat-widget-start-{language}", full_page=False)
    form = visitor.locator(".form:not(.hidden)")
    form.locator("input[name=name]").fill("王先生" if language == "zh-hans" else "Mr Wang")
    form.locator("textarea[name=body]").fill(
        "马桶冲水无力怎么办？" if language == "zh-hans" else "The toilet flush is weak."
    )
    visitor.click("button[name=start]")
    expect(agent_page.locator("#list-waiting .chat-row")).to_have_count(1)
    agent_page.locator("#list-waiting .chat-row").click()
    expect(agent_page.locator("#pane-accept")).to_be_visible()
    shoot(agent_page, f"chat-console-waiting-{language}", full_page=False)
    heading = agent_page.locator(".chat-list h4").first.inner_text()
    assert heading.startswith("等待中" if language == "zh-hans" else "WAITING")
    assert bool(CJK.search(visitor.locator(".launcher").inner_text())) == (language == "zh-hans")


def test_the_bot_answers_first_and_hands_over_to_an_agent(open_page, desk, settings):
    from aftersales.knowledge.models import BotOutcome, BotSession
    from tests.knowledge.web_support import build_library

    settings.AFTERSALES_CHAT_BOT = True
    build_library()
    agent_page = open_page("zh-hans")
    agent_online(agent_page, desk["agent"].username)

    visitor = open_page("zh-hans")
    visitor.goto(f"/chat/demo/?lang=zh-hans&channel={desk['channel'].public_key}")
    visitor.click(".launcher")
    visitor.locator(".form:not(.hidden) textarea[name=body]").fill("热水器显示E1怎么办")
    visitor.locator("button[name=start]").click()
    answer = visitor.locator(".msg.bot")
    expect(answer).to_contain_text("确认燃气阀门已经打开")
    expect(answer.locator(".src a")).to_have_attribute(
        "href", re.compile(r"/help/zh-hans/a/water-heater-e1/$")
    )
    expect(visitor.locator("button[name=solved]")).to_be_visible()
    shoot(visitor, "chat-widget-bot-zh", full_page=False)

    # The agent sees the bot at work, the visitor asks for a person, the chat moves to "waiting".
    expect(agent_page.locator("#list-bot .chat-row")).to_have_count(1)
    visitor.click("button[name=person]")
    # No contact details yet: the widget asks for them (optional) before a person takes over.
    visitor.locator(".actions input[name=contact]").fill("li.na@example.com")
    shoot(visitor, "chat-widget-ask-contact-zh", full_page=False)
    visitor.click("button[name=contact-continue]")
    expect(agent_page.locator("#list-waiting .chat-row")).to_have_count(1)
    agent_page.locator("#list-waiting .chat-row").click()
    expect(agent_page.locator("#pane-thread .chat-line.bot")).to_contain_text("确认燃气阀门已经打开")
    agent_page.click("#pane-accept")
    agent_page.fill("#pane-input", "我来帮您安排师傅上门检查点火针。")
    agent_page.keyboard.press("Enter")
    expect(visitor.locator(".msg.agent")).to_contain_text("安排师傅上门")

    conversation = Conversation.objects.get()
    session = BotSession.objects.get(public_id=conversation.bot_session_id)
    assert session.outcome == BotOutcome.HANDED_OVER
    assert session.ticket_id == conversation.ticket_id
    assert Ticket.objects.get(pk=conversation.ticket_id).customer.email == "li.na@example.com"


def test_this_solved_it_ends_the_chat_without_a_ticket(open_page, desk, settings):
    from tests.knowledge.web_support import build_library

    settings.AFTERSALES_CHAT_BOT = True
    build_library()
    visitor = open_page("en")
    visitor.goto(f"/chat/demo/?lang=en&channel={desk['channel'].public_key}")
    visitor.click(".launcher")
    visitor.locator(".form:not(.hidden) textarea[name=body]").fill(
        "My water heater shows E1, what should I do?"
    )
    visitor.locator("button[name=start]").click()
    expect(visitor.locator(".msg.bot")).to_contain_text("Check that the gas valve is open")
    visitor.click("button[name=solved]")
    expect(visitor.locator(".done")).to_have_text("Glad we could help!")
    expect(visitor.locator("button[name=new]")).to_be_visible()
    shoot(visitor, "chat-widget-deflected-en", full_page=False)
    assert Conversation.objects.get().close_reason == "deflected"
    assert not Ticket.objects.exists()


SHOP_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Shop</title>
<style>body {{ font-family: serif; }} button {{ background: red; }} .msg {{ color: red; }}</style></head>
<body><h1>Another company's shop</h1>
<script src="{server}/chat/widget.js" data-channel="{key}" data-lang="en" async></script></body></html>"""


@pytest.fixture
def shop(live_server, desk):
    """Another website on its own origin (127.0.0.1 on another port; the live server is localhost)
    whose page embeds the widget; both are loopback, so Chromium's private-network rules allow it."""
    import http.server
    import threading

    html = SHOP_PAGE.format(server=live_server.url, key=desk["channel"].public_key).encode()

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the http.server API
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(html)))
            self.end_headers()
            self.wfile.write(html)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_the_widget_works_embedded_on_another_site(open_page, desk, settings, shop):
    """The page lives on another origin: config, messages and the event stream go cross-origin."""
    settings.AFTERSALES_CHAT_BOT = False
    desk["channel"].allowed_origins = shop
    desk["channel"].save()
    agent_page = open_page("en")
    agent_online(agent_page, desk["agent"].username)

    visitor = open_page("en")
    visitor.goto(f"{shop}/product/1")
    visitor.click(".launcher")
    visitor.locator(".form:not(.hidden) textarea[name=body]").fill("Is the cabinet in stock?")
    visitor.locator("button[name=start]").click()
    expect(visitor.locator(".msg.visitor")).to_have_text("Is the cabinet in stock?")
    # The host page's CSS (red buttons) does not reach into the widget.
    color = visitor.locator(".foot .btn").evaluate("b => getComputedStyle(b).backgroundColor")
    assert color == "rgb(31, 111, 235)"

    agent_page.locator("#list-waiting .chat-row").click()
    agent_page.click("#pane-accept")
    agent_page.fill("#pane-input", "Yes, it ships tomorrow.")
    agent_page.keyboard.press("Enter")
    expect(visitor.locator(".msg.agent")).to_contain_text("Yes, it ships tomorrow.")
    token = visitor.evaluate(f"localStorage.getItem('aftersales-chat:{desk['channel'].public_key}')")
    assert token == Conversation.objects.get().public_token
    assert Conversation.objects.get().page_url == f"{shop}/product/1"


def test_a_site_the_channel_does_not_allow_shows_no_widget(open_page, desk, shop):
    visitor = open_page("en")
    with visitor.expect_request(re.compile(r".*/config\?lang=en$")):
        visitor.goto(f"{shop}/product/1")
    visitor.wait_for_timeout(500)
    assert visitor.locator("[data-aftersales-chat]").count() == 0
    assert not Conversation.objects.exists()


def test_the_console_shows_chat_times_in_the_sites_time_zone_not_the_browsers(
    browser, live_server, open_page, desk, settings
):
    from django.utils import timezone as django_timezone

    from aftersales.channels.chat.models import ChatMessage

    settings.AFTERSALES_CHAT_BOT = False
    # An agent whose computer is set to New York still reads China time, like every other page.
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 1440, "height": 900},
        extra_http_headers={"Accept-Language": "zh-hans"},
        locale="zh-CN",
        timezone_id="America/New_York",
    )
    try:
        agent_page = context.new_page()
        agent_online(agent_page, desk["agent"].username)
        visitor = open_page("zh-hans")
        visitor.goto(f"/chat/demo/?lang=zh-hans&channel={desk['channel'].public_key}")
        visitor.click(".launcher")
        visitor.fill("textarea[name=body]", "几点了？")
        visitor.click("button[name=start]")
        agent_page.locator("#list-waiting .chat-row").click()
        who = agent_page.locator("#pane-thread .chat-line.visitor .who")
        expect(who).to_have_count(1)

        sent = ChatMessage.objects.get(body="几点了？").created_at
        shanghai = django_timezone.localtime(sent).strftime("%H:%M:%S")
        assert settings.TIME_ZONE == "Asia/Shanghai"
        assert who.inner_text().endswith(shanghai)
    finally:
        context.close()
