"""Forms of the knowledge-base editor console (parsing only; the services decide)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from aftersales.assets.models import ProductModel

from .models import Article, Audience, Category, Locale
from .selectors import EDITOR_STATUS_FILTERS

STATUS_LABELS = {
    "published": _("Published"),
    "unpublished": _("Not published"),
    "draft": _("Has a draft"),
    "review": _("In review"),
    "scheduled": _("Scheduled"),
    "rejected": _("Rejected"),
}


class ArticleFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any status")), *[(key, STATUS_LABELS[key]) for key in EDITOR_STATUS_FILTERS]],
    )
    locale = forms.ChoiceField(
        label=_("Language"), required=False, choices=[("", _("Any language")), *Locale.choices]
    )
    category = forms.ModelChoiceField(
        label=_("Category"), required=False, queryset=Category.objects.all(), empty_label=_("Any category")
    )
    q = forms.CharField(label=_("Search"), required=False, max_length=200)


class VersionTextForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    summary = forms.CharField(label=_("Summary"), max_length=500, required=False)
    body = forms.CharField(
        label=_("Body (Markdown)"),
        required=False,
        max_length=200_000,
        widget=forms.Textarea(attrs={"rows": 18, "class": "mono"}),
    )
    change_note = forms.CharField(label=_("What changed"), max_length=500, required=False)


class ArticleClassForm(forms.Form):
    category = forms.ModelChoiceField(
        label=_("Category"), required=False, queryset=Category.objects.all(), empty_label=_("No category")
    )
    audience = forms.ChoiceField(label=_("Audience"), choices=Audience.choices, initial=Audience.PUBLIC)
    tags = forms.CharField(
        label=_("Tags"), required=False, max_length=600, help_text=_("Separate tags with commas.")
    )
    product_models = forms.ModelMultipleChoiceField(
        label=_("Product models"),
        required=False,
        queryset=ProductModel.objects.filter(is_active=True).order_by("code"),
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )

    def tag_names(self) -> list[str]:
        raw = self.cleaned_data.get("tags") or ""
        return [part.strip() for part in raw.replace("，", ",").split(",") if part.strip()]


class ArticleCreateForm(VersionTextForm, ArticleClassForm):
    locale = forms.ChoiceField(label=_("Language"), choices=Locale.choices)
    key = forms.SlugField(
        label=_("Key"),
        max_length=120,
        help_text=_("The address of the article: lower-case letters, digits and hyphens."),
    )
    translation_of = forms.ModelChoiceField(
        queryset=Article.objects.all(), required=False, widget=forms.HiddenInput
    )

    field_order = [
        "locale",
        "key",
        "title",
        "summary",
        "body",
        "category",
        "audience",
        "tags",
        "product_models",
    ]


class PublishForm(forms.Form):
    effective_at = forms.DateTimeField(
        label=_("Effective from"),
        required=False,
        help_text=_("Leave empty to publish now."),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
    )


class RejectForm(forms.Form):
    note = forms.CharField(label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))


class ManualForm(forms.Form):
    slug = forms.SlugField(label=_("Slug"), max_length=80)
    title_zh = forms.CharField(label=_("Chinese title"), max_length=200, required=False)
    title_en = forms.CharField(label=_("English title"), max_length=200, required=False)
    locale = forms.ChoiceField(label=_("Language"), choices=Locale.choices)
    audience = forms.ChoiceField(label=_("Audience"), choices=Audience.choices, initial=Audience.PUBLIC)


class SectionForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    article = forms.ModelChoiceField(
        label=_("Article"), required=False, queryset=Article.objects.none(), empty_label=_("No article")
    )
    parent = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args: Any, manual_locale: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        articles = Article.objects.order_by("key")
        if manual_locale:
            articles = articles.filter(locale=manual_locale)
        self.fields["article"].queryset = articles  # type: ignore[attr-defined]


class EditionForm(forms.Form):
    label = forms.CharField(label=_("Label"), max_length=40, required=False, help_text=_("Empty: v1, v2, …"))
