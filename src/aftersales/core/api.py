from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from aftersales.api.schemas import ErrorOut

router = Router(tags=["me"])


class MeOut(Schema):
    id: int
    username: str
    name: str
    role: str
    capabilities: list[str]


@router.get("me", response={200: MeOut, 401: ErrorOut}, summary="Who the token belongs to")
def me(request: HttpRequest) -> Any:
    from aftersales.core.roles import ROLE_CAPABILITIES

    user = request.auth  # type: ignore[attr-defined]
    return {
        "id": user.pk,
        "username": user.username,
        "name": str(user),
        "role": user.role,
        "capabilities": sorted(ROLE_CAPABILITIES.get(user.role, frozenset())),
    }
