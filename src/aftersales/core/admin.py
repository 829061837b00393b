from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db import models
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext_lazy

from .business_time import (
    CalendarInvalid,
    Interval,
    check_intervals,
    check_time_zone,
    missing_schedule_message,
    time_to_seconds,
    upcoming_years_without_schedule,
)
from .calendar_models import BusinessCalendar, CalendarOverride, StatutoryDay, StatutoryYear, WorkingHours
from .calendar_services import calendar_touch, statutory_schedule_parse, statutory_year_import
from .durations import HumanDurationField
from .errors import ValidationFailed
from .login_throttle import LockoutMessageMixin
from .models import ApiToken, AuditEvent, Region, Team, User
from .services import audit_record
from .two_factor import totp_reset, two_factor_enabled


class ThrottledAdminAuthenticationForm(LockoutMessageMixin, AdminAuthenticationForm):
    """The admin's sign-in: the shared lockout message, and no way around the second step."""

    def confirm_login_allowed(self, user: Any) -> None:
        super().confirm_login_allowed(user)
        if two_factor_enabled(user):
            raise forms.ValidationError(
                _("This account uses two-step verification: sign in on the service desk's sign-in page."),
                code="two_factor_required",
            )


admin.site.login_form = ThrottledAdminAuthenticationForm
# The platform's name, not "Django 管理" / "Django administration", in both languages.
admin.site.site_header = pgettext_lazy("site name", "aftersales")
admin.site.site_title = pgettext_lazy("site name", "aftersales")
admin.site.index_title = _("Configuration")
admin.site.site_url = "/console/"


def _field_values(obj: Any) -> dict[str, Any]:
    return {
        field.attname: getattr(obj, field.attname)
        for field in obj._meta.concrete_fields
        if field.attname not in {"password", "last_login", "key_hash"}
    }


class AuditedModelAdmin(admin.ModelAdmin):
    """Configuration edited in the admin leaves the same audit trail as every other write.

    Durations are typed and shown as people write them ("3 天", "1 day 4 hours"; ``durations``).
    """

    formfield_overrides = {models.DurationField: {"form_class": HumanDurationField}}

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        before = _field_values(type(obj).objects.get(pk=obj.pk)) if change and obj.pk else {}
        super().save_model(request, obj, form, change)
        after = _field_values(obj)
        changed_before = {k: v for k, v in before.items() if after.get(k) != v}
        changed_after = {k: after[k] for k in changed_before} if change else after
        audit_record(
            actor=request.user,  # type: ignore[arg-type]
            obj=obj,
            action=f"admin.{'change' if change else 'add'}",
            before=changed_before,
            after=changed_after,
        )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        audit_record(actor=request.user, obj=obj, action="admin.delete", before=_field_values(obj))  # type: ignore[arg-type]
        super().delete_model(request, obj)


@admin.register(User)
class UserAdmin(AuditedModelAdmin, DjangoUserAdmin):
    list_display = ("username", "display_name", "role", "email", "is_active")
    list_filter = ("role", "is_active", "teams")
    search_fields = ("username", "display_name", "email", "phone")
    fieldsets = (
        *(DjangoUserAdmin.fieldsets or ()),
        (
            _("Service organisation"),
            {"fields": ("role", "display_name", "phone", "preferred_language", "regions", "skills")},
        ),
    )
    filter_horizontal = ("regions", "groups", "user_permissions")
    actions = ["reset_two_factor"]

    @admin.action(description=_("Reset two-step verification (the user sets it up again)"))
    def reset_two_factor(self, request: HttpRequest, queryset: Any) -> None:
        reset = sum(
            totp_reset(user=user, actor=request.user)  # type: ignore[arg-type]
            for user in queryset
        )
        self.message_user(
            request,
            ngettext(
                "Two-step verification reset for %(count)d user.",
                "Two-step verification reset for %(count)d users.",
                reset,
            )
            % {"count": reset},
        )


@admin.register(Region)
class RegionAdmin(AuditedModelAdmin):
    list_display = ("code", "name", "name_en", "level", "parent")
    list_filter = ("level",)
    search_fields = ("code", "name", "name_en")


@admin.register(Team)
class TeamAdmin(AuditedModelAdmin):
    list_display = ("code", "name", "kind", "lead", "is_active")
    list_filter = ("kind", "is_active")
    filter_horizontal = ("members", "regions")


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("occurred_at", "actor", "action", "object_type", "object_id", "object_label")
    list_filter = ("action", "object_type")
    search_fields = ("object_id", "object_label", "action")
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(AuditedModelAdmin):
    list_display = ("prefix", "user", "name", "created_at", "last_used_at", "expires_at", "is_active")
    readonly_fields = ("prefix", "key_hash", "created_at", "last_used_at")


# --------------------------------------------------------------------------- business calendars


def _warn_missing_schedules(request: HttpRequest) -> None:
    for year in upcoming_years_without_schedule():
        messages.warning(request, missing_schedule_message(year))


class _DayIntervalsFormSet(forms.BaseInlineFormSet):
    """Refuses inverted or overlapping hours on one day across the inline rows."""

    day_field = "weekday"

    def day_intervals(self) -> dict[Any, list[Interval]]:
        days: dict[Any, list[Interval]] = {}
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE"):
                continue
            days.setdefault(data.get(self.day_field), [])
            start, end = data.get("start"), data.get("end")
            if start is not None and end is not None:
                days[data.get(self.day_field)].append(
                    (time_to_seconds(start), time_to_seconds(end, is_end=True))
                )
        return days

    def clean(self) -> None:
        super().clean()
        for day, intervals in self.day_intervals().items():
            try:
                check_intervals(intervals, label=str(day))
            except CalendarInvalid as error:
                raise forms.ValidationError(f"{day}: {error.message}") from error


