"""Reading the in-app SLA notices: a supervisor marks them read."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from aftersales.core.models import User
from aftersales.core.services import audit_record

from .models import SlaNotification


@transaction.atomic
def sla_notifications_mark_read(*, user: User, notification_ids: Iterable[int] | None = None) -> int:
    """Mark the user's unread notices read (all of them, or the given ones); others' are untouched."""
    qs = SlaNotification.objects.filter(user=user, read_at__isnull=True)
    if notification_ids is not None:
        qs = qs.filter(pk__in=list(notification_ids))
    marked = qs.update(read_at=timezone.now())
    if marked:
        audit_record(actor=user, obj=user, action="sla.notifications.read", after={"count": marked})
    return marked


def sla_unread_count(*, user: User) -> int:
    return SlaNotification.objects.filter(user=user, read_at__isnull=True).count()
