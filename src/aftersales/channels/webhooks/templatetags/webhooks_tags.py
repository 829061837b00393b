"""The console menu entry of the delivery log: ``{% load webhooks_tags %}{% webhooks_nav %}``."""

from __future__ import annotations

from typing import Any

from django import template

from aftersales.core.roles import Capability

register = template.Library()


@register.inclusion_tag("webhooks/_nav.html", takes_context=True)
def webhooks_nav(context: template.Context) -> dict[str, Any]:
    user = context.get("user")
    visible = bool(
        user is not None and getattr(user, "is_authenticated", False) and user.can(Capability.CONFIGURE)
    )
    return {"visible": visible, "active": context.get("nav") == "webhooks"}
