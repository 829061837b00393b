"""The settings pages in Debian's Chromium, on a 390 px phone and a 1440 px desktop, in both
languages: nothing of the settings content runs off the screen, no untranslated text, no console
errors; screenshots in test-artifacts/ (settings-*.png)."""

from __future__ import annotations

import re

import pytest

from aftersales.core.calendar_models import BusinessCalendar
from aftersales.core.models import Team
from aftersales.core.roles import Role
from aftersales.sla.models import SlaPolicy
from tests.browser_support import CJK, shoot, sign_in
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

# Everything inside <main> that sticks out past the right edge of the viewport.
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  return Array.from(document.querySelectorAll('main *'))
    .filter(el => el.offsetParent !== null && el.getBoundingClientRect().right > width + 1)
    .map(el => el.tagName + '.' + el.className + ': ' + (el.textContent || '').trim().slice(0, 40));
}"""
ENGLISH_WORDS = re.compile(r"\b(Policy|Targets|Calendar|Working hours|Members|Settings|Save|Team)\b")


@pytest.fixture
def settings_world(transactional_db):
    from tests.conftest import install_shipped_configuration

    install_shipped_configuration()  # a transactional test before this one emptied the database
    supervisor = UserFactory(role=Role.SUPERVISOR, display_name="王主管", username="wang@example.com")
    team = Team.objects.create(
        code="repair-east", name="华东维修", name_en="Repair East", kind="repair_service", lead=supervisor
    )
    team.members.add(
        supervisor,
        UserFactory(role=Role.AGENT, display_name="李娜"),
        UserFactory(role=Role.TECHNICIAN, display_name="赵师傅"),
    )
    import datetime as dt

    from django.utils import timezone

    from aftersales.core.calendar_services import calendar_override_set

    calendar_override_set(
        calendar=BusinessCalendar.objects.get(code="standard"),
        date=timezone.localdate() + dt.timedelta(days=9),
        is_working=False,
        note="年会",
        actor=None,
    )
    return {
        "supervisor": supervisor,
        "team": team,
        "policy": SlaPolicy.objects.get(name="维修"),
        "calendar": BusinessCalendar.objects.get(code="standard"),
    }


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("width", [390, 1440])
def test_settings_pages_fit_the_screen_in_both_languages(open_page, settings_world, language, width):
    page = open_page(language, width=width, height=844 if width == 390 else 900)
    errors: list[str] = []
    page.on(
        "console",
        lambda message: (
            errors.append(message.text)
            if message.type == "error" and not message.text.startswith("Failed to load resource")
            else None
        ),
    )
    # Resources that fail (the favicon is the shell's, issue 11 item 8, not these pages').
    page.on(
        "response",
        lambda response: (
            errors.append(f"{response.status} {response.url}")
            if response.status >= 400 and not response.url.endswith("/favicon.ico")
            else None
        ),
    )
    sign_in(page, settings_world["supervisor"].username, wait=True)
    pages = {
        "index": "/console/settings/",
        "sla": "/console/settings/sla/",
        "policy": f"/console/settings/sla/{settings_world['policy'].pk}/",
        "calendar": f"/console/settings/calendars/{settings_world['calendar'].pk}/",
        "team": f"/console/settings/teams/{settings_world['team'].pk}/",
    }
    for name, path in pages.items():
        page.goto(path)
        page.wait_for_load_state()
        assert page.evaluate(OVERFLOW) == [], (name, width, language)
        text = page.locator("main").inner_text()
        if language == "en":
            assert not CJK.search(
                text.replace("维修", "")
                .replace("王主管", "")
                .replace("李娜", "")
                .replace("赵师傅", "")
                .replace("年会", "")
            ), name
        else:
            assert not ENGLISH_WORDS.search(text), (name, ENGLISH_WORDS.search(text))
        shoot(page, f"settings-{name}-{language}-{width}")
    assert errors == []

    # A bad duration is refused with a translated message, on the phone too.
    page.goto(pages["policy"])
    page.fill("input[name=resolution]", "很快" if language == "zh-hans" else "soon")
    page.click("main form button[type=submit]")
    expected = "请输入时长" if language == "zh-hans" else "Enter a duration"
    assert expected in page.locator("main").inner_text()
    shoot(page, f"settings-policy-error-{language}-{width}", full_page=False)
