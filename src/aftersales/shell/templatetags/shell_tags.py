"""The shell's template tags: the registered menus, assets and icons (docs/console-shell.md)."""

from __future__ import annotations

from typing import Any

from django import template
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from .. import nav

register = template.Library()

# Where the brand in the top bar leads: the role's home (the web app routes it).
HOME_URL_NAME = "web:home"


def _menu(context: Any, area: str) -> list[nav.NavItem]:
    """One menu per request and area (the badge counts are queries: computed once)."""
    request = context.get("request")
    cache: dict[tuple[str, str], list[nav.NavItem]] = {}
    if request is not None:
        cache = getattr(request, "_shell_menus", None) or {}
        request._shell_menus = cache
    current = str(context.get("nav") or "")
    key = (area, current)
    if key not in cache:
        cache[key] = nav.menu(area, context.get("user"), current=current)
    return cache[key]


@register.inclusion_tag("shell/_nav.html", takes_context=True)
def shell_nav(context: Any, area: str) -> dict[str, Any]:
    """``{% shell_nav "console" %}``: the entries of ``area`` the signed-in user may open."""
    return {"items": _menu(context, area)}


@register.simple_tag(takes_context=True)
def shell_nav_badge(context: Any, area: str) -> int:
    """The sum of the menu's badges (shown on the collapsed menu button on a phone)."""
    return sum(item.badge for item in _menu(context, area))


@register.simple_tag
def shell_home_url() -> str:
    return reverse(HOME_URL_NAME)


@register.simple_tag
def shell_stylesheets() -> SafeString:
    return format_html_join(
        "\n  ", '<link rel="stylesheet" href="{}">', ((static(path),) for path in nav.stylesheets())
    )


@register.simple_tag
def shell_scripts() -> SafeString:
    return format_html_join(
        "\n  ", '<script src="{}" defer></script>', ((static(path),) for path in nav.scripts())
    )


@register.filter
def tel_uri(number: Any) -> str:
    """``<a href="{{ phone|tel_uri }}">``: a tap-to-call link; keeps the digits and a leading +
    ("138-0013 8000" → "tel:13800138000"); empty when there is nothing to call."""
    text = str(number or "").strip()
    digits = "".join(ch for ch in text if ch.isdigit())
    if not digits:
        return ""
    return "tel:" + ("+" if text.startswith("+") else "") + digits


# Icons as inline SVG: emoji such as 📎 have no glyph in the CJK fonts the desks use (an empty box).
_ICONS = {
    "menu": '<path d="M3 6h18M3 12h18M3 18h18"/>',
    "paperclip": (
        '<path d="M21.4 11.1l-8.5 8.5a5.5 5.5 0 0 1-7.8-7.8l8.5-8.5a3.7 3.7 0 0 1 5.2 5.2l-8.5 8.5'
        'a1.8 1.8 0 0 1-2.6-2.6l7.8-7.8"/>'
    ),
    "phone": (
        '<path d="M22 16.9v3a2 2 0 0 1-2.2 2 19.8 19.8 0 0 1-8.6-3.1 19.5 19.5 0 0 1-6-6A19.8 19.8 0 0 1'
        " 2.1 4.2 2 2 0 0 1 4.1 2h3a2 2 0 0 1 2 1.7c.1.9.4 1.8.7 2.7a2 2 0 0 1-.5 2.1L8 9.8a16 16 0 0 0"
        ' 6 6l1.3-1.3a2 2 0 0 1 2.1-.4c.9.3 1.8.6 2.7.7a2 2 0 0 1 1.7 2z"/>'
    ),
    "pin": '<path d="M12 22s7-6.1 7-12a7 7 0 0 0-14 0c0 5.9 7 12 7 12z"/><circle cx="12" cy="10" r="2.5"/>',
}


@register.simple_tag
def shell_icon(name: str, label: str = "") -> SafeString:
    """``{% shell_icon "paperclip" %}``: a 1em stroke icon in the text colour; with ``label`` it is
    announced, without it is decoration."""
    body = _ICONS.get(name)
    if body is None:
        return mark_safe("")  # noqa: S308 - nothing to render
    aria = format_html('role="img" aria-label="{}"', label) if label else mark_safe('aria-hidden="true"')  # noqa: S308
    return format_html(
        '<svg class="icon icon-{}" {} viewBox="0 0 24 24" width="16" height="16" fill="none" '
        'stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" '
        'focusable="false">{}</svg>',
        name,
        aria,
        mark_safe(body),  # noqa: S308 - the constant icon paths above
    )
