"""Keyset paging: opaque cursors over ``-id``, so every page costs the same."""

from __future__ import annotations

import base64
import binascii
from typing import TypeVar

from django.db.models import Model, QuerySet

from .errors import ValidationFailed

ModelT = TypeVar("ModelT", bound=Model)


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        text = base64.urlsafe_b64decode(padded.encode("ascii")).decode("ascii")
        prefix, _, value = text.partition(":")
        if prefix != "id":
            raise ValueError(prefix)
        last_id = int(value)
        if last_id < 0:
            raise ValueError(value)
        return last_id
    except (ValueError, UnicodeError, binascii.Error) as exc:
        raise ValidationFailed(details={"cursor": "not a cursor this server issued"}) from exc


def keyset_page(
    queryset: QuerySet[ModelT], *, cursor: str | None, limit: int
) -> tuple[list[ModelT], str | None]:
    """One page of ``queryset`` newest first, and the cursor of the next page (``None`` at the end)."""
    if cursor:
        queryset = queryset.filter(id__lt=decode_cursor(cursor))
    rows = list(queryset.order_by("-id")[: limit + 1])
    page = rows[:limit]
    return page, (encode_cursor(page[-1].pk) if len(rows) > limit else None)
