"""The webhook delivery log in the console's menu, for those who configure the platform."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from aftersales.core.roles import Capability
from aftersales.shell import nav


def register_navigation() -> None:
    nav.register(
        nav.NavEntry(
            key="webhooks",
            area=nav.CONSOLE,
            label=_("Webhooks"),
            url_name="webhooks:log",
            order=88,
            capability=Capability.CONFIGURE,
        )
    )
