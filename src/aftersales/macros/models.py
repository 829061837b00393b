"""Canned replies (macros): a reply in both languages with placeholders, and field changes."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aftersales.core.models import Team


class MacroScope(models.TextChoices):
    GLOBAL = "global", _("Everyone")
    TEAM = "team", _("Team")
    PERSONAL = "personal", _("Personal")


class MacroMessageKind(models.TextChoices):
    REPLY = "reply", _("Public reply")
    NOTE = "note", _("Internal note")


class Macro(models.Model):
    """A reusable reply (one body per language, the customer's language is used) that may also
    set the ticket's priority, add tags, set its team or assignee and move it to a stage.

    Who sees it follows ``scope``: everyone (global), the members and lead of ``team``, or only
    ``owner`` (personal). Applying it goes through the ticket services in one transaction.
    """

    name = models.CharField(_("name"), max_length=120)
    scope = models.CharField(_("scope"), max_length=10, choices=MacroScope.choices)
    team = models.ForeignKey(
        Team, verbose_name=_("team"), null=True, blank=True, on_delete=models.CASCADE, related_name="macros"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="macros",
    )
    body_zh = models.TextField(_("reply in Chinese"), blank=True)
    body_en = models.TextField(_("reply in English"), blank=True)
    message_kind = models.CharField(
        _("message kind"), max_length=8, choices=MacroMessageKind.choices, default=MacroMessageKind.REPLY
    )
    set_priority = models.CharField(_("set priority"), max_length=10, blank=True)
    add_tags = models.JSONField(_("add tags"), default=list, blank=True)
    set_team = models.ForeignKey(
        Team, verbose_name=_("set team"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    set_assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("set assignee"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    set_status = models.CharField(_("move to stage"), max_length=24, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    usage_count = models.PositiveIntegerField(_("times used"), default=0)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("canned reply")
        verbose_name_plural = _("canned replies")
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(scope__in=MacroScope.values), name="macro_scope_valid"),
            models.CheckConstraint(
                condition=models.Q(message_kind__in=MacroMessageKind.values), name="macro_kind_valid"
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(scope="global") & models.Q(team__isnull=True) & models.Q(owner__isnull=True)
                )
                | (models.Q(scope="team") & models.Q(team__isnull=False) & models.Q(owner__isnull=True))
                | (models.Q(scope="personal") & models.Q(team__isnull=True) & models.Q(owner__isnull=False)),
                name="macro_scope_matches_holder",
            ),
        ]
        indexes = [
            models.Index(fields=["scope", "is_active"], name="macro_scope_idx"),
            models.Index(fields=["team", "is_active"], name="macro_team_idx"),
            models.Index(fields=["owner", "is_active"], name="macro_owner_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def has_reply(self) -> bool:
        return bool(self.body_zh.strip() or self.body_en.strip())

    @property
    def sets_fields(self) -> bool:
        return bool(self.set_priority or self.add_tags or self.set_team_id or self.set_assignee_id)
