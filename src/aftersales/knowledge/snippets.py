"""Highlighted snippets of search hits: ~160 characters around the densest run of matches."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

from . import text

SNIPPET_CHARS = 160


def _highlighter(words: Iterable[str], prefixes: Iterable[str]) -> re.Pattern[str] | None:
    parts: list[str] = []
    for word in sorted(set(words) | set(prefixes), key=len, reverse=True):
        if not word:
            continue
        if text.is_cjk_term(word):
            parts.append(re.escape(word))
        elif word.isdigit():
            parts.append(rf"(?<![0-9]){re.escape(word)}(?![0-9])")
        elif text.is_latin_term(word):
            parts.append(rf"(?<![a-z0-9]){re.escape(word)}[a-z]*")
        elif len(word) >= 2:
            parts.append(rf"(?<![a-z0-9]){re.escape(word)}(?![a-z0-9])")
    if not parts:
        return None
    return re.compile("|".join(parts), re.IGNORECASE)


def make_snippet(
    source: str,
    words: Iterable[str],
    prefixes: Iterable[str] = (),
    *,
    width: int = SNIPPET_CHARS,
    fallback: str = "",
) -> str:
    """~``width`` characters of ``source`` around its best run of matches, HTML-escaped, with
    ``<mark>`` around each match. Works on Chinese (no spaces needed) and English alike."""
    flat = re.sub(r"\s+", " ", source or "").strip()
    pattern = _highlighter(words, prefixes)
    matches = [(m.start(), m.end()) for m in pattern.finditer(text.normalize(flat))] if pattern else []
    if not matches:
        if fallback and pattern is not None and pattern.search(text.normalize(fallback)):
            return make_snippet(fallback, words, prefixes, width=width)
        base = flat or (fallback or "")
        cut = base[:width]
        return html.escape(cut) + ("…" if len(base) > width else "")
    best_start, best_score = 0, -1
    for start, _end in matches:
        window_start = max(0, start - width // 4)
        window_end = window_start + width
        inside = {flat[s:e].lower() for s, e in matches if s >= window_start and e <= window_end}
        score = len(inside) * 10 + sum(1 for s, e in matches if s >= window_start and e <= window_end)
        if score > best_score:
            best_start, best_score = window_start, score
    start, end = best_start, min(len(flat), best_start + width)
    if start > 0:  # do not start in the middle of an English word
        space = flat.find(" ", start, start + 15)
        if space != -1 and flat[start - 1 : start].isalnum():
            start = space + 1
    if end < len(flat) and flat[end - 1 : end].isalnum() and flat[end : end + 1].isalnum():
        space = flat.rfind(" ", end - 15, end)
        if space > start:
            end = space
    pieces = ["…" if start > 0 else ""]
    cursor = start
    for match_start, match_end in matches:
        if match_start < cursor or match_end > end:
            continue
        pieces += [
            html.escape(flat[cursor:match_start]),
            "<mark>",
            html.escape(flat[match_start:match_end]),
            "</mark>",
        ]
        cursor = match_end
    pieces += [html.escape(flat[cursor:end]), "…" if end < len(flat) else ""]
    return "".join(pieces)
