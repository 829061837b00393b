"""Reads of the mail channel, scoped to who may see them (the quarantine is for administrators)."""

from __future__ import annotations

from django.db.models import QuerySet

from aftersales.core.errors import NotFound, PermissionDenied
from aftersales.core.models import User
from aftersales.core.paging import keyset_page
from aftersales.core.roles import Capability

from .models import InboundEmail, InboundStatus


def may_manage_mail(user: User) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.can(Capability.CONFIGURE)


def _require(user: User) -> None:
    if not may_manage_mail(user):
        raise PermissionDenied()


def inbound_list_for_admin(
    *, user: User, status: str = InboundStatus.QUARANTINED, cursor: str | None = None, limit: int = 50
) -> tuple[list[InboundEmail], str | None]:
    _require(user)
    queryset: QuerySet[InboundEmail] = InboundEmail.objects.select_related("mailbox", "ticket")
    if status:
        queryset = queryset.filter(status=status)
    return keyset_page(queryset, cursor=cursor, limit=limit)


def inbound_get_for_admin(*, user: User, inbound_id: int) -> InboundEmail:
    _require(user)
    found = InboundEmail.objects.select_related("mailbox", "ticket").filter(pk=inbound_id).first()
    if found is None:
        raise NotFound()
    return found
