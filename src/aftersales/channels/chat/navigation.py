"""The chat console in the console's menu, for those who may take chats (the view's own rule)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from aftersales.shell import nav


def _may_take_chats(user: Any) -> bool:
    from .services import may_take_chats

    return may_take_chats(user)


def register_navigation() -> None:
    nav.register(
        nav.NavEntry(
            key="chat",
            area=nav.CONSOLE,
            label=_("Chat"),
            url_name="chat:console",
            order=30,
            visible=_may_take_chats,
        )
    )
