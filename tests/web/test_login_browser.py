"""The sign-in pages in Chromium at phone and desktop widths: a lockout, and the code step."""

from __future__ import annotations

import pytest

from aftersales.core import totp
from aftersales.core.roles import Role
from aftersales.core.two_factor import totp_enrolment_confirm, totp_enrolment_start
from tests.browser_support import shoot
from tests.factories import PASSWORD, UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
]


@pytest.mark.parametrize("width", [390, 1440])
def test_the_lockout_message_and_the_code_step_fit_the_screen(open_page, width):
    locked = UserFactory(role=Role.AGENT)
    page = open_page("zh-hans", width=width)
    for attempt in range(5):
        page.goto("/login/")
        page.fill("input[name=username]", locked.username)
        page.fill("input[name=password]", f"guess-{attempt}")
        page.click("form button[type=submit]")
    alert = page.locator("[role=alert]")
    assert "登录失败次数过多" in alert.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    shoot(page, f"login-lockout-{width}")

    staff = UserFactory(role=Role.SUPERVISOR)
    device = totp_enrolment_start(user=staff)
    totp_enrolment_confirm(user=staff, code=totp.totp(device.secret))
    page = open_page("zh-hans", width=width)
    page.goto("/login/")
    page.fill("input[name=username]", staff.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url("**/login/code/")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    shoot(page, f"login-code-{width}")
    page.fill("input[name=code]", totp.totp(device.secret, totp.time.time() + 30))
    page.click("form button[type=submit]")
    page.wait_for_url("**/console/**")


@pytest.mark.parametrize("width", [390, 1440])
def test_the_enrolment_page_fits_the_screen(open_page, width):
    staff = UserFactory(role=Role.AGENT)
    totp_enrolment_start(user=staff)
    page = open_page("zh-hans", width=width)
    page.goto("/login/")
    page.fill("input[name=username]", staff.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url("**/console/**")
    page.goto("/account/two-step/")
    assert "otpauth://" in page.locator("a.otpauth").get_attribute("href")
    shoot(page, f"two-step-enrol-{width}")
    # The page's own content fits; the console's top bar is wider than a phone on every page.
    wide = page.evaluate(
        """(width) => [...document.querySelectorAll('main *')]
        .filter(e => e.getBoundingClientRect().right > width)
        .map(e => e.tagName + '.' + e.className).slice(0, 5)""",
        width,
    )
    assert wide == []
