"""Checks on text coming from outside: no NUL bytes, no lone surrogates, no control characters.

PostgreSQL refuses NUL in text and psycopg cannot encode a lone surrogate, so such input must be
refused as a validation error before it reaches the database.
"""

from __future__ import annotations

import unicodedata

_ALLOWED_CONTROL = {"\n", "\r", "\t"}


def text_problem(value: str) -> str | None:
    for char in value:
        if char in _ALLOWED_CONTROL:
            continue
        category = unicodedata.category(char)
        if category == "Cs":
            return "lone surrogate"
        if category == "Cc":
            return "control character"
    return None


def clean_text(value: str) -> str:
    problem = text_problem(value)
    if problem:
        raise ValueError(f"text contains a {problem}")
    return value
