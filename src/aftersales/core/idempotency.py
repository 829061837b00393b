"""Replaying the answer to a retried request that carries an ``Idempotency-Key``."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from .errors import ApplicationError, ValidationFailed
from .models import IdempotencyRecord, User

MAX_KEY_LENGTH = 200


class IdempotencyKeyReused(ApplicationError):
    code = "idempotency_key_reused"
    status = 422


def request_fingerprint(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def run_idempotent(
    *, user: User, scope: str, key: str, fingerprint: str, produce: Callable[[], tuple[int, Any]]
) -> tuple[int, Any, bool]:
    """Run ``produce`` once per (user, scope, key); a retry gets the first answer again.

    Returns ``(status, body, replayed)``. ``produce`` runs in the same transaction as the record
    of its answer, so a crash leaves neither; two concurrent retries race on the unique key and
    the loser's work is rolled back before it replays the winner's answer.
    """
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ValidationFailed(details={"Idempotency-Key": _("Use 1 to 200 printable characters.")})

    def replay(record: IdempotencyRecord) -> tuple[int, Any, bool]:
        if record.request_hash != fingerprint:
            raise IdempotencyKeyReused(
                _("This Idempotency-Key was already used for a different request."), details={"key": key}
            )
        return record.response_status, record.response_body, True

    existing = IdempotencyRecord.objects.filter(user=user, scope=scope, key=key).first()
    if existing is not None:
        return replay(existing)
    try:
        with transaction.atomic():
            status, body = produce()
            IdempotencyRecord.objects.create(
                user=user,
                scope=scope,
                key=key,
                request_hash=fingerprint,
                response_status=status,
                response_body=body,
            )
    except IntegrityError:
        record = IdempotencyRecord.objects.filter(user=user, scope=scope, key=key).first()
        if record is None:
            raise
        return replay(record)
    return status, body, False
