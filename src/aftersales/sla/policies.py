"""Which promise applies to a ticket, and the rules a policy must follow to be saved.

Resolution is per target: for each target (first response, resolution, each stage…) the active
policies whose criteria all match the ticket are ranked by specificity (number of criteria set,
more wins), then by ``precedence`` (lower wins); the first one that sets the target gives it.
So a "phone: first response 60 s" policy and a "repair: resolution 72 h" policy both apply to a
repair reported by phone, and the catch-all default fills every target neither sets.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aftersales.core.errors import PermissionDenied
from aftersales.core.models import User
from aftersales.core.roles import Capability
from aftersales.core.services import audit_record
from aftersales.tickets.models import Ticket

from .errors import SlaConfigurationError
from .models import CRITERIA_FIELDS, TARGET_FIELDS, SlaPolicy

POLICY_FIELDS = (
    "name",
    "name_en",
    "description",
    "precedence",
    "is_active",
    *CRITERIA_FIELDS,
    "calendar",
    *TARGET_FIELDS.values(),
    "warn_at_percent",
)


@dataclass(frozen=True)
class AppliedTarget:
    seconds: int
    policy_id: int
    calendar_id: int | None
    warn_at_percent: int

    def as_json(self) -> dict[str, Any]:
        return {
            "seconds": self.seconds,
            "policy": self.policy_id,
            "calendar": self.calendar_id,
            "warn_at_percent": self.warn_at_percent,
        }


@dataclass(frozen=True)
class PolicyResolution:
    primary: SlaPolicy | None
    targets: dict[str, AppliedTarget]


def ticket_criteria(ticket: Ticket) -> dict[str, str]:
    return {
        "ticket_type": ticket.type,
        "priority": ticket.priority,
        "customer_tier": ticket.customer_tier,
        "channel": ticket.channel,
    }


def _rank(policy: SlaPolicy) -> tuple[int, int, int]:
    return (-policy.specificity, policy.precedence, policy.pk or 0)


def policy_matches(policy: SlaPolicy, criteria: dict[str, str]) -> bool:
    return all(
        (wanted := getattr(policy, field)) is None or wanted == criteria[field] for field in CRITERIA_FIELDS
    )


def resolve_policies(criteria: dict[str, str], policies: Iterable[SlaPolicy]) -> PolicyResolution:
    """Pure: the winning policy per target among ``policies`` (already filtered to active)."""
    ranked = sorted((p for p in policies if policy_matches(p, criteria)), key=_rank)
    targets: dict[str, AppliedTarget] = {}
    for policy in ranked:
        for target, duration in policy.targets().items():
            if target not in targets:
                targets[target] = AppliedTarget(
                    seconds=int(duration.total_seconds()),
                    policy_id=policy.pk,
                    calendar_id=policy.calendar_id,
                    warn_at_percent=policy.warn_at_percent,
                )
    return PolicyResolution(primary=ranked[0] if ranked else None, targets=targets)


def policies_for_ticket(ticket: Ticket) -> PolicyResolution:
    return resolve_policies(ticket_criteria(ticket), SlaPolicy.objects.filter(is_active=True))


# --- validation -------------------------------------------------------------------------------


def _can_overlap(first: SlaPolicy, second: SlaPolicy) -> bool:
    """True when some ticket could match both (each criterion: either side empty, or equal)."""
    for field in CRITERIA_FIELDS:
        a, b = getattr(first, field), getattr(second, field)
        if a is not None and b is not None and a != b:
            return False
    return True


def policy_validate(policy: SlaPolicy) -> None:
    """Raise ``SlaConfigurationError`` (with per-field details) if ``policy`` may not be saved."""
    errors: dict[str, Any] = {}
    if not (policy.name or "").strip():
        errors["name"] = _("A name is required.")
    elif SlaPolicy.objects.filter(name=policy.name.strip()).exclude(pk=policy.pk).exists():
        errors["name"] = _("Another policy has this name.")
    for field in TARGET_FIELDS.values():
        value = getattr(policy, field)
        if value is not None and value <= dt.timedelta(0):
            errors[field] = _("A target must be a positive duration.")
        elif value is not None and value > dt.timedelta(days=365):
            errors[field] = _("A target may be at most 365 days.")
    percent = policy.warn_at_percent
    if percent is None or not 1 <= int(percent) <= 99:
        errors["warn_at_percent"] = _("The warning share must be between 1 and 99 percent.")
    if policy.is_active and not policy.targets():
        errors["first_response"] = _("Set at least one target.")
    if errors:
        raise SlaConfigurationError(details={k: str(v) for k, v in errors.items()})
    if not policy.is_active:
        return
    mine = set(policy.targets())
    others = SlaPolicy.objects.filter(is_active=True, precedence=policy.precedence)
    if policy.pk:
        others = others.exclude(pk=policy.pk)
    for other in others:
        if other.specificity != policy.specificity or not _can_overlap(policy, other):
            continue
        shared = mine & set(other.targets())
        if shared:
            raise SlaConfigurationError(
                _(
                    "“%(other)s” can apply to the same tickets with the same precedence and "
                    "specificity; give one of them a different precedence."
                )
                % {"other": other.display_name},
                details={
                    "precedence": str(
                        _("Conflicts with “%(other)s” on: %(targets)s.")
                        % {"other": other.display_name, "targets": ", ".join(sorted(shared))}
                    ),
                    "conflicting_policy": other.pk,
                },
            )


@transaction.atomic
def sla_policy_save(*, actor: User | None, policy: SlaPolicy | None = None, **values: Any) -> SlaPolicy:
    """Create (``policy`` None) or change a policy; refuses bad configuration, saving nothing."""
    if actor is not None and not actor.can(Capability.SETTINGS_EDIT):
        raise PermissionDenied()
    unknown = set(values) - set(POLICY_FIELDS)
    if unknown:
        raise SlaConfigurationError(details={name: str(_("Unknown field.")) for name in sorted(unknown)})
    is_new = policy is None
    target = SlaPolicy() if policy is None else policy
    before = {} if is_new else {name: getattr(target, name) for name in values}
    for name, value in values.items():
        setattr(target, name, value)
    target.updated_at = timezone.now()
    policy_validate(target)
    # Lock competing rows on PostgreSQL so two admins cannot save conflicting policies at once.
    list(SlaPolicy.objects.select_for_update().filter(precedence=target.precedence).values_list("pk"))
    policy_validate(target)
    target.save()
    audit_record(
        actor=actor,
        obj=target,
        action="sla.policy.create" if is_new else "sla.policy.update",
        before=before,
        after={name: getattr(target, name) for name in (values or POLICY_FIELDS)},
    )
    return target
