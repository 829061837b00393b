"""Reads of canned replies: which a person may use, which it may manage, and a filled preview."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from aftersales.core.errors import NotFound
from aftersales.core.models import Team, User
from aftersales.core.roles import Capability, Role
from aftersales.tickets.models import Ticket

from . import placeholders
from .models import Macro, MacroScope


def _team_ids(user: User) -> list[int]:
    return sorted(
        set(user.teams.values_list("id", flat=True)) | set(user.led_teams.values_list("id", flat=True))
    )


def may_write_personal_macros(user: User) -> bool:
    """Whoever writes to customers or notes on tickets keeps its own canned replies."""
    return bool(
        user.is_active
        and (user.is_staff_member or user.is_superuser)
        and (user.can(Capability.TICKET_REPLY) or user.can(Capability.TICKET_INTERNAL_NOTE))
    )


def may_manage_shared_macros(user: User) -> bool:
    return bool(user.is_active and user.can(Capability.MACRO_MANAGE))


def manageable_teams(user: User) -> QuerySet[Team]:
    """Teams whose canned replies ``user`` may write: an administrator or a supervisor of the whole
    organisation every team, another supervisor the teams it belongs to or leads."""
    if not may_manage_shared_macros(user):
        return Team.objects.none()
    teams = Team.objects.filter(is_active=True)
    if user.is_superuser or user.role == Role.ADMIN:
        return teams
    ids = _team_ids(user)
    return teams.filter(pk__in=ids) if ids or user.regions.exists() else teams


def macros_usable_by(user: User) -> QuerySet[Macro]:
    """Active macros ``user`` may apply: everyone's, its teams', its own."""
    if not may_write_personal_macros(user):
        return Macro.objects.none()
    return Macro.objects.filter(is_active=True).filter(
        Q(scope=MacroScope.GLOBAL)
        | Q(
            scope=MacroScope.TEAM,
            team_id__in=Team.objects.filter(Q(members=user) | Q(lead=user)).values("pk"),
        )
        | Q(scope=MacroScope.PERSONAL, owner=user)
    )


def macros_manageable_by(user: User) -> QuerySet[Macro]:
    """Macros ``user`` may edit (archived ones included): its own, and the shared ones it leads."""
    condition = Q(scope=MacroScope.PERSONAL, owner=user) if may_write_personal_macros(user) else Q(pk__in=[])
    if may_manage_shared_macros(user):
        condition |= Q(scope=MacroScope.GLOBAL) | Q(
            scope=MacroScope.TEAM, team_id__in=manageable_teams(user).values("pk")
        )
    return Macro.objects.filter(condition)


def macro_list_for_manager(user: User) -> list[Macro]:
    return list(
        macros_manageable_by(user)
        .select_related("team", "owner", "set_team", "set_assignee")
        .order_by("-is_active", "scope", "name", "id")
    )


def macro_list_for_user(
    *, user: User, q: str = "", after_id: int | None = None, limit: int = 50
) -> tuple[list[Macro], int | None]:
    qs = macros_usable_by(user).select_related("team", "set_team", "set_assignee")
    if q.strip():
        term = q.strip()
        qs = qs.filter(Q(name__icontains=term) | Q(body_zh__icontains=term) | Q(body_en__icontains=term))
    if after_id is not None:
        qs = qs.filter(id__lt=after_id)
    rows = list(qs.order_by("-id")[: limit + 1])
    page = rows[:limit]
    return page, (page[-1].pk if len(rows) > limit else None)


def macro_get_usable(*, user: User, macro_id: int) -> Macro:
    macro = macros_usable_by(user).select_related("set_team", "set_assignee").filter(pk=macro_id).first()
    if macro is None:
        raise NotFound(details={"macro": macro_id})
    return macro


def macro_get_manageable(*, user: User, macro_id: int) -> Macro:
    macro = macros_manageable_by(user).select_related("team", "owner").filter(pk=macro_id).first()
    if macro is None:
        raise NotFound(details={"macro": macro_id})
    return macro


@dataclass(frozen=True)
class MacroPreview:
    body: str  # filled, in ``language``; empty for a macro that only sets fields
    language: str
    message_kind: str


def macro_preview(*, macro: Macro, ticket: Ticket, actor: User | None) -> MacroPreview:
    """The macro's reply for ``ticket``, in the customer's language, placeholders filled."""
    language = placeholders.customer_language(ticket)
    template = macro.body_en if language == "en" else macro.body_zh
    body = placeholders.render(template, ticket=ticket, actor=actor, language=language).strip()
    return MacroPreview(body=body, language=language, message_kind=macro.message_kind)
