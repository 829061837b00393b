"""SLA data: policies (the promise), the policy applied to a ticket, clocks (the promise running).

A ticket's promises are resolved target by target (see ``policies.py``): each clock remembers the
policy and calendar it came from, so an edit of one policy never rewrites running clocks silently.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aftersales.core.models import BilingualName
from aftersales.customers.models import ValueTier
from aftersales.tickets.models import Channel, Priority, Ticket, TicketType

__all__ = [
    "TARGET_FIELDS",
    "ClockStatus",
    "EscalationAction",
    "EscalationKind",
    "SlaClock",
    "SlaEscalation",
    "SlaEscalationRule",
    "SlaNotification",
    "SlaPolicy",
    "SlaState",
    "SlaTarget",
    "TicketSla",
]


class SlaTarget(models.TextChoices):
    FIRST_RESPONSE = "first_response", _("First response")
    NEXT_RESPONSE = "next_response", _("Next response")
    RESOLUTION = "resolution", _("Resolution")
    ON_SITE = "on_site", _("On site")
    STAGE_ACCEPT = "stage_accept", _("Accept (new → accepted)")
    STAGE_DIAGNOSE = "stage_diagnose", _("Diagnose (accepted → diagnosing)")
    STAGE_PROPOSE = "stage_propose", _("Propose (diagnosing → solution proposed)")
    STAGE_COMPLETE = "stage_complete", _("Complete (in service → resolved)")


# The policy field holding each target's duration (the same names, kept explicit for readers).
TARGET_FIELDS: dict[str, str] = {target.value: target.value for target in SlaTarget}
CRITERIA_FIELDS = ("ticket_type", "priority", "customer_tier", "channel")


def _positive_or_null(field: str) -> Q:
    return Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__gt": dt.timedelta(0)})


class SlaPolicy(BilingualName, models.Model):
    """Targets for the tickets matching the non-empty criteria (empty = any).

    Precedence, per target: among active policies whose criteria all match, the one with the most
    criteria set wins; among equally specific ones the lower ``precedence`` number wins. A target
    a policy leaves empty is taken from the next policy in that order. Two active policies that
    can match the same ticket, set a common target and tie on both are refused when saved.
    """

    name = models.CharField(_("name"), max_length=120, unique=True)
    name_en = models.CharField(_("English name"), max_length=120, blank=True)
    description = models.TextField(_("description"), blank=True)
    precedence = models.PositiveIntegerField(
        _("precedence"),
        default=100,
        help_text=_("Among equally specific policies, the lower number wins."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    ticket_type = models.CharField(
        _("ticket type"), max_length=20, choices=TicketType.choices, null=True, blank=True
    )
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices, null=True, blank=True)
    customer_tier = models.CharField(
        _("customer tier"), max_length=12, choices=ValueTier.choices, null=True, blank=True
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, null=True, blank=True)
    calendar = models.ForeignKey(
        "core.BusinessCalendar",
        verbose_name=_("business calendar"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sla_policies",
        help_text=_("Empty: the default calendar."),
    )
    first_response = models.DurationField(_("first response"), null=True, blank=True)
    next_response = models.DurationField(_("next response"), null=True, blank=True)
    resolution = models.DurationField(_("resolution"), null=True, blank=True)
    on_site = models.DurationField(
        _("on site"), null=True, blank=True, help_text=_("From opening until the ticket is in service.")
    )
    stage_accept = models.DurationField(_("accept within"), null=True, blank=True)
    stage_diagnose = models.DurationField(_("diagnose within"), null=True, blank=True)
    stage_propose = models.DurationField(_("propose a solution within"), null=True, blank=True)
    stage_complete = models.DurationField(_("complete the service within"), null=True, blank=True)
    warn_at_percent = models.PositiveSmallIntegerField(
        _("warn at (percent of the target)"), default=75, help_text=_("Between 1 and 99.")
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["precedence", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(warn_at_percent__gte=1, warn_at_percent__lte=99), name="sla_policy_warn_percent"
            ),
            *(
                models.CheckConstraint(
                    condition=_positive_or_null(field), name=f"sla_policy_{field}_positive"
                )
                for field in TARGET_FIELDS.values()
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def specificity(self) -> int:
        return sum(getattr(self, field) is not None for field in CRITERIA_FIELDS)

    def criteria(self) -> dict[str, str | None]:
        return {field: getattr(self, field) for field in CRITERIA_FIELDS}

    def targets(self) -> dict[str, dt.timedelta]:
        return {
            target: value
            for target, field in TARGET_FIELDS.items()
            if (value := getattr(self, field)) is not None
        }


class SlaState(models.TextChoices):
    NONE = "none", _("No SLA")
    ON_TRACK = "on_track", _("On track")
    WARNING = "warning", _("At risk")
    BREACHED = "breached", _("Breached")
    PAUSED = "paused", _("Paused")
    MET = "met", _("Met")


class TicketSla(models.Model):
    """The policy applied to a ticket, and a summary the queues sort and badge by."""

    ticket = models.OneToOneField(Ticket, primary_key=True, on_delete=models.CASCADE, related_name="sla")
    policy = models.ForeignKey(SlaPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    calendar = models.ForeignKey(
        "core.BusinessCalendar", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # {target: {"seconds": int, "policy": id, "calendar": id | None, "warn_at_percent": int}}
    targets = models.JSONField(default=dict)
    applied_at = models.DateTimeField(default=timezone.now)
    next_due_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=10, choices=SlaState.choices, default=SlaState.NONE)

    class Meta:
        verbose_name = _("ticket SLA")
        verbose_name_plural = _("ticket SLAs")
        indexes = [
            models.Index(
                fields=["next_due_at", "ticket"],
                condition=Q(next_due_at__isnull=False),
                name="sla_ticket_next_due_idx",
            )
        ]
        constraints = [
            models.CheckConstraint(condition=Q(state__in=SlaState.values), name="sla_ticket_state_valid")
        ]

    def __str__(self) -> str:
        return f"SLA {self.ticket_id} {self.state}"


class ClockStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    PAUSED = "paused", _("Paused")
    MET = "met", _("Met")
    CANCELLED = "cancelled", _("Cancelled")


ACTIVE_CLOCK = Q(status__in=[ClockStatus.RUNNING, ClockStatus.PAUSED])


class SlaClock(models.Model):
    """One promise on one ticket, counted in business time.

    A breach is an outcome, not a life state: a breached clock keeps running (``breached_at`` set)
    until it is met, so it records both when it was breached and when it was finally met. The
    sweep reads two partial indexes that hold only the clocks still waiting for their warning or
    breach, so its cost follows the due work, not the number of open tickets.
    """

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="sla_clocks")
    target = models.CharField(_("target"), max_length=20, choices=SlaTarget.choices)
    policy = models.ForeignKey(SlaPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    calendar = models.ForeignKey(
        "core.BusinessCalendar", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=ClockStatus.choices, default=ClockStatus.RUNNING
    )
    target_seconds = models.PositiveIntegerField()
    warn_after_seconds = models.PositiveIntegerField()
    started_at = models.DateTimeField(_("started at"))
    due_at = models.DateTimeField(_("due at"))
    warn_at = models.DateTimeField(_("warn at"))
    paused_at = models.DateTimeField(null=True, blank=True)
    # Business seconds left (negative once overdue) when the clock was paused.
    remaining_seconds_when_paused = models.IntegerField(null=True, blank=True)
    warned_at = models.DateTimeField(_("warned at"), null=True, blank=True)
    breached_at = models.DateTimeField(_("breached at"), null=True, blank=True)
    met_at = models.DateTimeField(_("met at"), null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("SLA clock")
        verbose_name_plural = _("SLA clocks")
        ordering = ["started_at", "id"]
        indexes = [
            models.Index(fields=["ticket", "target", "-id"], name="sla_clock_ticket_idx"),
            models.Index(
                fields=["warn_at"],
                condition=Q(status="running", warned_at__isnull=True),
                name="sla_clock_warn_due_idx",
            ),
            models.Index(
                fields=["due_at"],
                condition=Q(status="running", breached_at__isnull=True),
                name="sla_clock_breach_due_idx",
            ),
            models.Index(fields=["due_at"], name="sla_clock_due_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=ClockStatus.values), name="sla_clock_status_valid"),
            models.CheckConstraint(condition=Q(target__in=SlaTarget.values), name="sla_clock_target_valid"),
            models.CheckConstraint(condition=Q(warn_at__lte=models.F("due_at")), name="sla_clock_warn_first"),
            models.CheckConstraint(
                condition=~Q(status="paused") | Q(paused_at__isnull=False), name="sla_clock_paused_has_time"
            ),
            # At most one live clock per target and ticket: handlers racing cannot start two.
            models.UniqueConstraint(
                fields=["ticket", "target"], condition=ACTIVE_CLOCK, name="sla_clock_one_active"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.target} {self.status}"


class EscalationKind(models.TextChoices):
    WARNING = "warning", _("Warning")
    BREACH = "breach", _("Breach")


class EscalationAction(models.TextChoices):
    NOTIFY_SUPERVISOR = "notify_supervisor", _("Notify the supervisors")
    RAISE_PRIORITY = "raise_priority", _("Raise the priority one step")
    REASSIGN_TO_TEAM_LEAD = "reassign_to_team_lead", _("Reassign to the team lead")


class SlaEscalationRule(models.Model):
    """What happens when a clock warns or breaches; empty policy or target = every one."""

    name = models.CharField(_("name"), max_length=120)
    is_active = models.BooleanField(_("active"), default=True)
    policy = models.ForeignKey(
        SlaPolicy,
        verbose_name=_("policy"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="escalation_rules",
    )
    on = models.CharField(_("on"), max_length=10, choices=EscalationKind.choices)
    target = models.CharField(_("target"), max_length=20, choices=SlaTarget.choices, null=True, blank=True)
    action = models.CharField(_("action"), max_length=24, choices=EscalationAction.choices)

    class Meta:
        verbose_name = _("SLA escalation rule")
        verbose_name_plural = _("SLA escalation rules")
        ordering = ["on", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(on__in=EscalationKind.values), name="sla_rule_on_valid"),
            models.CheckConstraint(
                condition=Q(action__in=EscalationAction.values), name="sla_rule_action_valid"
            ),
            models.UniqueConstraint(
                fields=["policy", "on", "target", "action"],
                name="sla_rule_unique",
                nulls_distinct=False,
            ),
        ]

    def __str__(self) -> str:
        return self.name


class SlaEscalation(models.Model):
    """The ledger of escalations done: one row per clock, rule and kind, never two."""

    clock = models.ForeignKey(SlaClock, on_delete=models.CASCADE, related_name="escalations")
    rule = models.ForeignKey(SlaEscalationRule, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=EscalationKind.choices)
    occurred_at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["clock", "rule", "kind"], name="sla_escalation_once"),
        ]

    def __str__(self) -> str:
        return f"{self.clock_id} {self.kind} {self.rule_id}"


class SlaNotification(models.Model):
    """An in-app notice to a supervisor that a ticket is at risk or breached."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sla_notifications"
    )
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="sla_notifications")
    clock = models.ForeignKey(SlaClock, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=10, choices=EscalationKind.choices)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("SLA notification")
        verbose_name_plural = _("SLA notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["user", "-id"], condition=Q(read_at__isnull=True), name="sla_notification_unread_idx"
            )
        ]
        constraints = [
            models.UniqueConstraint(fields=["user", "clock", "kind"], name="sla_notification_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.ticket_id} {self.kind}"
