"""The mail quarantine in the console's menu, with the number of quarantined messages."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from aftersales.shell import nav


def _may_manage(user: Any) -> bool:
    from .selectors import may_manage_mail

    return may_manage_mail(user)


def _quarantined(user: Any) -> int:
    from .models import InboundEmail, InboundStatus

    return InboundEmail.objects.filter(status=InboundStatus.QUARANTINED).count()


def register_navigation() -> None:
    nav.register(
        nav.NavEntry(
            key="mail",
            area=nav.CONSOLE,
            label=_("Mail quarantine"),
            url_name="mail:quarantine",
            order=85,
            visible=_may_manage,
            badge=_quarantined,
        )
    )
