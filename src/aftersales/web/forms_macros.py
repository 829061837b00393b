"""Forms of the canned-reply pages: the shape of what was typed; the services decide the rest."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from aftersales.macros.models import MacroMessageKind, MacroScope
from aftersales.macros.placeholders import PLACEHOLDERS
from aftersales.macros.services import MACRO_TARGET_STATUSES
from aftersales.tickets.lifecycle import TicketStatus
from aftersales.tickets.models import Priority


def _blank(choices: list[tuple[Any, Any]], label: Any) -> list[tuple[Any, Any]]:
    return [("", label), *choices]


def _set_choices(form: forms.Form, name: str, choices: list[tuple[Any, Any]]) -> None:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    field.choices = choices


class MacroForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    scope = forms.ChoiceField(label=_("Who may use it"), choices=MacroScope.choices)
    team = forms.TypedChoiceField(label=_("Team"), required=False, coerce=int, empty_value=None)
    message_kind = forms.ChoiceField(
        label=_("Send as"), choices=MacroMessageKind.choices, initial=MacroMessageKind.REPLY
    )
    body_zh = forms.CharField(
        label=_("Reply in Chinese"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 5})
    )
    body_en = forms.CharField(
        label=_("Reply in English"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 5})
    )
    set_priority = forms.ChoiceField(label=_("Set priority"), required=False)
    add_tags = forms.CharField(
        label=_("Add tags"),
        required=False,
        max_length=400,
        help_text=_("Separated by commas."),
    )
    set_team = forms.TypedChoiceField(label=_("Set team"), required=False, coerce=int, empty_value=None)
    set_assignee = forms.TypedChoiceField(
        label=_("Set assignee"), required=False, coerce=int, empty_value=None
    )
    set_status = forms.ChoiceField(label=_("Move to stage"), required=False)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        teams: list[Any],
        all_teams: list[Any],
        staff: list[Any],
        scopes: list[str],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(
            self, "scope", [(value, label) for value, label in MacroScope.choices if value in scopes]
        )
        _set_choices(self, "team", _blank([(t.pk, t.display_name) for t in teams], _("No team")))
        _set_choices(self, "set_priority", _blank(Priority.choices, _("Leave as it is")))
        _set_choices(
            self, "set_team", _blank([(t.pk, t.display_name) for t in all_teams], _("Leave as it is"))
        )
        _set_choices(
            self,
            "set_assignee",
            _blank([(u.pk, f"{u} · {u.get_role_display()}") for u in staff], _("Leave as it is")),
        )
        _set_choices(
            self,
            "set_status",
            _blank([(s.value, s.label) for s in MACRO_TARGET_STATUSES], _("Leave as it is")),
        )

    def clean_add_tags(self) -> list[str]:
        raw = self.cleaned_data.get("add_tags") or ""
        return [part.strip() for part in raw.replace("，", ",").split(",") if part.strip()]


def placeholder_help() -> list[tuple[str, Any]]:
    return [("{{ %s }}" % name, placeholder.label) for name, placeholder in PLACEHOLDERS.items()]  # noqa: UP031


def status_label(value: str) -> Any:
    return TicketStatus(value).label if value in TicketStatus.values else value
