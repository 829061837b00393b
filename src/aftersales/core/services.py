"""Writes of the core app: audit records, API tokens, numbers."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.db import connection, models, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .errors import NotAuthenticated, NotFound, ValidationFailed
from .models import ApiToken, AuditEvent, IdempotencyRecord, NumberSequence, User, hash_token

TOKEN_PREFIX = "as_"  # noqa: S105 - a public prefix that makes leaked tokens easy to spot


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_json_safe(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, models.Model):
        return value.pk
    return str(value)


def audit_record(
    *,
    actor: User | None,
    obj: models.Model,
    action: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    return AuditEvent.objects.create(
        occurred_at=timezone.now(),
        actor=actor if actor is not None and actor.pk else None,
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        object_label=str(obj)[:200],
        before=_json_safe(before or {}),
        after=_json_safe(after or {}),
    )


def changed_fields(obj: models.Model, changes: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split requested changes into (before, after) for the fields whose value really changes."""
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for field, new_value in changes.items():
        old_value = getattr(obj, field)
        if old_value != new_value:
            before[field] = old_value
            after[field] = new_value
    return before, after


@transaction.atomic
def api_token_create(
    *, user: User, name: str = "", actor: User | None = None, expires_at: dt.datetime | None = None
) -> tuple[ApiToken, str]:
    """Create a token and return it with its secret, which is never stored and shown only now.

    ``expires_at`` None makes a token that lasts until it is revoked."""
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationFailed(
            _("The expiry must be in the future."), details={"expires_at": str(expires_at)}
        )
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name, prefix=raw[:10], key_hash=hash_token(raw), expires_at=expires_at
    )
    audit_record(
        actor=actor,
        obj=token,
        action="api_token.create",
        after={"user": user.username, "name": name, "expires_at": expires_at},
    )
    return token, raw


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor: User | None) -> None:
    updated = ApiToken.objects.filter(pk=token.pk, is_active=True).update(is_active=False)
    if updated != 1:
        raise NotFound()
    audit_record(
        actor=actor,
        obj=token,
        action="api_token.revoke",
        before={"is_active": True},
        after={"is_active": False},
    )


def api_token_authenticate(*, raw: str) -> User:
    """Resolve a bearer token to its user. Touches ``last_used_at`` at most once a minute."""
    if not raw or len(raw) > 200:
        raise NotAuthenticated()
    token = ApiToken.objects.select_related("user").filter(key_hash=hash_token(raw), is_active=True).first()
    now = timezone.now()
    if token is None or not token.user.is_active:
        raise NotAuthenticated()
    if token.expires_at is not None and token.expires_at <= now:
        raise NotAuthenticated(_("This API token has expired."), code="token_expired")
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def next_number(*, sequence: str) -> int:
    """The next value of a named counter, safe under concurrent writers.

    PostgreSQL uses a native sequence (no lock held until commit, so ticket creation does not
    serialise); SQLite has one writer at a time anyway and uses a counter row.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval(%s)", [f"aftersales_{sequence}_seq"])
            return int(cursor.fetchone()[0])
    with transaction.atomic():
        updated = NumberSequence.objects.filter(name=sequence).update(value=F("value") + 1)
        if not updated:
            NumberSequence.objects.create(name=sequence, value=1)
        return int(NumberSequence.objects.get(name=sequence).value)


def sequence_advance_to(*, sequence: str, value: int) -> None:
    """Make the counter continue after ``value`` (after bulk loads that number rows themselves)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT setval(%s, GREATEST(%s, 1))", [f"aftersales_{sequence}_seq", value])
        return
    NumberSequence.objects.update_or_create(name=sequence, defaults={"value": value})


def purge_in_batches(queryset: models.QuerySet[Any], *, batch: int = 5000) -> int:
    """Delete what ``queryset`` selects in chunks of ``batch`` rows (short locks, bounded memory);
    housekeeping of logs and caches, safe to run twice."""
    removed = 0
    while True:
        ids = list(queryset.values_list("pk", flat=True)[:batch])
        if not ids:
            return removed
        removed += queryset.model._default_manager.filter(pk__in=ids).delete()[0]


def idempotency_records_purge(*, max_age_hours: int = 48, batch: int = 5000) -> int:
    """Delete idempotency records older than ``max_age_hours`` in chunks; safe to run twice."""
    cutoff = timezone.now() - dt.timedelta(hours=max_age_hours)
    return purge_in_batches(IdempotencyRecord.objects.filter(created_at__lt=cutoff), batch=batch)


# --------------------------------------------------------------------------- teams


def require_settings_edit(actor: User | None) -> None:
    from .errors import PermissionDenied
    from .roles import Capability

    if actor is not None and not actor.can(Capability.SETTINGS_EDIT):
        raise PermissionDenied()


@transaction.atomic
def team_member_add(*, team: Any, user: User, actor: User | None) -> bool:
    """Put ``user`` (a member of staff) in ``team``; False when it was a member already."""
    require_settings_edit(actor)
    if not user.is_active or not user.is_staff_member:
        raise ValidationFailed(
            _("Only active members of staff can join a team."), details={"user": str(user.pk)}
        )
    if team.members.filter(pk=user.pk).exists():
        return False
    team.members.add(user)
    audit_record(actor=actor, obj=team, action="team.member_add", after={"user": user.pk, "name": str(user)})
    return True


@transaction.atomic
def team_member_remove(*, team: Any, user: User, actor: User | None) -> bool:
    """Take ``user`` out of ``team`` (its lead stays lead only while a member); False if absent."""
    require_settings_edit(actor)
    if not team.members.filter(pk=user.pk).exists():
        return False
    if team.lead_id == user.pk:
        raise ValidationFailed(
            _("The team lead cannot leave the team; choose another lead first."),
            details={"user": str(user.pk)},
        )
    team.members.remove(user)
    audit_record(
        actor=actor, obj=team, action="team.member_remove", before={"user": user.pk, "name": str(user)}
    )
    return True
