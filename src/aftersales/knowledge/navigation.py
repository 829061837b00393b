"""The knowledge base in the menus: the editor for those who write articles (the editor refuses
anybody else), the help centre in the reader's language for customers."""

from __future__ import annotations

from typing import Any

from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from aftersales.core.roles import Capability
from aftersales.shell import nav


def _help_locale(user: Any) -> dict[str, Any]:
    from .bot import normalize_locale

    return {"locale": normalize_locale(get_language())}


def register_navigation() -> None:
    nav.register(
        nav.NavEntry(
            key="kb",
            area=nav.CONSOLE,
            label=_("Knowledge base"),
            url_name="knowledge:editor-home",
            order=40,
            capability=Capability.KB_EDIT,
        )
    )
    nav.register(
        nav.NavEntry(
            key="help",
            area=nav.PORTAL,
            label=_("Help centre"),
            url_name="knowledge:help-home",
            order=30,
            url_kwargs=_help_locale,
        )
    )
    nav.register(
        nav.NavEntry(
            key="ask",
            area=nav.PORTAL,
            label=_("Ask us"),
            url_name="knowledge:bot-page",
            order=35,
            url_kwargs=_help_locale,
        )
    )
