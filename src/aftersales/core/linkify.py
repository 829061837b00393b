"""Clickable links in plain text (ticket messages), safely.

The text is escaped first; only then are ``http://`` and ``https://`` addresses found in the
escaped text and wrapped in ``<a>``. Nothing the writer typed can become markup: an address is
ASCII up to the first space, quote, angle bracket or non-ASCII character (Chinese text often runs
straight on after a link), trailing punctuation stays outside the link, and any other scheme
(``javascript:``, ``data:``, ``mailto:``) stays text. Links open in a new tab without a referrer
or a handle on this page, and tell search engines not to follow them.
"""

from __future__ import annotations

import re

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# On escaped text: an entity for a quote or angle bracket ends the address (escape() turns
# ' " < > into &#x27; &quot; &lt; &gt;); & itself is kept (as &amp;) for query strings.
_URL = re.compile(
    r"(?<![A-Za-z0-9/])https?://(?:(?!&(?:quot|lt|gt|#x27|#39);)[!-~])+",
    re.IGNORECASE,
)
_TRAILING = ".,;:!?*'"
_PAIRS = {")": "(", "]": "[", "}": "{"}


def _split_trailing(url: str) -> tuple[str, str]:
    """Punctuation after an address ends the sentence, not the address ("see https://x.cn/a.")."""
    tail = ""
    while url:
        last = url[-1]
        if url.endswith("&amp;"):
            url, tail = url[:-5], "&amp;" + tail
        elif last in _TRAILING or last in _PAIRS and url.count(_PAIRS[last]) < url.count(last):
            url, tail = url[:-1], last + tail
        else:
            break
    return url, tail


def linkify(text: str) -> SafeString:
    """``text`` escaped, with its http(s) addresses as links."""
    escaped = escape(text or "")

    def wrap(match: re.Match[str]) -> str:
        url, tail = _split_trailing(match.group(0))
        if not url.split("://", 1)[1]:
            return match.group(0)
        return f'<a href="{url}" rel="nofollow noopener noreferrer" target="_blank">{url}</a>{tail}'

    return mark_safe(_URL.sub(wrap, escaped))  # noqa: S308 - built from escaped text only
