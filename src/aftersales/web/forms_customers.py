"""Forms of the customer list and the customer page."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from aftersales.customers.models import Customer, ValueTier


def _blank(choices: list[tuple[Any, Any]], label: Any) -> list[tuple[Any, Any]]:
    return [("", label), *choices]


def _set_choices(form: forms.Form, name: str, choices: list[tuple[Any, Any]]) -> None:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    field.choices = choices


class CustomerFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": _("Name, phone, e-mail or number"), "type": "search"}),
    )
    region = forms.TypedChoiceField(label=_("Region"), required=False, coerce=int, empty_value=None)
    tier = forms.ChoiceField(label=_("Value tier"), required=False)
    open_tickets = forms.ChoiceField(
        label=_("Open tickets"),
        required=False,
        choices=[("", _("With or without")), ("yes", _("Has open tickets")), ("no", _("No open tickets"))],
    )

    def __init__(self, *args: Any, regions: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self, "region", _blank([(r.pk, r.display_name) for r in regions], _("Any region")))
        _set_choices(self, "tier", _blank(ValueTier.choices, _("Any tier")))


class CustomerEditForm(forms.Form):
    version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    name = forms.CharField(label=_("Name"), max_length=120)
    kind = forms.ChoiceField(label=_("Kind"), choices=Customer.Kind.choices)
    phone = forms.CharField(label=_("Phone"), required=False, max_length=32)
    email = forms.EmailField(label=_("E-mail address"), required=False, max_length=254)
    region = forms.TypedChoiceField(label=_("Region"), required=False, coerce=int, empty_value=None)
    value_tier = forms.ChoiceField(label=_("Value tier"), choices=ValueTier.choices, required=False)
    notes = forms.CharField(
        label=_("Notes"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, regions: list[Any], may_set_tier: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self, "region", _blank([(r.pk, r.display_name) for r in regions], _("No region")))
        if not may_set_tier:
            del self.fields["value_tier"]


class ContactForm(forms.Form):
    contact_id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    name = forms.CharField(label=_("Name"), max_length=80)
    phone = forms.CharField(label=_("Phone"), required=False, max_length=32)
    email = forms.EmailField(label=_("E-mail address"), required=False, max_length=254)
    is_primary = forms.BooleanField(label=_("Primary contact"), required=False)


class AddressForm(forms.Form):
    address_id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    label = forms.CharField(label=_("Label"), required=False, max_length=40)
    line = forms.CharField(label=_("Address"), max_length=200)
    region = forms.TypedChoiceField(label=_("Region"), required=False, coerce=int, empty_value=None)
    postal_code = forms.CharField(label=_("Postal code"), required=False, max_length=12)
    is_default = forms.BooleanField(label=_("Default address"), required=False)

    def __init__(self, *args: Any, regions: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self, "region", _blank([(r.pk, r.display_name) for r in regions], _("No region")))


class InstalledProductForm(forms.Form):
    product_id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    product_model = forms.TypedChoiceField(label=_("Product model"), coerce=int)
    serial_number = forms.CharField(label=_("Serial number"), max_length=64)
    address = forms.TypedChoiceField(label=_("Address"), required=False, coerce=int, empty_value=None)
    purchased_on = forms.DateField(
        label=_("Purchased on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    installed_on = forms.DateField(
        label=_("Installed on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    notes = forms.CharField(label=_("Notes"), required=False, max_length=2000)

    def __init__(self, *args: Any, models: list[Any], addresses: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self, "product_model", [(m.pk, f"{m.code} {m.display_name}") for m in models])
        _set_choices(self, "address", _blank([(a.pk, a.line) for a in addresses], _("No address")))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        purchased: dt.date | None = data.get("purchased_on")
        installed: dt.date | None = data.get("installed_on")
        if purchased and installed and installed < purchased:
            self.add_error("installed_on", _("Installation cannot come before the purchase."))
        return data
