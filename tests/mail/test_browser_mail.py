"""The quarantine page (ignored mail can be imported again) and the warnings on a ticket's thread,
in Debian's Chromium at 390 and 1440 px. Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import os

import pytest
from django.utils import translation

from aftersales.channels.mail.services import inbound_ingest
from aftersales.core.roles import Role
from tests.browser_support import shoot, sign_in
from tests.factories import UserFactory
from tests.mail.test_intake import mail
from tests.mail.test_real_mail import multipart_with

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.mark.parametrize("width", [390, 1440])
def test_ignored_mail_and_thread_warnings_in_the_browser(transactional_db, open_page, settings, width):
    settings.AFTERSALES_MAIL_AUTHSERV_ID = "mx.lanquan.cn"
    admin = UserFactory(role=Role.ADMIN, is_staff=True, is_superuser=True)
    inbound_ingest(
        raw=mail(subject="您的来信已收到", headers="Auto-Submitted: auto-replied", message_id="i@x")
    )
    forged = "Authentication-Results: mx.lanquan.cn; spf=fail smtp.mailfrom=example.com; dmarc=fail"
    ticket = inbound_ingest(
        raw=multipart_with([("setup.exe", "application/x-msdownload", b"MZ" + b"\0" * 60)])
    ).ticket
    # A worker or an earlier request may have left English active: the stored warning is still
    # written in the site's language, which is what the agents read.
    with translation.override("en"):
        forged_ticket = inbound_ingest(
            raw=mail(message_id="f@x", headers=forged, subject="请把退款打到新账户")
        ).ticket

    page = open_page("zh-hans", width=width)
    sign_in(page, admin.username, wait=True)
    page.goto("/mail/quarantine/?status=ignored")
    assert page.locator("button", has_text="重新导入").count() == 1
    shoot(page, f"mail-quarantine-ignored-{width}")

    page.goto(f"/console/tickets/{ticket.number}/")
    assert "setup.exe" in page.content()
    shoot(page, f"mail-ticket-refused-file-{width}")
    page.goto(f"/console/tickets/{forged_ticket.number}/")
    assert "警告" in page.content()
    shoot(page, f"mail-ticket-unverified-{width}")
