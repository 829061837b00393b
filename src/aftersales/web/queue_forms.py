"""Forms of the working queue: its sort, bulk actions and saved views."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from aftersales.tickets.lifecycle import TicketStatus
from aftersales.tickets.models import Priority
from aftersales.tickets.services.bulk import BULK_ACTIONS, MAX_BULK_TICKETS
from aftersales.tickets.sorting import SORT_LABELS, SORT_NEWEST

from .forms import QueueFilterForm

BULK_ACTION_LABELS = {
    "assign": _("Assign to…"),
    "stage": _("Move to stage…"),
    "priority": _("Set priority…"),
    "tag": _("Add tag…"),
    "merge": _("Merge into ticket…"),
}
ASSIGN_ME = "me"
_NUMBER = re.compile(r"^[A-Z0-9-]+$")
# The filters a queue's address carries (and a saved view keeps), in the order of the form.
QUEUE_FILTER_FIELDS = ("q", "status", "type", "priority", "channel", "team")


class QueueViewForm(QueueFilterForm):
    """The queue's filters plus its sort order."""

    sort = forms.ChoiceField(label=_("Sort"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["sort"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(name, label) for name, label in SORT_LABELS.items()]
        field.initial = SORT_NEWEST


class BulkActionForm(forms.Form):
    action = forms.ChoiceField(label=_("Bulk action"))
    assignee = forms.CharField(label=_("Assignee"), required=False, max_length=20)
    to_status = forms.ChoiceField(label=_("Stage"), required=False)
    priority = forms.ChoiceField(label=_("Priority"), required=False)
    tag = forms.CharField(label=_("Tag"), required=False, max_length=40)
    into = forms.CharField(label=_("Ticket number"), required=False, max_length=20)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        action = self.fields["action"]
        assert isinstance(action, forms.ChoiceField)
        action.choices = [
            ("", _("Bulk action…")),
            *((name, BULK_ACTION_LABELS[name]) for name in BULK_ACTIONS),
        ]
        status = self.fields["to_status"]
        assert isinstance(status, forms.ChoiceField)
        status.choices = [("", "—"), *TicketStatus.choices]
        priority = self.fields["priority"]
        assert isinstance(priority, forms.ChoiceField)
        priority.choices = [("", "—"), *Priority.choices]

    def clean(self) -> dict[str, Any]:
        """The checked rows arrive as repeated ``number`` fields (checkboxes outside the form)."""
        data = super().clean() or {}
        raw = self.data.getlist("number") if hasattr(self.data, "getlist") else []
        numbers = [str(n).strip().upper() for n in raw if str(n).strip()]
        if not numbers:
            self.add_error(None, _("Select at least one ticket."))
        elif len(numbers) > MAX_BULK_TICKETS:
            self.add_error(
                None, _("Select at most %(count)s tickets at a time.") % {"count": MAX_BULK_TICKETS}
            )
        elif any(len(n) > 20 or not _NUMBER.match(n) for n in numbers):
            self.add_error(None, _("Not a ticket number."))
        data["numbers"] = numbers
        return data

    def clean_assignee(self) -> str:
        value = (self.cleaned_data.get("assignee") or "").strip()
        if value and value != ASSIGN_ME and not value.isdigit():
            raise forms.ValidationError(_("Choose a member of staff."))
        return value


class SavedViewForm(forms.Form):
    name = forms.CharField(label=_("View name"), max_length=60)
    is_shared = forms.BooleanField(label=_("Share with everyone"), required=False)
    query = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)
