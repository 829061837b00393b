"""In Chromium, each role's home at 390×844 and 1440×900, in Chinese and English: the content does
not overflow sideways, nothing is left untranslated, the supervisor's charts draw on a canvas, and
the console logs no error. Screenshots go to ``test-artifacts/homes-*.png``."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from aftersales.channels.chat.models import ChatChannel, Conversation, ConversationStatus
from aftersales.core.roles import Role
from aftersales.sla.models import SlaClock, SlaNotification, SlaState, TicketSla
from tests.browser_support import CJK, shoot, sign_in
from tests.factories import (
    AddressFactory,
    ContactFactory,
    CustomerFactory,
    TeamFactory,
    TicketFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

SIZES = [(390, 844), (1440, 900)]
LANGUAGES = ["zh-hans", "en"]
SUBJECTS = [
    "智能马桶冲水无力",
    "热水器不出热水，显示故障代码 E4",
    "净水器滤芯更换",
    "退换货：外壳破损",
    "安装新坐便器",
]


@pytest.fixture
def company(transactional_db):
    now = timezone.now()
    supervisor = UserFactory(role=Role.SUPERVISOR, display_name="陈主管")
    team = TeamFactory(lead=supervisor, name="华东服务组", name_en="East China service")
    agents = [UserFactory(role=Role.AGENT, display_name=name) for name in ("张敏", "李娜", "王强")]
    technician = UserFactory(role=Role.TECHNICIAN, display_name="赵师傅")
    clerk = UserFactory(role=Role.PARTS_CLERK, display_name="备件 周")
    team.members.add(supervisor, *agents, technician)
    people = [*agents, technician, None]
    for index in range(24):
        customer = CustomerFactory(name=f"上海浦江酒店{index}号楼")
        AddressFactory(customer=customer, line=f"上海市黄浦区中山东一路{index + 1}号")
        contact = ContactFactory(customer=customer, name="李经理", phone=f"139123456{index:02d}")
        ticket = TicketFactory(
            team=team,
            customer=customer,
            contact=contact,
            assignee=people[index % len(people)],
            subject=SUBJECTS[index % len(SUBJECTS)],
            type=["repair", "repair", "maintenance", "return_exchange", "installation"][index % 5],
            status=["in_service", "new", "solution_proposed", "accepted", "in_service"][index % 5],
            priority=["urgent", "normal", "high", "normal", "low"][index % 5],
        )
        state = [SlaState.ON_TRACK, SlaState.WARNING, SlaState.BREACHED][index % 3]
        due = now + dt.timedelta(minutes=[180, 40, -90][index % 3])
        TicketSla.objects.create(ticket=ticket, state=state, next_due_at=due)
        if state == SlaState.BREACHED:
            breached_at = now - dt.timedelta(minutes=90)
            clock = SlaClock.objects.create(
                ticket=ticket,
                target=["first_response", "resolution"][index % 2],
                target_seconds=3600,
                warn_after_seconds=2700,
                started_at=breached_at - dt.timedelta(hours=1),
                due_at=breached_at,
                warn_at=breached_at - dt.timedelta(minutes=15),
                warned_at=breached_at - dt.timedelta(minutes=15),
                breached_at=breached_at,
            )
            SlaNotification.objects.create(
                user=supervisor, ticket=ticket, clock=clock, kind="breach", created_at=breached_at
            )
    channel = ChatChannel.objects.create(name="官网客服", public_key="homes-browser")
    for index, name in enumerate(("王先生", "刘女士")):
        Conversation.objects.create(
            channel=channel,
            public_token=f"homes-{index}",
            status=ConversationStatus.WAITING,
            visitor_name=name,
            waiting_since=now - dt.timedelta(minutes=3 + index),
        )
    return {"supervisor": supervisor, "agent": agents[0], "technician": technician, "parts": clerk}


def watch_console(page) -> list[str]:
    errors: list[str] = []

    def on_console(message) -> None:
        # /favicon.ico is still 404 (issue 11 item 8 adds one); every other failure counts.
        if message.type == "error" and not (message.location or {}).get("url", "").endswith("/favicon.ico"):
            errors.append(f"{message.text} {(message.location or {}).get('url', '')}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def overflow(page) -> int:
    """How far the page is wider than the screen (0 when nothing scrolls sideways)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def main_overflow(page) -> list[str]:
    """Elements inside the page's content that reach past the right edge of the screen."""
    return page.evaluate(
        """() => Array.from(document.querySelectorAll('main *')).filter(el => {
             const box = el.getBoundingClientRect();
             return box.width > 0 && box.right > window.innerWidth + 1 && !el.closest('[data-chart]');
           }).slice(0, 5).map(el => el.tagName + '.' + el.className + ' ' + Math.round(el.getBoundingClientRect().right))"""
    )


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(("width", "height"), SIZES)
@pytest.mark.parametrize("role", ["agent", "supervisor", "technician", "parts"])
def test_each_home_fits_the_screen_in_both_languages(open_page, company, role, width, height, language):
    page = open_page(language, width=width, height=height)
    errors = watch_console(page)
    sign_in(page, company[role].username)
    page.wait_for_url("**/console/")
    page.wait_for_load_state("networkidle")

    if role == "supervisor":
        page.wait_for_selector("[data-chart='breaches'][data-rendered='true']")
        for name in ("teams", "people", "breaches"):
            assert page.locator(f"[data-chart='{name}'] canvas").count() >= 1, name
            box = page.locator(f"[data-chart='{name}']").bounding_box()
            assert (
                box is not None
                and box["width"] > 200
                and box["height"] > 150
                and box["x"] + box["width"] <= width
            )
    main = page.inner_text("main")
    if language == "en":
        assert _untranslated(main) == []
    else:
        assert "Due" not in main and "Open" not in main and "breach" not in main.lower()
    assert main_overflow(page) == []
    assert overflow(page) <= 0  # the whole page too, top bar included (the shell folds it)
    assert errors == []
    shoot(page, f"homes-{role}-{width}-{language}")


def _untranslated(text: str) -> list[str]:
    """Chinese left on an English page once the company's own data is taken out (names, subjects,
    addresses stay in the language they were written in)."""
    data = [
        *SUBJECTS,
        "上海浦江酒店",
        "号楼",
        "李经理",
        "上海市黄浦区中山东一路",
        "号",
        "陈主管",
        "张敏",
        "李娜",
    ]
    data += ["王强", "赵师傅", "备件 周", "华东服务组", "王先生", "刘女士", "官网客服"]
    for item in data:
        text = text.replace(item, "")
    return [line for line in text.splitlines() if CJK.search(line)]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(("width", "height"), SIZES)
def test_the_notifications_are_summarised_on_every_screen(open_page, company, width, height, language):
    page = open_page(language, width=width, height=height)
    errors = watch_console(page)
    sign_in(page, company["supervisor"].username)
    page.wait_for_url("**/console/")
    page.goto("/console/notifications/")
    title = page.inner_text(".notice-group summary .notice-title")
    assert title == ("今天 8 次 SLA 超时" if language == "zh-hans" else "8 SLA breaches today")
    assert page.locator(".notice-tickets li").count() == 8
    assert main_overflow(page) == []
    assert overflow(page) <= 0  # the whole page too, top bar included (the shell folds it)
    assert errors == []
    shoot(page, f"homes-notifications-{width}-{language}")
    page.click(".notice-foot button[type=submit]")
    page.wait_for_selector(".empty-state")
    assert not SlaNotification.objects.filter(read_at__isnull=True).exists()
