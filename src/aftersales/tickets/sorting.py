"""Sort orders of the ticket list, each keyset-paged on (key, id) so every page costs the same."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from dataclasses import dataclass

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aftersales.core.errors import ValidationFailed

from .models import Priority, Ticket

SORT_NEWEST = "newest"
SORT_OLDEST = "oldest"
SORT_UPDATED = "updated"
SORT_PRIORITY = "priority"
SORT_LABELS = {
    SORT_NEWEST: gettext_lazy("Newest first"),
    SORT_OLDEST: gettext_lazy("Oldest first"),
    SORT_UPDATED: gettext_lazy("Recently updated"),
    SORT_PRIORITY: gettext_lazy("Most urgent first"),
}
SORTS = tuple(SORT_LABELS)
PRIORITY_RANK = {Priority.URGENT: 0, Priority.HIGH: 1, Priority.NORMAL: 2, Priority.LOW: 3}


@dataclass(frozen=True)
class SortKey:
    """How one sort order reads: the ordering, and the key the next page starts after."""

    name: str

    def annotate(self, qs: QuerySet[Ticket]) -> QuerySet[Ticket]:
        if self.name == SORT_PRIORITY:
            return qs.annotate(
                priority_rank=Case(
                    *(When(priority=value, then=Value(rank)) for value, rank in PRIORITY_RANK.items()),
                    default=Value(9),
                    output_field=IntegerField(),
                )
            )
        return qs

    def order(self) -> list[str]:
        return {
            SORT_NEWEST: ["-id"],
            SORT_OLDEST: ["id"],
            SORT_UPDATED: ["-updated_at", "-id"],
            SORT_PRIORITY: ["priority_rank", "-id"],
        }[self.name]

    def after(self, cursor: str) -> Q:
        key, last_id = _decode(cursor, self.name)
        if self.name == SORT_NEWEST:
            return Q(id__lt=last_id)
        if self.name == SORT_OLDEST:
            return Q(id__gt=last_id)
        if self.name == SORT_UPDATED:
            try:
                when = dt.datetime.fromtimestamp(int(key or "x") / 1_000_000, dt.UTC)
            except (ValueError, OverflowError, OSError) as exc:
                raise ValidationFailed(details={"cursor": _("Not a cursor this server issued.")}) from exc
            return Q(updated_at__lt=when) | Q(updated_at=when, id__lt=last_id)
        rank = int(key or "9")
        return Q(priority_rank__gt=rank) | Q(priority_rank=rank, id__lt=last_id)

    def cursor_for(self, ticket: Ticket) -> str:
        if self.name == SORT_UPDATED:
            key = str(int(ticket.updated_at.timestamp() * 1_000_000))
        elif self.name == SORT_PRIORITY:
            key = str(PRIORITY_RANK.get(ticket.priority, 9))  # type: ignore[call-overload]
        else:
            key = ""
        text = f"{self.name}:{key}:{ticket.pk}"
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decode(cursor: str, name: str) -> tuple[str, int]:
    try:
        text = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode("ascii")).decode("ascii")
        sort, key, last_id = text.split(":")
        if sort != name or int(last_id) < 0 or (key and not key.lstrip("-").isdigit()):
            raise ValueError(text)
        return key, int(last_id)
    except (ValueError, UnicodeError, binascii.Error) as exc:
        raise ValidationFailed(details={"cursor": _("Not a cursor this server issued.")}) from exc


def sort_key(name: str | None) -> SortKey:
    return SortKey(name if name in SORTS else SORT_NEWEST)


def sorted_page(
    qs: QuerySet[Ticket], *, sort: str | None, cursor: str | None, limit: int
) -> tuple[list[Ticket], str | None]:
    """One page of ``qs`` in the given order, and the cursor of the next (``None`` at the end)."""
    key = sort_key(sort)
    qs = key.annotate(qs)
    if cursor:
        qs = qs.filter(key.after(cursor))
    rows = list(qs.order_by(*key.order())[: limit + 1])
    page = rows[:limit]
    return page, (key.cursor_for(page[-1]) if len(rows) > limit else None)
