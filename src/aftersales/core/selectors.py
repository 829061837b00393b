"""Reads of the core app."""

from __future__ import annotations

from django.db import models

from .errors import PermissionDenied
from .models import AuditEvent, User
from .roles import Capability


def audit_events_for(*, obj: models.Model, user: User, limit: int = 200) -> list[AuditEvent]:
    """The audit trail of one object, newest first, for users who may read the audit log."""
    if not user.can(Capability.AUDIT_VIEW):
        raise PermissionDenied()
    return list(
        AuditEvent.objects.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk))
        .select_related("actor")
        .order_by("-occurred_at", "-id")[:limit]
    )
