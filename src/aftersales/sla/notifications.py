"""Reading the in-app SLA notices: a supervisor marks them read."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.core.errors import ValidationFailed
from aftersales.core.models import User
from aftersales.core.services import audit_record

from .models import EscalationKind, SlaNotification
from .selectors import local_day_bounds


@transaction.atomic
def sla_notifications_mark_read(
    *,
    user: User,
    notification_ids: Iterable[int] | None = None,
    kind: str | None = None,
    day: dt.date | None = None,
) -> int:
    """Mark the user's unread notices read: all of them, the given ones, or one group of the
    summary (a kind, a day in the site's time zone, or both); others' notices are untouched."""
    if kind is not None and kind not in EscalationKind.values:
        raise ValidationFailed(details={"kind": _("Not a kind of notice.")})
    qs = SlaNotification.objects.filter(user=user, read_at__isnull=True)
    if notification_ids is not None:
        qs = qs.filter(pk__in=list(notification_ids))
    if kind is not None:
        qs = qs.filter(kind=kind)
    if day is not None:
        start, end = local_day_bounds(day)
        qs = qs.filter(created_at__gte=start, created_at__lt=end)
    marked = qs.update(read_at=timezone.now())
    if marked:
        after: dict[str, object] = {"count": marked}
        if kind is not None:
            after["kind"] = kind
        if day is not None:
            after["day"] = day.isoformat()
        audit_record(actor=user, obj=user, action="sla.notifications.read", after=after)
    return marked


def sla_unread_count(*, user: User) -> int:
    return SlaNotification.objects.filter(user=user, read_at__isnull=True).count()
