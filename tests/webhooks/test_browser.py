"""In Debian's Chromium: an administrator reads the delivery log and retries a failed delivery,
which a real local HTTP server then accepts. Screenshots in both languages."""

from __future__ import annotations

import pytest

from aftersales.channels.webhooks.models import InboundDelivery, WebhookDelivery
from aftersales.channels.webhooks.services import webhook_delivery_attempt
from aftersales.core.roles import Role
from aftersales.tickets.services import ticket_open
from tests.browser_support import shoot, sign_in
from tests.factories import CustomerFactory, UserFactory

from .factories import InboundSourceFactory, WebhookEndpointFactory
from .receiver import Receiver

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_admin_reads_the_delivery_log_and_retries_a_failed_delivery(open_page, transactional_db, language):  # noqa: F811
    receiver = Receiver(answer=lambda n: 500 if n < 2 else 200).start()
    try:
        admin = UserFactory(role=Role.ADMIN, is_staff=True, is_superuser=True, display_name="管理员")
        WebhookEndpointFactory(name="金蝶云 ERP", url=receiver.url)
        WebhookEndpointFactory(
            name="企业微信通知", url=receiver.url, event_types=["ticket.opened"], is_active=False
        )
        for subject in ("热水器不加热", "马桶漏水"):
            ticket_open(actor=admin, customer=CustomerFactory(), subject=subject)
        failing = WebhookDelivery.objects.order_by("id").first()
        webhook_delivery_attempt(delivery_id=failing.pk)  # the receiver answers 500
        WebhookDelivery.objects.filter(pk=failing.pk).update(status="failed", next_attempt_at=None)
        other = WebhookDelivery.objects.exclude(pk=failing.pk).order_by("id").first()
        webhook_delivery_attempt(delivery_id=other.pk)  # 500 again: pending, retried later
        source = InboundSourceFactory(name="微信服务号", key="wechat-main")
        InboundDelivery.objects.create(
            source=source,
            source_key=source.key,
            event_id="evt-9",
            status="refused",
            reason="signature_invalid",
            http_status=401,
        )

        page = open_page(language)
        sign_in(page, admin.username)
        page.wait_for_url("**/console/")
        page.click("nav.mainnav a[href='/webhooks/']")
        page.wait_for_selector("#deliveries")
        text = page.text_content("main")
        assert "金蝶云 ERP" in text and "HTTP 500" in text and "signature_invalid" in text
        assert ("Failed" if language == "en" else "失败") in text
        shoot(page, f"webhooks-delivery-log-{language}")

        with page.expect_navigation():
            page.click(f"form[action='/webhooks/deliveries/{failing.pk}/retry/'] button")
        assert page.locator(".flash-success").count() == 1
        failing.refresh_from_db()
        assert failing.status == "pending"
        assert webhook_delivery_attempt(delivery_id=failing.pk) == "delivered"
        page.reload()
        assert page.locator("tr.wh-delivered").count() == 1
        assert [r.answered for r in receiver.requests] == [500, 500, 200]
    finally:
        receiver.stop()
