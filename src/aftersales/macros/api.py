"""REST endpoints for canned replies: the ones a person may use (with the filled text for a
ticket) and applying one to a ticket."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Path, Query, Router, Schema
from pydantic import Field

from aftersales.core.api_schemas import (
    ERROR_RESPONSES,
    NonEmptyText20,
    StrictSchema,
    Text32,
    Text100,
    Text5000,
)
from aftersales.core.errors import PermissionDenied
from aftersales.core.models import User
from aftersales.core.paging import decode_cursor, encode_cursor
from aftersales.shell.views import api_user
from aftersales.tickets.selectors import ticket_get_for_user

from . import services
from .models import Macro
from .selectors import macro_get_usable, macro_list_for_user, macro_preview, may_write_personal_macros

router = Router(tags=["canned replies"])
ERRORS = ERROR_RESPONSES


class MacroOut(Schema):
    id: int
    name: str
    scope: str
    team_id: int | None
    body_zh: str
    body_en: str
    message_kind: str
    set_priority: str
    add_tags: list[str]
    set_team_id: int | None
    set_assignee_id: int | None
    set_status: str
    usage_count: int
    # With ``?ticket=``: the reply filled for that ticket, in its customer's language.
    preview: str | None = None
    preview_language: str | None = None


class MacroPageOut(Schema):
    items: list[MacroOut]
    next_cursor: str | None


class MacroApplyIn(StrictSchema):
    ticket: NonEmptyText20
    version: int | None = Field(default=None, ge=1, lt=2**31)
    # The reply as the agent edited it; without it the macro's own text is sent.
    body: Text5000 | None = None


class MacroAppliedOut(Schema):
    ticket: str
    version: int
    status: str
    priority: str
    team_id: int | None
    assignee_id: int | None
    tags: list[str]
    message_id: int | None
    changed: list[str]
    usage_count: int


def _macro_user(request: HttpRequest) -> User:
    user = api_user(request)
    if not may_write_personal_macros(user):
        raise PermissionDenied()
    return user


def macro_out(macro: Macro, preview: Any = None) -> dict[str, Any]:
    return {
        "id": macro.pk,
        "name": macro.name,
        "scope": macro.scope,
        "team_id": macro.team_id,
        "body_zh": macro.body_zh,
        "body_en": macro.body_en,
        "message_kind": macro.message_kind,
        "set_priority": macro.set_priority,
        "add_tags": list(macro.add_tags),
        "set_team_id": macro.set_team_id,
        "set_assignee_id": macro.set_assignee_id,
        "set_status": macro.set_status,
        "usage_count": macro.usage_count,
        "preview": preview.body if preview is not None else None,
        "preview_language": preview.language if preview is not None else None,
    }


@router.get("", response={200: MacroPageOut, **ERRORS}, summary="Canned replies I may use")
def list_macros(
    request: HttpRequest,
    q: Text100 = "",
    ticket: Text32 | None = None,
    cursor: Text100 | None = None,
    limit: int = Query(50, ge=1, le=100),
) -> Any:
    user = _macro_user(request)
    target = ticket_get_for_user(number=ticket, user=user) if ticket else None
    after_id = decode_cursor(cursor) if cursor else None
    page, next_id = macro_list_for_user(user=user, q=q, after_id=after_id, limit=limit)
    items = [
        macro_out(macro, macro_preview(macro=macro, ticket=target, actor=user) if target else None)
        for macro in page
    ]
    return {"items": items, "next_cursor": encode_cursor(next_id) if next_id else None}


@router.post(
    "/{macro_id}/apply", response={200: MacroAppliedOut, **ERRORS}, summary="Apply a canned reply to a ticket"
)
def apply_macro(
    request: HttpRequest, payload: MacroApplyIn, macro_id: int = Path(..., gt=0, lt=2**62)
) -> Any:
    user = _macro_user(request)
    macro = macro_get_usable(user=user, macro_id=macro_id)
    ticket = ticket_get_for_user(number=payload.ticket, user=user)
    applied = services.macro_apply(
        macro=macro, ticket=ticket, actor=user, expected_version=payload.version, body=payload.body
    )
    result = applied.ticket
    return {
        "ticket": result.number,
        "version": result.version,
        "status": result.status,
        "priority": result.priority,
        "team_id": result.team_id,
        "assignee_id": result.assignee_id,
        "tags": sorted(tag.name for tag in result.tags.all()),
        "message_id": applied.message.pk if applied.message else None,
        "changed": applied.changed,
        "usage_count": macro.usage_count,
    }
