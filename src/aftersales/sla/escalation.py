"""Escalation actions, run by the sweep inside the transaction that claimed the clock.

Each (clock, rule, kind) is written to the ``SlaEscalation`` ledger before its action runs, in
the same savepoint: the ledger's unique constraint and the sweep's compare-and-set together make
every action happen exactly once, however many workers and schedulers run.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import override

from aftersales.core.errors import ApplicationError
from aftersales.core.models import User
from aftersales.core.roles import Role
from aftersales.tickets.models import Priority, Ticket, TicketMessage
from aftersales.tickets.services import ticket_add_message, ticket_update

from .clocks import sla_summary_refresh
from .models import (
    EscalationAction,
    EscalationKind,
    SlaClock,
    SlaEscalation,
    SlaEscalationRule,
    SlaNotification,
    SlaTarget,
)

logger = logging.getLogger(__name__)

SYSTEM_USERNAME = "sla-engine"
PRIORITY_STEPS = [Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.URGENT]


def system_actor() -> User:
    """The user escalations are recorded as: an agent that cannot sign in."""
    user = User.objects.filter(username=SYSTEM_USERNAME).first()
    if user is not None:
        return user
    try:
        with transaction.atomic():
            user = User(username=SYSTEM_USERNAME, role=Role.AGENT, display_name="SLA engine", is_active=True)
            user.set_unusable_password()
            user.save()
            return user
    except IntegrityError:
        return User.objects.get(username=SYSTEM_USERNAME)


def supervisors_for(ticket: Ticket) -> list[User]:
    """Supervisors of the ticket's team or region (or a region above it), and the org-wide ones."""
    scope = Q(pk__in=[])
    if ticket.team_id:
        scope |= Q(teams=ticket.team_id) | Q(led_teams=ticket.team_id)
    if ticket.region_id and ticket.region is not None:
        region_ids = [ticket.region_id, *(region.pk for region in ticket.region.ancestors())]
        scope |= Q(regions__in=region_ids)
    supervisors = User.objects.filter(role=Role.SUPERVISOR, is_active=True)
    # Supervisors with no team or region oversee the whole organisation: they hear of every case.
    overall = Q(teams__isnull=True, led_teams__isnull=True, regions__isnull=True)
    return list(supervisors.filter(scope | overall).distinct().order_by("pk"))


def _rules_for(clock: SlaClock, rules: Iterable[SlaEscalationRule]) -> list[SlaEscalationRule]:
    return [
        rule
        for rule in rules
        if rule.policy_id in (None, clock.policy_id) and rule.target in (None, "", clock.target)
    ]


def _raise_priority(ticket: Ticket, actor: User) -> str:
    # Another rule of this sweep may have changed the ticket already: act on the stored version.
    ticket = Ticket.objects.get(pk=ticket.pk)
    current = ticket.priority
    index = PRIORITY_STEPS.index(Priority(current)) if current in PRIORITY_STEPS else 1
    if index >= len(PRIORITY_STEPS) - 1:
        return "already urgent"
    higher = PRIORITY_STEPS[index + 1]
    ticket_update(ticket=ticket, actor=actor, changes={"priority": higher})
    return f"{current} → {higher}"


def _reassign_to_lead(ticket: Ticket, actor: User) -> str:
    ticket = Ticket.objects.select_related("team__lead").get(pk=ticket.pk)
    lead = ticket.team.lead if ticket.team is not None else None
    if lead is None or not lead.is_active:
        return "no team lead"
    if ticket.assignee_id == lead.pk:
        return "already with the lead"
    ticket_update(ticket=ticket, actor=actor, changes={"assignee": lead})
    return f"assigned to {lead.pk}"


def _notify(ticket: Ticket, clock: SlaClock, kind: str) -> str:
    users = supervisors_for(ticket)
    SlaNotification.objects.bulk_create(
        [SlaNotification(user=user, ticket=ticket, clock=clock, kind=kind) for user in users],
        ignore_conflicts=True,
    )
    return f"{len(users)} notified"


def _act(action: str, ticket: Ticket, clock: SlaClock, kind: str, actor: User) -> str:
    if action == EscalationAction.NOTIFY_SUPERVISOR:
        return _notify(ticket, clock, kind)
    if action == EscalationAction.RAISE_PRIORITY:
        return _raise_priority(ticket, actor)
    if action == EscalationAction.REASSIGN_TO_TEAM_LEAD:
        return _reassign_to_lead(ticket, actor)
    return "unknown action"


def _event_text(clock: SlaClock, kind: str, outcomes: list[str]) -> str:
    # System events are stored once, in the platform's language (zh-Hans), like other events.
    with override("zh-hans"):
        target = str(SlaTarget(clock.target).label)
        if kind == EscalationKind.WARNING:
            text = _("SLA warning: %(target)s is due at %(due)s.")
        else:
            text = _("SLA breached: %(target)s was due at %(due)s.")
        due = clock.due_at.astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m-%d %H:%M")
        return text % {"target": target, "due": due}


def escalate(*, clock_ids: list[int], kind: str, now: dt.datetime) -> int:
    """Run the matching rules for each claimed clock; returns the number of actions done."""
    if not clock_ids:
        return 0
    rules = list(SlaEscalationRule.objects.filter(is_active=True, on=kind).order_by("pk"))
    clocks = SlaClock.objects.filter(pk__in=clock_ids).select_related("ticket__team__lead", "ticket__region")
    actor = system_actor() if rules else None
    done = 0
    for clock in clocks:
        ticket = clock.ticket
        outcomes: list[str] = []
        for rule in _rules_for(clock, rules):
            try:
                with transaction.atomic():
                    SlaEscalation.objects.create(clock=clock, rule=rule, kind=kind, occurred_at=now)
                    assert actor is not None
                    outcome = _act(rule.action, ticket, clock, kind, actor)
                    SlaEscalation.objects.filter(clock=clock, rule=rule, kind=kind).update(
                        outcome=outcome[:200]
                    )
            except IntegrityError:
                continue  # already escalated by this rule: the ledger says so
            except ApplicationError as error:
                # A concurrent edit (stale version) or a rule that no longer fits: the warning
                # itself stands; the action is recorded as skipped, never retried twice.
                logger.warning("SLA escalation %s on clock %s skipped: %s", rule.action, clock.pk, error)
                SlaEscalation.objects.get_or_create(
                    clock=clock,
                    rule=rule,
                    kind=kind,
                    defaults={"occurred_at": now, "outcome": f"skipped: {error}"[:200]},
                )
                ticket.refresh_from_db()
                continue
            done += 1
            outcomes.append(outcome)
        if outcomes:
            ticket_add_message(
                ticket=ticket,
                actor=actor,
                body=_event_text(clock, kind, outcomes),
                # Internal: the customer's portal does not show the desk's escalations.
                kind=TicketMessage.Kind.NOTE,
                event_code=f"sla.{kind}",
                event_data={"target": clock.target, "due_at": clock.due_at.isoformat()},
            )
        # The instants still ahead were armed when they were planned (or the sweep arms them).
        sla_summary_refresh(ticket_id=ticket.pk, arm=False)
    return done
