"""Every page of every role in Chromium, on a 390×844 phone and a 1440×900 desktop, in zh-hans and
en (issue 11, item 1): no horizontal scrolling, no untranslated UI string, no console error, touch
targets of at least 44 px on the phone, the collapsed menu opens. Screenshots of each page go to
``test-artifacts/shell-<role>-<page>-<language>-<width>.png`` for a person to look at.

One browser for the module and one context per role, size and language (signed in once); the pages
are visited in turn, and a test reports every problem of its role at once.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import translation

from aftersales.core.roles import Role
from aftersales.tickets.services import ticket_add_message, ticket_transition
from tests.browser_support import CJK, shoot
from tests.factories import (
    PASSWORD,
    AddressFactory,
    ContactFactory,
    CustomerFactory,
    InstalledProductFactory,
    TeamFactory,
    TicketFactory,
    UserFactory,
    customer_user,
)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

PHONE = (390, 844)
DESKTOP = (1440, 900)
LANGUAGES = ("zh-hans", "en")

# UI words a page could show untranslated although no catalogue has them (hard-coded English).
COMMON_UI_WORDS = {
    "Add",
    "All",
    "Apply",
    "Back",
    "Cancel",
    "Clear",
    "Close",
    "Confirm",
    "Delete",
    "Details",
    "Download",
    "Edit",
    "Export",
    "Filter",
    "Help",
    "Home",
    "Loading",
    "Menu",
    "More",
    "Next",
    "None",
    "Notifications",
    "Open",
    "Previous",
    "Remove",
    "Reply",
    "Reports",
    "Reset",
    "Save",
    "Search",
    "Send",
    "Settings",
    "Sign in",
    "Sign out",
    "Status",
    "Submit",
    "Tickets",
    "Upload",
}
# Texts that read the same in both languages (codes and units), allowed on a Chinese page; a
# language is named in its own language ("English" in a language filter), as in the switcher.
SAME_IN_BOTH = {
    "SLA",
    "CSAT",
    "NPS",
    "KB",
    "MB",
    "KB/s",
    "API",
    "ID",
    "OK",
    "URL",
    "E1",
    "CSV",
    "XLSX",
    "English",
}

TEXTS_JS = """
() => {
  const skip = 'script,style,noscript,[translate=no],#lang-select,pre,code,.mono,.msg-body,.kb-body';
  const visible = (el) => el.checkVisibility ? el.checkVisibility() : !!el.offsetParent;
  // Content marked as written in another language (an English article's title) is not UI.
  const pageLang = document.documentElement.lang.toLowerCase();
  const foreign = (el) => { const own = el.closest('[lang]'); return own && own.lang.toLowerCase() !== pageLang; };
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  let node;
  while ((node = walker.nextNode())) {
    const text = node.nodeValue.replace(/\\s+/g, ' ').trim();
    const el = node.parentElement;
    if (!text || !el || el.closest(skip) || foreign(el)) continue;
    const select = el.tagName === 'OPTION' ? el.closest('select') : null;
    if (select ? !visible(select) : !visible(el)) continue;
    out.push(text);
  }
  document.querySelectorAll('[placeholder],[title],[aria-label]').forEach((el) => {
    if (el.closest(skip) || foreign(el) || !visible(el)) return;
    for (const name of ['placeholder', 'title', 'aria-label']) {
      const value = (el.getAttribute(name) || '').trim();
      if (value) out.push(value);
    }
  });
  return out;
}
"""

# On an English page the chrome (menu, column heads, buttons, field names) must not be Chinese.
CHROME_JS = """
() => {
  const out = [];
  document.querySelectorAll('nav.mainnav a, th, button, .tab, dt, legend, .navmenu-toggle').forEach((el) => {
    if (el.closest('[translate=no]') || !(el.checkVisibility ? el.checkVisibility() : el.offsetParent)) return;
    const own = Array.from(el.childNodes).filter((n) => n.nodeType === 3).map((n) => n.nodeValue).join(' ').trim();
    if (own) out.push(own);
  });
  return out;
}
"""

OVERFLOW_JS = """
() => {
  const width = window.innerWidth;
  const scroller = document.scrollingElement;
  if (scroller.scrollWidth <= width) return null;
  const wide = [];
  document.querySelectorAll('body *').forEach((el) => {
    const box = el.getBoundingClientRect();
    if (box.right > width + 1 && box.width > 0 && wide.length < 6) {
      wide.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '') + ' right=' + Math.round(box.right));
    }
  });
  return {scrollWidth: scroller.scrollWidth, width: width, elements: wide};
}
"""

SMALL_TARGETS_JS = """
() => {
  const selector = 'button, .button-small, select, input:not([type=checkbox]):not([type=radio]):not([type=hidden]):not([type=file]), summary, .tab, nav.mainnav a, .pager a, .navmenu-toggle';
  const small = [];
  document.querySelectorAll(selector).forEach((el) => {
    if (!(el.checkVisibility ? el.checkVisibility() : el.offsetParent)) return;
    const box = el.getBoundingClientRect();
    if (box.height > 0 && box.height < 43.5) {
      small.push(el.tagName.toLowerCase() + (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '') + ' "' + (el.textContent || el.getAttribute('aria-label') || el.name || '').trim().slice(0, 20) + '" h=' + Math.round(box.height));
    }
  });
  return small.slice(0, 8);
}
"""


def english_labels() -> set[str]:
    """Every msgid of the zh-hans catalogues whose translation differs, that reads as a UI label
    (letters, at most six words), plus the common words above."""
    catalog = translation.trans_real.translation("zh-hans")._catalog  # type: ignore[attr-defined]
    labels = set(COMMON_UI_WORDS)
    for msgid, msgstr in catalog.items():
        if not isinstance(msgid, str) or "\x04" in msgid or msgstr == msgid:
            continue
        text = msgid.strip()
        if re.fullmatch(r"[A-Za-z][A-Za-z' -]*[A-Za-z]", text) and len(text.split()) <= 6:
            labels.add(text)
    return labels - SAME_IN_BOTH


URLS = re.compile(r"(?:https?://|www\.)\S+|\S+@\S+")
PIECES = re.compile(r"[·:：|/()（）«»＋+,，.。!?！？…\[\]“”\"]+")
ENGLISH_WORDS = re.compile(r"^[A-Za-z][a-z]+(?: [A-Za-z][a-z]+){2,}$")


def untranslated(texts: list[str], labels: set[str]) -> list[str]:
    found: list[str] = []
    for text in texts:
        text = URLS.sub(" ", text)
        if CJK.search(text) and not re.search(r"[A-Za-z]{3,}", text):
            continue
        for piece in PIECES.split(text):
            piece = piece.strip()
            if piece in labels or ENGLISH_WORDS.match(piece):
                found.append(piece if piece == text else f"{piece} (in {text[:40]!r})")
    return sorted(set(found))


@pytest.fixture
def world(transactional_db) -> dict[str, Any]:
    """A service organisation with a user of every role, a customer with an address, a product
    and tickets in several stages, a knowledge library and an attachment."""
    from aftersales.knowledge.search import rebuild_index
    from tests.knowledge.web_support import build_library

    rebuild_index()
    build_library()
    team = TeamFactory(name="客户服务一组", name_en="Customer service 1")
    users = {
        "admin": UserFactory(role=Role.ADMIN, display_name="系统管理员", is_staff=True, is_superuser=True),
        "supervisor": UserFactory(role=Role.SUPERVISOR, display_name="王主管"),
        "agent": UserFactory(role=Role.AGENT, display_name="张敏"),
        "technician": UserFactory(role=Role.TECHNICIAN, display_name="李师傅"),
        "parts_clerk": UserFactory(role=Role.PARTS_CLERK, display_name="备件 王"),
    }
    team.members.add(users["agent"], users["supervisor"], users["technician"])
    customer = CustomerFactory(
        name="上海浦江酒店有限公司（浦东新区分店）", value_tier="high_value", phone="021-5888 6666"
    )
    ContactFactory(customer=customer, name="陈经理", phone="138 0013 8000")
    address = AddressFactory(customer=customer, line="上海市浦东新区世纪大道1000号国际金融中心B座23楼2301室")
    product = InstalledProductFactory(customer=customer, address=address)
    ticket = TicketFactory(
        customer=customer,
        installed_product=product,
        team=team,
        assignee=users["technician"],
        subject="智能马桶冲水无力，且座圈加热偶尔失灵，客户希望本周内上门检修",
        priority="high",
    )
    ticket = ticket_transition(ticket=ticket, actor=users["agent"], to_status="accepted", note="已联系客户")
    ticket_add_message(
        ticket=ticket,
        actor=users["agent"],
        body="您好，师傅明天上午上门。https://example.com/a/very/long/link/that/should/wrap/on/a/narrow/screen",
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
            customer=CustomerFactory() if index % 2 else customer,
            subject=subject,
            priority=priority,
            team=team if index % 2 else None,
        )
    return {"users": users, "customer": customer, "ticket": ticket, "portal": customer_user(customer)}


def role_pages(role: str, world: dict[str, Any], language: str) -> list[tuple[str, str]]:
    number, code = world["ticket"].number, world["customer"].code
    locale = "zh-hans" if language.startswith("zh") else "en"
    if role == "customer":
        return [
            ("portal-list", "/portal/"),
            ("portal-new", "/portal/new/"),
            ("portal-ticket", f"/portal/tickets/{number}/"),
            ("help", f"/help/{locale}/"),
            ("help-ask", f"/help/{locale}/ask/"),
        ]
    pages = [
        ("home", "/console/"),
        ("queue", "/console/queue/mine/"),
        ("ticket", f"/console/tickets/{number}/"),
        ("customers", "/console/customers/"),
        ("macros", "/console/macros/"),
        ("customer", f"/console/customers/{code}/"),
        ("notifications", "/console/notifications/"),
        ("account", "/account/two-step/"),
    ]
    if role != "technician":
        pages.append(("queue-all", "/console/queue/all/"))
    if role in ("admin", "supervisor", "agent"):
        pages += [
            ("call", "/console/call/"),
            ("chat", "/chat/console/"),
            ("kb-editor", "/console/kb/"),
            ("phone-calls", "/phone/calls/"),
        ]
    if role in ("admin", "supervisor"):
        pages += [
            ("settings-sla", "/console/settings/sla/"),
            ("settings-calendars", "/console/settings/calendars/"),
            ("settings-teams", "/console/settings/teams/"),
            ("report-sla", "/console/reports/sla/"),
            ("report-first-response", "/console/reports/first-response/"),
            ("kb-reports", "/console/kb/reports/"),
        ]
    if role == "admin":
        pages += [("mail-quarantine", "/mail/quarantine/"), ("webhooks", "/webhooks/")]
    return pages


@pytest.fixture
def session(browser, live_server) -> Iterator[Any]:
    """``session(username, language, size)``: a signed-in page in a fresh context."""
    contexts: list[Any] = []

    def make(username: str | None, language: str, size: tuple[int, int]) -> tuple[Any, list[str]]:
        context = browser.new_context(
            base_url=live_server.url,
            viewport={"width": size[0], "height": size[1]},
            extra_http_headers={"Accept-Language": language},
            locale="zh-CN" if language.startswith("zh") else "en-US",
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        if username:
            page.goto("/login/")
            page.fill("input[name=username]", username)
            page.fill("input[name=password]", PASSWORD)
            page.click("form button[type=submit]")
            page.wait_for_load_state()
        return page, errors

    yield make
    for context in contexts:
        context.close()


def check_pages(session: Any, role: str, username: str | None, world: dict[str, Any]) -> list[str]:
    labels = english_labels()
    problems: list[str] = []
    for language in LANGUAGES:
        for size in (PHONE, DESKTOP):
            page, errors = session(username, language, size)
            for name, path in role_pages(role, world, language) if username else ANONYMOUS_PAGES:
                where = f"{role} {name} {language} {size[0]}px"
                errors.clear()
                response = page.goto(path)
                page.wait_for_load_state()
                if response is None or response.status != 200 or (username and "/login" in page.url):
                    problems.append(f"{where}: answered {response and response.status} at {page.url}")
                    continue
                overflow = page.evaluate(OVERFLOW_JS)
                if overflow:
                    problems.append(
                        f"{where}: {overflow['scrollWidth']} px wide on {overflow['width']}: {overflow['elements']}"
                    )
                if language.startswith("zh"):
                    english = untranslated(page.evaluate(TEXTS_JS), labels)
                    if english:
                        problems.append(f"{where}: untranslated {english}")
                else:
                    chinese = [text for text in page.evaluate(CHROME_JS) if CJK.search(text)]
                    if chinese:
                        problems.append(f"{where}: Chinese in the English chrome {chinese[:6]}")
                if size == PHONE:
                    small = page.evaluate(SMALL_TARGETS_JS)
                    if small:
                        problems.append(f"{where}: touch targets under 44 px {small}")
                if errors:
                    problems.append(f"{where}: console errors {errors[:3]}")
                shoot(page, f"shell-{role}-{name}-{language}-{size[0]}", full_page=True)
            if username and size == PHONE:
                problems += check_phone_menu(page, f"{role} {language}")
    return problems


def check_phone_menu(page: Any, where: str) -> list[str]:
    """On the phone the menu is folded behind one button that opens it; the sign-out is inside."""
    problems: list[str] = []
    if page.locator("nav.mainnav a").first.is_visible():
        problems.append(f"{where}: the phone shows the menu unfolded")
    page.click(".navmenu-toggle")
    if not page.locator(".topbar-right .linkbutton").is_visible():
        problems.append(f"{where}: the opened menu has no visible sign-out")
    overflow = page.evaluate(OVERFLOW_JS)
    if overflow:
        problems.append(f"{where}: the opened menu overflows {overflow}")
    shoot(page, f"shell-menu-open-{where.replace(' ', '-')}", full_page=False)
    page.keyboard.press("Escape")
    return problems


ANONYMOUS_PAGES = [("login", "/login/"), ("password-reset", "/password-reset/"), ("help-root", "/help/")]


@pytest.mark.parametrize("role", ["admin", "supervisor", "agent", "technician", "parts_clerk", "customer"])
def test_every_page_of_the_role_fits_a_phone_and_a_desktop_in_both_languages(session, world, role):
    username = world["portal"].username if role == "customer" else world["users"][role].username
    problems = check_pages(session, role, username, world)
    assert problems == [], "\n".join(problems)


def test_the_pages_before_sign_in_fit_too(session, world):
    problems = check_pages(session, "anonymous", None, world)
    assert problems == [], "\n".join(problems)
