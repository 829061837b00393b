"""Who am I, and the organisation an integrator needs ids from (teams, regions, staff)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from aftersales.core.api_schemas import ERROR_RESPONSES

from .errors import PermissionDenied
from .models import Region, Team, User
from .roles import ROLE_CAPABILITIES

router = Router(tags=["organisation"])


class MeOut(Schema):
    id: int
    username: str
    name: str
    role: str
    capabilities: list[str]


class TeamOut(Schema):
    id: int
    code: str
    name: str
    name_en: str
    kind: str
    lead_id: int | None
    member_ids: list[int]


class RegionOut(Schema):
    id: int
    code: str
    name: str
    name_en: str
    level: str
    parent_id: int | None


def _staff(request: HttpRequest) -> User:
    user: User = request.auth  # type: ignore[attr-defined]
    if not user.is_staff_member and not user.is_superuser:
        raise PermissionDenied()
    return user


@router.get("me", response={200: MeOut, **ERROR_RESPONSES}, summary="Who the token belongs to")
def me(request: HttpRequest) -> Any:
    user: User = request.auth  # type: ignore[attr-defined]
    return {
        "id": user.pk,
        "username": user.username,
        "name": str(user),
        "role": user.role,
        "capabilities": sorted(ROLE_CAPABILITIES.get(user.role, frozenset())),
    }


@router.get("teams", response={200: list[TeamOut], **ERROR_RESPONSES}, summary="Service teams (staff only)")
def teams(request: HttpRequest) -> Any:
    _staff(request)
    return [
        {
            "id": t.pk,
            "code": t.code,
            "name": t.name,
            "name_en": t.name_en,
            "kind": t.kind,
            "lead_id": t.lead_id,
            "member_ids": sorted(m.pk for m in t.members.all()),
        }
        for t in Team.objects.filter(is_active=True).prefetch_related("members").order_by("code")
    ]


@router.get(
    "regions", response={200: list[RegionOut], **ERROR_RESPONSES}, summary="The region tree (staff only)"
)
def regions(request: HttpRequest) -> Any:
    _staff(request)
    return [
        {
            "id": r.pk,
            "code": r.code,
            "name": r.name,
            "name_en": r.name_en,
            "level": r.level,
            "parent_id": r.parent_id,
        }
        for r in Region.objects.order_by("code")
    ]
