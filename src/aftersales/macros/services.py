"""Writes of canned replies: create, edit, archive, and apply one to a ticket.

Applying goes through the ticket services (``ticket_update``, ``ticket_add_message``,
``ticket_transition``) inside one transaction, so a macro is applied whole or not at all and every
ticket change keeps its own audit row and event; the macro adds one ``macro.apply`` row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from aftersales.core.models import Team, User
from aftersales.core.roles import Role
from aftersales.core.services import audit_record
from aftersales.tickets.errors import StaleTicket
from aftersales.tickets.lifecycle import TicketStatus
from aftersales.tickets.models import Priority, Ticket, TicketMessage
from aftersales.tickets.services import ticket_add_message, ticket_transition, ticket_update

from .models import Macro, MacroMessageKind, MacroScope
from .placeholders import placeholder_errors
from .selectors import (
    macro_preview,
    macros_manageable_by,
    manageable_teams,
    may_manage_shared_macros,
    may_write_personal_macros,
)

MAX_BODY_CHARS = 5000
MAX_TAGS = 10
# Stages a macro may move a ticket to (not back to "new", and reopening is the customer's).
MACRO_TARGET_STATUSES = (
    TicketStatus.ACCEPTED,
    TicketStatus.DIAGNOSING,
    TicketStatus.SOLUTION_PROPOSED,
    TicketStatus.IN_SERVICE,
    TicketStatus.WAITING_ON_CUSTOMER,
    TicketStatus.RESOLVED,
    TicketStatus.CLOSED,
    TicketStatus.CANCELLED,
)
MACRO_FIELDS = (
    "name",
    "body_zh",
    "body_en",
    "message_kind",
    "set_priority",
    "add_tags",
    "set_team",
    "set_assignee",
    "set_status",
)


def _check_holder(*, actor: User, scope: str, team: Team | None) -> None:
    if scope not in MacroScope.values:
        raise ValidationFailed(details={"scope": _("“%(value)s” is not a valid choice.") % {"value": scope}})
    if scope == MacroScope.PERSONAL:
        if not may_write_personal_macros(actor):
            raise PermissionDenied()
        return
    if not may_manage_shared_macros(actor):
        raise PermissionDenied()
    if scope == MacroScope.TEAM:
        if team is None:
            raise ValidationFailed(details={"team": _("Choose the team this canned reply is for.")})
        if not manageable_teams(actor).filter(pk=team.pk).exists():
            raise PermissionDenied()


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    """Check and normalise the macro's content; every problem is reported at once."""
    errors: dict[str, str] = {}
    if "name" in values:
        values["name"] = (values["name"] or "").strip()
        if not values["name"]:
            errors["name"] = _("A name is required.")
        elif len(values["name"]) > 120:
            errors["name"] = _("A name is at most 120 characters.")
    for field in ("body_zh", "body_en"):
        if field in values:
            values[field] = (values[field] or "").strip()
            problems = placeholder_errors(values[field])
            if len(values[field]) > MAX_BODY_CHARS:
                problems.append(_("A reply is at most %(n)d characters.") % {"n": MAX_BODY_CHARS})
            if problems:
                errors[field] = " ".join(problems)
    if "message_kind" in values and values["message_kind"] not in MacroMessageKind.values:
        errors["message_kind"] = _("“%(value)s” is not a valid choice.") % {"value": values["message_kind"]}
    if values.get("set_priority") and values["set_priority"] not in Priority.values:
        errors["set_priority"] = _("“%(value)s” is not a valid choice.") % {"value": values["set_priority"]}
    if values.get("set_status") and values["set_status"] not in MACRO_TARGET_STATUSES:
        errors["set_status"] = _("“%(value)s” is not a stage a canned reply can move to.") % {
            "value": values["set_status"]
        }
    if "add_tags" in values:
        tags = sorted({str(tag).strip() for tag in values["add_tags"] or [] if str(tag).strip()})
        if len(tags) > MAX_TAGS:
            errors["add_tags"] = _("At most %(n)d tags.") % {"n": MAX_TAGS}
        elif any(len(tag) > 40 for tag in tags):
            errors["add_tags"] = _("A tag is at most 40 characters.")
        values["add_tags"] = tags
    assignee = values.get("set_assignee")
    if assignee is not None and (not assignee.is_active or assignee.role == Role.CUSTOMER):
        errors["set_assignee"] = _("Tickets can only be assigned to active staff.")
    if errors:
        raise ValidationFailed(details=errors)
    return values


