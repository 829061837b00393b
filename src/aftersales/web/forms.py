"""Forms check the shape of what a person typed; the services decide what is allowed."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.utils.translation import gettext_lazy as _

from aftersales.core.login_throttle import LockoutMessageMixin
from aftersales.sla.models import EscalationKind
from aftersales.tickets.lifecycle import TicketStatus
from aftersales.tickets.models import Channel, Priority, TicketMessage, TicketType


def _with_blank(choices: list[tuple[str, Any]], label: Any) -> list[tuple[str, Any]]:
    return [("", label), *choices]


def _choice_field(form: forms.Form, name: str) -> forms.ChoiceField:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    return field


class LoginForm(LockoutMessageMixin, AuthenticationForm):
    username = forms.CharField(
        label=_("E-mail address"),
        max_length=254,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )


class LoginCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Verification code"),
        min_length=6,
        max_length=12,
        help_text=_("The 6-digit code your authenticator app shows now."),
        widget=forms.TextInput(
            attrs={
                "autofocus": True,
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": "[0-9 ]*",
                "spellcheck": "false",
            }
        ),
    )

    def clean_code(self) -> str:
        code = "".join(str(self.cleaned_data["code"]).split())
        if not code.isdigit() or len(code) != 6:
            raise forms.ValidationError(_("Enter the 6 digits your app shows."))
        return code


class ResetRequestForm(PasswordResetForm):
    email = forms.EmailField(
        label=_("E-mail address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )


class QueueFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={"placeholder": _("Words, phone, e-mail, serial or number"), "type": "search"}
        ),
    )
    status = forms.ChoiceField(label=_("Status"), required=False)
    type = forms.ChoiceField(label=_("Type"), required=False)
    priority = forms.ChoiceField(label=_("Priority"), required=False)
    channel = forms.ChoiceField(label=_("Channel"), required=False)
    team = forms.TypedChoiceField(label=_("Team"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args: Any, teams: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choice_field(self, "status").choices = _with_blank(TicketStatus.choices, _("Any status"))
        _choice_field(self, "type").choices = _with_blank(TicketType.choices, _("Any type"))
        _choice_field(self, "priority").choices = _with_blank(Priority.choices, _("Any priority"))
        _choice_field(self, "channel").choices = _with_blank(Channel.choices, _("Any channel"))
        _choice_field(self, "team").choices = _with_blank(
            [(str(t.pk), t.display_name) for t in teams], _("Any team")
        )


class MessageForm(forms.Form):
    body = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 4}), max_length=20_000)
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[
            (TicketMessage.Kind.REPLY, _("Public reply")),
            (TicketMessage.Kind.NOTE, _("Internal note")),
        ],
        initial=TicketMessage.Kind.REPLY,
        widget=forms.RadioSelect,
    )
    # The canned reply the text was started from (its use is counted when the message is sent).
    macro = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)


class CustomerReplyForm(forms.Form):
    body = forms.CharField(label=_("Your reply"), widget=forms.Textarea(attrs={"rows": 4}), max_length=20_000)
    attachment = forms.FileField(label=_("Attachment (optional)"), required=False)


class TransitionForm(forms.Form):
    to_status = forms.ChoiceField(choices=TicketStatus.choices)
    version = forms.IntegerField(min_value=1)
    note = forms.CharField(required=False, max_length=2000)


class TicketEditForm(forms.Form):
    version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    subject = forms.CharField(label=_("Subject"), max_length=200)
    type = forms.ChoiceField(label=_("Type"), choices=TicketType.choices)
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices)
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices)
    team = forms.TypedChoiceField(label=_("Team"), required=False, coerce=int, empty_value=None)
    assignee = forms.TypedChoiceField(label=_("Assignee"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args: Any, teams: list[Any], staff: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choice_field(self, "team").choices = _with_blank(
            [(str(t.pk), t.display_name) for t in teams], _("No team")
        )
        _choice_field(self, "assignee").choices = _with_blank(
            [(str(u.pk), f"{u} · {u.get_role_display()}") for u in staff], _("Unassigned")
        )


class AttachmentForm(forms.Form):
    file = forms.FileField(label=_("File"))
    is_internal = forms.BooleanField(label=_("Internal (staff only)"), required=False)


class TicketNumberForm(forms.Form):
    number = forms.CharField(label=_("Ticket number"), max_length=20)

    def clean_number(self) -> str:
        return self.cleaned_data["number"].strip().upper()


class PhoneCallForm(forms.Form):
    phone = forms.CharField(label=_("Caller's phone"), max_length=32)
    customer_id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    customer_name = forms.CharField(label=_("New customer's name"), required=False, max_length=120)
    installed_product = forms.TypedChoiceField(
        label=_("Product"), required=False, coerce=int, empty_value=None, choices=[]
    )
    type = forms.ChoiceField(label=_("Type"), choices=TicketType.choices, initial=TicketType.REPAIR)
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices, initial=Priority.NORMAL)
    subject = forms.CharField(label=_("Subject"), max_length=200)
    notes = forms.CharField(label=_("Call notes"), required=False, widget=forms.Textarea(attrs={"rows": 5}))

    def __init__(self, *args: Any, products: list[Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.set_products(products or [])

    def set_products(self, products: list[Any]) -> None:
        _choice_field(self, "installed_product").choices = _with_blank(
            [(str(p.pk), f"{p.product_model.display_name} · {p.serial_number}") for p in products],
            _("No product"),
        )

    def clean_phone(self) -> str:
        phone = self.cleaned_data["phone"].strip()
        digits = [ch for ch in phone if ch.isdigit()]
        if len(digits) < 5:
            raise forms.ValidationError(_("Enter a phone number with at least 5 digits."))
        return phone


class PortalTicketForm(forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=200)
    type = forms.ChoiceField(
        label=_("What do you need?"), choices=TicketType.choices, initial=TicketType.REPAIR
    )
    installed_product = forms.TypedChoiceField(
        label=_("Product"), required=False, coerce=int, empty_value=None, choices=[]
    )
    description = forms.CharField(
        label=_("Describe the problem"), widget=forms.Textarea(attrs={"rows": 6}), max_length=20_000
    )
    attachment = forms.FileField(label=_("Photo or document (optional)"), required=False)

    def __init__(self, *args: Any, products: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choice_field(self, "installed_product").choices = _with_blank(
            [(str(p.pk), f"{p.product_model.display_name} · {p.serial_number}") for p in products],
            _("Not about a specific product"),
        )


class NoticeGroupForm(forms.Form):
    """One group of the notifications summary: a kind and a day (both optional: all of them)."""

    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[("", ""), *EscalationKind.choices])
    day = forms.DateField(label=_("Day"), required=False, input_formats=["%Y-%m-%d"])