class _WorkingHoursFormSet(_DayIntervalsFormSet):
    def clean(self) -> None:
        super().clean()
        if not self.instance.is_always_open and not any(self.day_intervals().values()):
            raise forms.ValidationError(
                _("The calendar has no working time: add weekly hours or make it always open.")
            )


class _OverrideFormSet(_DayIntervalsFormSet):
    day_field = "date"

    def clean(self) -> None:
        super().clean()
        kinds: dict[Any, set[str]] = {}
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE"):
                continue
            has_start, has_end = data.get("start") is not None, data.get("end") is not None
            if has_start != has_end:
                raise forms.ValidationError(_("Give both start and end, or neither."))
            if not data.get("is_working") and has_start:
                raise forms.ValidationError(_("A closed day has no working hours."))
            kind = "hours" if has_start else ("open" if data.get("is_working") else "closed")
            kinds.setdefault(data.get("date"), set()).add(kind)
        for date, found in kinds.items():
            if len(found) > 1:
                raise forms.ValidationError(
                    _("%(date)s: a day is either closed, open with its usual hours, or has hours.")
                    % {"date": date}
                )


class WorkingHoursInline(admin.TabularInline):
    model = WorkingHours
    formset = _WorkingHoursFormSet
    extra = 0


class CalendarOverrideInline(admin.TabularInline):
    model = CalendarOverride
    formset = _OverrideFormSet
    extra = 0


class BusinessCalendarForm(forms.ModelForm):
    class Meta:
        model = BusinessCalendar
        fields = ["code", "name", "name_en", "time_zone", "follows_statutory_holidays", "is_always_open"]

    def clean_time_zone(self) -> str:
        value = str(self.cleaned_data["time_zone"]).strip()
        try:
            check_time_zone(value)
        except CalendarInvalid as error:
            raise forms.ValidationError(error.message) from error
        return value


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(AuditedModelAdmin):
    form = BusinessCalendarForm
    list_display = ("code", "name", "time_zone", "follows_statutory_holidays", "is_always_open", "version")
    search_fields = ("code", "name", "name_en")
    readonly_fields = ("version", "updated_at")
    inlines = [WorkingHoursInline, CalendarOverrideInline]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Every SLA without a calendar of its own counts on the default calendar.
        if obj is not None and obj.code == "standard":
            return False
        return super().has_delete_permission(request, obj)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        calendar = calendar_touch(calendar=form.instance)
        hours = [str(row) for row in calendar.working_hours.all()]
        overrides = [str(row) for row in calendar.overrides.all()]
        audit_record(
            actor=request.user,  # type: ignore[arg-type]
            obj=calendar,
            action="admin.calendar_hours",
            after={"hours": hours, "overrides": overrides},
        )

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> Any:
        _warn_missing_schedules(request)
        return super().changelist_view(request, extra_context)


class StatutoryYearImportForm(forms.ModelForm):
    """Adding a year imports its official schedule (replacing an earlier import of that year)."""

    import_year = forms.IntegerField(label=_("year"), min_value=1900, max_value=2999)
    schedule = forms.CharField(
        label=_("schedule"),
        required=False,
        widget=forms.Textarea(
            attrs={"rows": 20, "placeholder": "2027-01-01 holiday 元旦\n2027-02-06 workday 春节调休"}
        ),
        help_text=_("One day a line: DATE holiday|workday NAME; # starts a comment."),
    )
    schedule_file = forms.FileField(label=_("or a file"), required=False)

    class Meta:
        model = StatutoryYear
        fields: list[str] = []

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        upload = data.get("schedule_file")
        text = upload.read().decode("utf-8", errors="replace") if upload else data.get("schedule", "")
        year = data.get("import_year")
        if year is not None:
            try:
                statutory_schedule_parse(text=text, year=year)
            except ValidationFailed as error:
                problems = error.details.get("problems", [])
                raise forms.ValidationError(
                    [str(error.message)]
                    + [f"line {problem['line']}: {problem['error']}" for problem in problems]
                ) from error
        data["schedule_text"] = text
        return data


@admin.register(StatutoryYear)
class StatutoryYearAdmin(admin.ModelAdmin):
    list_display = ("year", "source", "loaded_at")

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = StatutoryYearImportForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ("year", "source", "loaded_at") if obj is not None else ()

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ("import_year", "schedule", "schedule_file")
        return ("year", "source", "loaded_at")

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        imported = statutory_year_import(
            year=form.cleaned_data["import_year"],
            text=form.cleaned_data["schedule_text"],
            actor=request.user,  # type: ignore[arg-type]
        )
        obj.pk, obj.year, obj.source, obj.loaded_at = (
            imported.pk,
            imported.year,
            imported.source,
            imported.loaded_at,
        )

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # re-import the year instead: deleting would leave its days behind

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> Any:
        _warn_missing_schedules(request)
        return super().changelist_view(request, extra_context)


@admin.register(StatutoryDay)
class StatutoryDayAdmin(admin.ModelAdmin):
    list_display = ("date", "is_holiday", "name", "source")
    list_filter = ("is_holiday", "source")
    date_hierarchy = "date"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