def _check_complete(macro_values: dict[str, Any]) -> None:
    body_zh, body_en = macro_values.get("body_zh", ""), macro_values.get("body_en", "")
    if bool(body_zh) != bool(body_en):
        missing = "body_en" if body_zh else "body_zh"
        raise ValidationFailed(
            details={missing: _("Write the reply in both languages: it is sent in the customer's language.")}
        )
    does_something = body_zh or any(
        macro_values.get(field)
        for field in ("set_priority", "add_tags", "set_team", "set_assignee", "set_status")
    )
    if not does_something:
        raise ValidationFailed(details={"body_zh": _("A canned reply needs a reply or a change to make.")})


def _snapshot(macro: Macro) -> dict[str, Any]:
    return {
        "name": macro.name,
        "scope": macro.scope,
        "team": macro.team_id,
        "owner": macro.owner_id,
        "body_zh": macro.body_zh,
        "body_en": macro.body_en,
        "message_kind": macro.message_kind,
        "set_priority": macro.set_priority,
        "add_tags": list(macro.add_tags),
        "set_team": macro.set_team_id,
        "set_assignee": macro.set_assignee_id,
        "set_status": macro.set_status,
        "is_active": macro.is_active,
    }


@transaction.atomic
def macro_create(
    *,
    actor: User,
    name: str,
    scope: str,
    team: Team | None = None,
    body_zh: str = "",
    body_en: str = "",
    message_kind: str = MacroMessageKind.REPLY,
    set_priority: str = "",
    add_tags: list[str] | None = None,
    set_team: Team | None = None,
    set_assignee: User | None = None,
    set_status: str = "",
) -> Macro:
    _check_holder(actor=actor, scope=scope, team=team)
    values = _clean(
        {
            "name": name,
            "body_zh": body_zh,
            "body_en": body_en,
            "message_kind": message_kind,
            "set_priority": set_priority,
            "add_tags": add_tags or [],
            "set_team": set_team,
            "set_assignee": set_assignee,
            "set_status": set_status,
        }
    )
    _check_complete(values)
    macro = Macro.objects.create(
        scope=scope,
        team=team if scope == MacroScope.TEAM else None,
        owner=actor if scope == MacroScope.PERSONAL else None,
        created_by=actor,
        **values,
    )
    audit_record(actor=actor, obj=macro, action="macro.create", after=_snapshot(macro))
    return macro


def _manageable(actor: User, macro: Macro) -> Macro:
    if not macros_manageable_by(actor).filter(pk=macro.pk).exists():
        if macro.scope == MacroScope.PERSONAL and macro.owner_id != actor.pk:
            raise NotFound(details={"macro": macro.pk})  # another person's macros do not exist for it
        raise PermissionDenied()
    return macro


@transaction.atomic
def macro_update(
    *, macro: Macro, actor: User, changes: dict[str, Any], expected_version: int | None = None
) -> Macro:
    """Edit a macro's content (``MACRO_FIELDS``), a team macro's team, or bring it back
    (``is_active``). The scope is fixed at creation: a personal reply is not shared by editing."""
    _manageable(actor, macro)
    unknown = set(changes) - set(MACRO_FIELDS) - {"team", "is_active"}
    if unknown:
        raise ValidationFailed(details={name: _("This field cannot be changed.") for name in sorted(unknown)})
    if "team" in changes:
        if macro.scope != MacroScope.TEAM:
            raise ValidationFailed(details={"team": _("This field cannot be changed.")})
        _check_holder(actor=actor, scope=macro.scope, team=changes["team"])
    changes = _clean(dict(changes))
    merged = {field: getattr(macro, field) for field in MACRO_FIELDS} | changes
    _check_complete(merged)
    before = _snapshot(macro)
    version = macro.version if expected_version is None else expected_version
    updated = Macro.objects.filter(pk=macro.pk, version=version).update(
        version=F("version") + 1, updated_at=timezone.now(), **changes
    )
    if updated != 1:
        raise Conflict(details={"macro": macro.pk})
    macro.refresh_from_db()
    after = _snapshot(macro)
    audit_record(
        actor=actor,
        obj=macro,
        action="macro.update",
        before={k: v for k, v in before.items() if after[k] != v},
        after={k: v for k, v in after.items() if before[k] != v},
    )
    return macro


