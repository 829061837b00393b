"""Console pages for the everyday settings a service manager changes: SLA policies (targets per
type, priority, tier and channel), business calendars (weekly hours, holidays and adjusted working
days) and teams (who is in them). Supervisors and administrators (``settings.edit``); every write
goes through the same services as the admin and the API, which validate, refuse with a translated
message and record an audit event.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from aftersales.core.business_time import engine_for, library_statutory_days
from aftersales.core.calendar_models import BusinessCalendar, StatutoryDay
from aftersales.core.calendar_services import (
    calendar_override_remove,
    calendar_override_set,
    calendar_update,
    parse_time_ranges,
)
from aftersales.core.durations import HumanDurationField, format_duration
from aftersales.core.errors import ApplicationError
from aftersales.core.models import Team, User
from aftersales.core.roles import STAFF_ROLES, Capability
from aftersales.core.services import team_member_add, team_member_remove
from aftersales.sla.models import TARGET_FIELDS, SlaPolicy, SlaTarget
from aftersales.sla.policies import POLICY_FIELDS, sla_policy_save

from .common import current_user, staff_required

NAV = "settings"
WEEKDAYS = (
    gettext_lazy("Monday"),
    gettext_lazy("Tuesday"),
    gettext_lazy("Wednesday"),
    gettext_lazy("Thursday"),
    gettext_lazy("Friday"),
    gettext_lazy("Saturday"),
    gettext_lazy("Sunday"),
)
UPCOMING_DAYS = 60
# The names ``chinese_calendar`` gives its holidays, in the reader's language.
HOLIDAY_NAMES = {
    "New Year's Day": gettext_lazy("New Year's Day"),
    "Spring Festival": gettext_lazy("Spring Festival"),
    "Tomb-sweeping Day": gettext_lazy("Tomb-sweeping Day"),
    "Labour Day": gettext_lazy("Labour Day"),
    "Dragon Boat Festival": gettext_lazy("Dragon Boat Festival"),
    "National Day": gettext_lazy("National Day"),
    "Mid-autumn Festival": gettext_lazy("Mid-autumn Festival"),
}


def _settings_user(request: HttpRequest) -> User:
    user = current_user(request)
    if not user.can(Capability.SETTINGS_EDIT):
        raise DjangoPermissionDenied
    return user


def _error_text(error: ApplicationError) -> str:
    details = [str(value) for value in (error.details or {}).values() if isinstance(value, str)]
    return " ".join([str(error.message), *details])


@staff_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    _settings_user(request)
    return render(
        request,
        "web/console/settings/index.html",
        {
            "nav": NAV,
            "policy_count": SlaPolicy.objects.filter(is_active=True).count(),
            "calendar_count": BusinessCalendar.objects.count(),
            "team_count": Team.objects.filter(is_active=True).count(),
        },
    )


# --- SLA policies --------------------------------------------------------------------------------


class SlaPolicyForm(forms.ModelForm):
    class Meta:
        model = SlaPolicy
        fields = POLICY_FIELDS
        field_classes = dict.fromkeys(TARGET_FIELDS.values(), HumanDurationField)

    def _post_clean(self) -> None:
        """No model validation here: the service's ``policy_validate`` holds the rules and words
        them for people (the database constraints' names are not a message)."""


def _policy_rows(policies: list[SlaPolicy]) -> list[dict[str, Any]]:
    rows = []
    for policy in policies:
        criteria = [
            str(label)
            for label in (
                policy.get_ticket_type_display() if policy.ticket_type else "",
                policy.get_priority_display() if policy.priority else "",
                policy.get_customer_tier_display() if policy.customer_tier else "",
                policy.get_channel_display() if policy.channel else "",
            )
            if label
        ]
        targets = [
            (SlaTarget(target).label, format_duration(value)) for target, value in policy.targets().items()
        ]
        rows.append({"policy": policy, "criteria": criteria, "targets": targets})
    return rows


@staff_required
@require_GET
def sla_policies(request: HttpRequest) -> HttpResponse:
    _settings_user(request)
    policies = list(SlaPolicy.objects.select_related("calendar").order_by("-is_active", "precedence", "name"))
    return render(
        request, "web/console/settings/sla_policies.html", {"nav": NAV, "rows": _policy_rows(policies)}
    )


@staff_required
@require_http_methods(["GET", "POST"])
def sla_policy_edit(request: HttpRequest, policy_id: int | None = None) -> HttpResponse:
    user = _settings_user(request)
    policy = None
    if policy_id is not None:
        policy = SlaPolicy.objects.filter(pk=policy_id).first()
        if policy is None:
            raise Http404
    form = SlaPolicyForm(request.POST or None, instance=policy)
    if request.method == "POST" and form.is_valid():
        values = {name: form.cleaned_data[name] for name in POLICY_FIELDS if name in form.cleaned_data}
        try:
            saved = sla_policy_save(
                actor=user, policy=SlaPolicy.objects.get(pk=policy.pk) if policy else None, **values
            )
        except ApplicationError as error:
            for name, message in (error.details or {}).items():
                if name in form.fields and isinstance(message, str):
                    form.add_error(name, message)
            if not (error.details or {}).keys() & form.fields.keys():
                form.add_error(None, _error_text(error))
            elif str(error.message) and str(error.message) != str(type(error).default_message):
                form.add_error(None, str(error.message))
        else:
            messages.success(request, _("Policy “%(name)s” saved.") % {"name": saved.display_name})
            return redirect("web:console-settings-sla")
    return render(
        request,
        "web/console/settings/sla_policy_form.html",
        {"nav": NAV, "form": form, "policy": policy, "target_fields": list(TARGET_FIELDS.values())},
    )


# --- calendars -----------------------------------------------------------------------------------


def _calendar(calendar_id: int) -> BusinessCalendar:
    calendar = (
        BusinessCalendar.objects.prefetch_related("working_hours", "overrides").filter(pk=calendar_id).first()
    )
    if calendar is None:
        raise Http404
    return calendar


def _ranges_text(ranges: list[tuple[dt.time, dt.time]]) -> str:
    return ", ".join(f"{start:%H:%M}-{end:%H:%M}" for start, end in ranges)


def _weekly(calendar: BusinessCalendar) -> list[list[tuple[dt.time, dt.time]]]:
    weekly: list[list[tuple[dt.time, dt.time]]] = [[] for _day in range(7)]
    for hours in sorted(calendar.working_hours.all(), key=lambda row: (row.weekday, row.start)):
        weekly[hours.weekday].append((hours.start, hours.end))
    return weekly


def _clock(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def _upcoming(calendar: BusinessCalendar, today: dt.date) -> list[dict[str, Any]]:
    """The days in the next weeks that differ from the usual week, as the SLA engine counts them:
    statutory holidays and adjusted working days (调休; imported or the library's) and the
    calendar's own exceptions, with the hours that apply."""
    if calendar.is_always_open:
        return []
    engine = engine_for(calendar)
    imported = dict(
        StatutoryDay.objects.filter(
            date__gte=today, date__lt=today + dt.timedelta(days=UPCOMING_DAYS)
        ).values_list("date", "name")
    )
    library = library_statutory_days()
    own = {row.date: row for row in calendar.overrides.all()}
    result = []
    for offset in range(UPCOMING_DAYS):
        date = today + dt.timedelta(days=offset)
        hours = tuple(engine.day_intervals(date))
        usual = tuple(engine.spec.weekly[date.weekday()])
        if hours == usual and date not in own:
            continue
        if date in own:
            kind, note = _("Exception of this calendar"), own[date].note
        elif not hours:
            kind, note = _("Statutory holiday"), imported.get(date) or library.get(date, (True, ""))[1]
        else:
            kind, note = _("Adjusted working day"), imported.get(date) or library.get(date, (False, ""))[1]
        note = str(HOLIDAY_NAMES.get(note, note))
        result.append(
            {
                "date": date,
                "weekday": WEEKDAYS[date.weekday()],
                "kind": kind,
                "note": note,
                "own": date in own,
                "hours": ", ".join(f"{_clock(a)}-{_clock(b)}" for a, b in hours) or _("closed"),
                "usual": ", ".join(f"{_clock(a)}-{_clock(b)}" for a, b in usual) or _("closed"),
            }
        )
    return result


class CalendarHoursForm(forms.Form):
    def __init__(
        self, *args: Any, weekly: list[list[tuple[dt.time, dt.time]]] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        for day, label in enumerate(WEEKDAYS):
            self.fields[f"day{day}"] = forms.CharField(
                label=label,
                required=False,
                max_length=200,
                initial=_ranges_text(weekly[day]) if weekly else "",
                help_text=gettext_lazy("e.g. 09:00-12:00, 13:00-18:00; empty: closed"),
            )


class CalendarOverrideForm(forms.Form):
    date = forms.DateField(label=gettext_lazy("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    is_working = forms.TypedChoiceField(
        label=gettext_lazy("That day"),
        choices=[("0", gettext_lazy("Closed")), ("1", gettext_lazy("Working"))],
        coerce=lambda value: value == "1",
    )
    hours = forms.CharField(
        label=gettext_lazy("Hours"),
        required=False,
        max_length=200,
        help_text=gettext_lazy("Working days only; empty: the usual Monday hours"),
    )
    note = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=200)


@staff_required
@require_GET
def calendars(request: HttpRequest) -> HttpResponse:
    _settings_user(request)
    rows = []
    for calendar in BusinessCalendar.objects.prefetch_related("working_hours").order_by("code"):
        weekly = _weekly(calendar)
        rows.append(
            {"calendar": calendar, "days": [(WEEKDAYS[d], _ranges_text(weekly[d])) for d in range(7)]}
        )
    return render(request, "web/console/settings/calendars.html", {"nav": NAV, "rows": rows})


@staff_required
@require_http_methods(["GET", "POST"])
def calendar_detail(request: HttpRequest, calendar_id: int) -> HttpResponse:
    user = _settings_user(request)
    calendar = _calendar(calendar_id)
    hours_form = CalendarHoursForm(weekly=_weekly(calendar))
    override_form = CalendarOverrideForm()
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "hours":
                hours_form = CalendarHoursForm(request.POST, weekly=_weekly(calendar))
                if hours_form.is_valid():
                    weekly_hours = {
                        day: parse_time_ranges(hours_form.cleaned_data[f"day{day}"]) for day in range(7)
                    }
                    calendar_update(calendar=calendar, actor=user, weekly_hours=weekly_hours)
                    messages.success(request, _("Working hours saved."))
                    return redirect("web:console-settings-calendar", calendar_id=calendar.pk)
            elif action == "override":
                override_form = CalendarOverrideForm(request.POST)
                if override_form.is_valid():
                    data = override_form.cleaned_data
                    calendar_override_set(
                        calendar=calendar,
                        date=data["date"],
                        is_working=data["is_working"],
                        hours=parse_time_ranges(data["hours"]) if data["is_working"] else (),
                        note=data["note"],
                        actor=user,
                    )
                    messages.success(request, _("Exception saved."))
                    return redirect("web:console-settings-calendar", calendar_id=calendar.pk)
            elif action == "remove":
                try:
                    date = dt.date.fromisoformat(request.POST.get("date", ""))
                except ValueError:
                    messages.error(request, _("Choose a date."))
                else:
                    calendar_override_remove(calendar=calendar, date=date, actor=user)
                    messages.success(request, _("Exception removed."))
                    return redirect("web:console-settings-calendar", calendar_id=calendar.pk)
            else:
                messages.error(request, _("Unknown action."))
        except ApplicationError as error:
            messages.error(request, _error_text(error))
        calendar = _calendar(calendar_id)
    return render(
        request,
        "web/console/settings/calendar.html",
        {
            "nav": NAV,
            "calendar": calendar,
            "hours_form": hours_form,
            "override_form": override_form,
            "upcoming": _upcoming(calendar, timezone.localdate()),
            "upcoming_days": UPCOMING_DAYS,
        },
    )


# --- teams ---------------------------------------------------------------------------------------


def _staff_queryset() -> Any:
    return User.objects.filter(is_active=True, role__in=list(STAFF_ROLES)).order_by(
        "display_name", "username"
    )


@staff_required
@require_GET
def teams(request: HttpRequest) -> HttpResponse:
    _settings_user(request)
    rows = (
        Team.objects.select_related("lead")
        .prefetch_related(Prefetch("members", queryset=User.objects.order_by("display_name", "username")))
        .order_by("code")
    )
    return render(request, "web/console/settings/teams.html", {"nav": NAV, "teams": rows})


class TeamMemberForm(forms.Form):
    user = forms.ModelChoiceField(label=gettext_lazy("Member of staff"), queryset=User.objects.none())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["user"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = _staff_queryset()


@staff_required
@require_http_methods(["GET", "POST"])
def team_detail(request: HttpRequest, team_id: int) -> HttpResponse:
    user = _settings_user(request)
    team = Team.objects.select_related("lead").filter(pk=team_id).first()
    if team is None:
        raise Http404
    form = TeamMemberForm()
    if request.method == "POST":
        form = TeamMemberForm(request.POST)
        if form.is_valid():
            member = form.cleaned_data["user"]
            try:
                if request.POST.get("action") == "remove":
                    changed = team_member_remove(team=team, user=member, actor=user)
                    text = _("%(name)s left the team.") if changed else _("%(name)s was not in the team.")
                else:
                    changed = team_member_add(team=team, user=member, actor=user)
                    text = (
                        _("%(name)s joined the team.") if changed else _("%(name)s is in the team already.")
                    )
            except ApplicationError as error:
                messages.error(request, _error_text(error))
            else:
                messages.success(request, text % {"name": str(member)})
                return redirect("web:console-settings-team", team_id=team.pk)
    members = list(team.members.order_by("display_name", "username"))
    member_ids = {m.pk for m in members}
    candidates = [u for u in _staff_queryset() if u.pk not in member_ids]
    return render(
        request,
        "web/console/settings/team.html",
        {"nav": NAV, "team": team, "members": members, "candidates": candidates, "form": form},
    )
