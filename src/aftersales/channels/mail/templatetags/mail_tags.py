"""``{% load mail_tags %}{% mail_nav_link %}``: the console menu's link to the mail quarantine."""

from __future__ import annotations

from typing import Any

from django import template

from ..models import InboundEmail, InboundStatus
from ..selectors import may_manage_mail

register = template.Library()


@register.inclusion_tag("mail/_nav_link.html", takes_context=True)
def mail_nav_link(context: dict[str, Any]) -> dict[str, Any]:
    user = context.get("user")
    visible = user is not None and may_manage_mail(user)
    count = InboundEmail.objects.filter(status=InboundStatus.QUARANTINED).count() if visible else 0
    return {"visible": visible, "count": count, "active": context.get("nav") == "mail"}
