"""Small display helpers for the web templates."""

from __future__ import annotations

from typing import Any

from django import template

from ..selectors import can_see_admin as _can_see_admin

register = template.Library()


@register.filter
def can_see_admin(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and _can_see_admin(user)


@register.filter
def filesize(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


@register.filter
def get_item(mapping: Any, key: str) -> Any:
    """``mapping[key]`` for templates, ``None`` when absent (audit before/after values)."""
    return mapping.get(key) if isinstance(mapping, dict) else None