@transaction.atomic
def macro_archive(*, macro: Macro, actor: User) -> Macro:
    """Take a macro out of the pickers (kept, with its usage count, for the record)."""
    _manageable(actor, macro)
    if Macro.objects.filter(pk=macro.pk, is_active=True).update(
        is_active=False, version=F("version") + 1, updated_at=timezone.now()
    ):
        macro.refresh_from_db()
        audit_record(actor=actor, obj=macro, action="macro.archive", before={"is_active": True})
    return macro


@dataclass
class MacroApplied:
    ticket: Ticket
    message: TicketMessage | None
    changed: list[str]  # what the macro changed: "priority", "tags", "team", "assignee", "status"


def _count_use(macro: Macro) -> None:
    now = timezone.now()
    Macro.objects.filter(pk=macro.pk).update(usage_count=F("usage_count") + 1, last_used_at=now)
    macro.usage_count += 1
    macro.last_used_at = now


@transaction.atomic
def macro_apply(
    *,
    macro: Macro,
    ticket: Ticket,
    actor: User,
    expected_version: int | None = None,
    body: str | None = None,
) -> MacroApplied:
    """Apply ``macro`` to ``ticket``: set its fields, add its reply (in the customer's language,
    placeholders filled; ``body`` replaces it when the agent edited the text) and move the stage.
    The ticket services check the actor's rights; any refusal undoes the whole macro."""
    if not macro.is_active:
        raise Conflict(_("This canned reply was archived."), details={"macro": macro.pk})
    # Lock the ticket row only (PostgreSQL refuses FOR UPDATE on the nullable side of the joins).
    ticket = (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("customer", "contact", "installed_product__product_model")
        .get(pk=ticket.pk)
    )
    if expected_version is not None and expected_version != ticket.version:
        raise StaleTicket(number=ticket.number, current_version=ticket.version)
    changed: list[str] = []
    changes: dict[str, Any] = {}
    if macro.set_priority and macro.set_priority != ticket.priority:
        changes["priority"] = macro.set_priority
    if macro.set_team_id and macro.set_team_id != ticket.team_id:
        changes["team"] = macro.set_team
    if macro.set_assignee_id and macro.set_assignee_id != ticket.assignee_id:
        changes["assignee"] = macro.set_assignee
    tags = None
    if macro.add_tags:
        current = sorted(tag.name for tag in ticket.tags.all())
        wanted = sorted(set(current) | set(macro.add_tags))
        if wanted != current:
            tags = wanted
            changed.append("tags")
    if changes or tags is not None:
        ticket = ticket_update(ticket=ticket, actor=actor, changes=changes, tags=tags)
        changed[:0] = list(changes)
    message = None
    text = body.strip() if body is not None else macro_preview(macro=macro, ticket=ticket, actor=actor).body
    if text:
        message = ticket_add_message(ticket=ticket, actor=actor, body=text, kind=macro.message_kind)
    if macro.set_status and macro.set_status != ticket.status:
        ticket = ticket_transition(ticket=ticket, actor=actor, to_status=macro.set_status)
        changed.append("status")
    if message is None and not changed:
        raise ValidationFailed(details={"macro": _("This canned reply changes nothing on this ticket.")})
    _count_use(macro)
    audit_record(
        actor=actor,
        obj=ticket,
        action="macro.apply",
        after={
            "macro": macro.pk,
            "name": macro.name,
            "message": message.pk if message else None,
            "changed": changed,
        },
    )
    return MacroApplied(ticket=ticket, message=message, changed=changed)


@transaction.atomic
def macro_send_reply(*, macro: Macro, ticket: Ticket, actor: User, body: str, kind: str) -> TicketMessage:
    """A reply the agent started from a macro's text (and may have edited): sent like any reply,
    and counted as a use of the macro. The macro's field changes are not applied (that is
    ``macro_apply``)."""
    message = ticket_add_message(ticket=ticket, actor=actor, body=body, kind=kind)
    _count_use(macro)
    audit_record(
        actor=actor, obj=ticket, action="macro.insert", after={"macro": macro.pk, "message": message.pk}
    )
    return message
