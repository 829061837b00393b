"""Template helpers of the knowledge base: safe Markdown, and the panels other pages include.

The console ticket page and the portal's new-request form each include one panel with one line:
``{% load knowledge_tags %}{% kb_suggestions ticket %}`` and ``{% load knowledge_tags %}{% kb_portal_suggestions %}``.
"""

from __future__ import annotations

from typing import Any

import markdown as markdown_lib
import nh3
from django import template
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

_TAGS = set(nh3.ALLOWED_TAGS) - {"area", "map", "center", "acronym", "strike", "tt"}
_ATTRIBUTES: dict[str, set[str]] = {
    **{tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()},
    "a": {"href", "hreflang", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "code": {"class"},
    "th": {"align", "colspan", "rowspan", "scope"},
    "td": {"align", "colspan", "rowspan"},
}


def render_markdown(text: str) -> str:
    """Markdown → HTML, sanitised with nh3: no scripts, styles, event handlers or javascript: URLs."""
    html = markdown_lib.markdown(text or "", extensions=["extra", "sane_lists"], output_format="html")
    return nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "tel"},
        link_rel="noopener noreferrer nofollow",
    )


@register.filter(name="markdown")
def markdown_filter(text: str) -> SafeString:
    return mark_safe(render_markdown(text))  # noqa: S308 - sanitised by nh3 above


@register.filter
def snippet(html: str) -> SafeString:
    """A search snippet: the search escapes the text and adds only <mark>; nh3 keeps it that way."""
    return mark_safe(nh3.clean(html or "", tags={"mark"}, attributes={}))  # noqa: S308


@register.inclusion_tag("knowledge/console/_suggest_panel.html", takes_context=True)
def kb_suggestions(context: Any, ticket: Any) -> dict[str, Any]:
    """Suggested articles beside the reply form of a console ticket (loaded and refreshed by htmx)."""
    return {"ticket": ticket, "request": context.get("request")}


@register.inclusion_tag("knowledge/help/_portal_suggest_panel.html", takes_context=True)
def kb_portal_suggestions(context: Any) -> dict[str, Any]:
    """Matching help articles under the portal's new-request form, while the customer writes."""
    return {"request": context.get("request")}


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    return mapping.get(key) if isinstance(mapping, dict) else None
