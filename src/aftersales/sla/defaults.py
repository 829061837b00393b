"""The shipped policies: the figures of the service documents (REQUIREMENTS.md §2–3).

Precedence among equally specific policies (lower wins) puts the stricter promise first: a phone
or chat contact must be answered at the channel's pace even when urgent; an urgent ticket is
answered in 5 minutes, a complaint in 15, whatever channel slower than that it came by. Plain
data, so the data migration and tests share it without importing models.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

MINUTE = 60
HOUR = 3600

# Online channels (the hotline, chat, social media, WeChat) are promised round the clock (7×24):
# their policies count on an always-open calendar. Field work (repair, installation) and the
# catch-all default keep the business calendar (`standard`: working days, holidays and 调休).
ONLINE_CALENDAR = "hotline-24x7"
ONLINE_CALENDAR_SPEC: dict[str, Any] = {
    "code": ONLINE_CALENDAR,
    "name": "7×24 小时热线",
    "name_en": "24×7 hotline",
    "follows_statutory_holidays": False,
    "is_always_open": True,
}
ONLINE_CHANNELS = ("phone", "chat", "social", "wechat")

STAGE_LIMITS = {
    "stage_accept": 5 * MINUTE,
    "stage_diagnose": 1 * HOUR,
    "stage_propose": 2 * HOUR,
    "stage_complete": 24 * HOUR,
}

DEFAULT_POLICIES: list[dict[str, Any]] = [
    {
        "name": "默认",
        "name_en": "Default",
        "precedence": 1000,
        "first_response": 1 * HOUR,
        "next_response": 4 * HOUR,
        "resolution": 24 * HOUR,
        **STAGE_LIMITS,
    },
    {
        "name": "电话首响",
        "name_en": "Phone answer",
        "precedence": 10,
        "channel": "phone",
        "calendar": ONLINE_CALENDAR,
        "first_response": 60,
    },
    {
        "name": "在线客服首响",
        "name_en": "Chat answer",
        "precedence": 11,
        "channel": "chat",
        "calendar": ONLINE_CALENDAR,
        "first_response": 30,
    },
    {
        "name": "紧急",
        "name_en": "Urgent",
        "precedence": 20,
        "priority": "urgent",
        "first_response": 5 * MINUTE,
    },
    {
        "name": "投诉",
        "name_en": "Complaint",
        "precedence": 30,
        "ticket_type": "complaint",
        "first_response": 15 * MINUTE,
    },
    {
        "name": "社交媒体首响",
        "name_en": "Social media",
        "precedence": 40,
        "channel": "social",
        "calendar": ONLINE_CALENDAR,
        "first_response": 2 * HOUR,
    },
    {
        "name": "微信首响",
        "name_en": "WeChat",
        "precedence": 42,
        "channel": "wechat",
        "calendar": ONLINE_CALENDAR,
        "first_response": 2 * HOUR,
    },
    {
        "name": "邮件首响",
        "name_en": "E-mail",
        "precedence": 41,
        "channel": "email",
        "first_response": 4 * HOUR,
    },
    {"name": "维修", "name_en": "Repair", "precedence": 50, "ticket_type": "repair", "resolution": 72 * HOUR},
    {
        "name": "安装",
        "name_en": "Installation",
        "precedence": 51,
        "ticket_type": "installation",
        "on_site": 3 * HOUR,
        "resolution": 24 * HOUR,
    },
]

# (on, target or None, action): warn the supervisors; at a breach of the first response or the
# resolution, raise the priority and tell them.
DEFAULT_RULES: list[tuple[str, str | None, str]] = [
    ("warning", None, "notify_supervisor"),
    ("breach", "first_response", "raise_priority"),
    ("breach", "first_response", "notify_supervisor"),
    ("breach", "resolution", "raise_priority"),
    ("breach", "resolution", "notify_supervisor"),
]

TARGET_NAMES = (
    "first_response",
    "next_response",
    "resolution",
    "on_site",
    "stage_accept",
    "stage_diagnose",
    "stage_propose",
    "stage_complete",
)


def policy_values(
    spec: dict[str, Any], calendars: dict[str, Any] | None = None, *, has_english_name: bool = True
) -> dict[str, Any]:
    """Model field values for one policy spec (durations as ``timedelta``, the calendar code as
    the row from ``calendars``)."""
    values = {key: value for key, value in spec.items() if key not in TARGET_NAMES}
    if not has_english_name:
        values.pop("name_en", None)  # data migrations before sla.0004 see the model without it
    if "calendar" in values:
        values["calendar"] = (calendars or {}).get(values["calendar"])
    for target in TARGET_NAMES:
        if target in spec:
            values[target] = dt.timedelta(seconds=spec[target])
    return values


def rule_name(on: str, target: str | None, action: str) -> str:
    return f"{on}: {target or 'any'} → {action}"


def online_calendar(calendar_model: Any) -> Any:
    """The always-open calendar of the online channels, created if missing."""
    fields = {key: value for key, value in ONLINE_CALENDAR_SPEC.items() if key != "code"}
    calendar, _created = calendar_model.objects.get_or_create(code=ONLINE_CALENDAR, defaults=fields)
    return calendar


def install_defaults(policy_model: Any, rule_model: Any, calendar_model: Any) -> None:
    """Create the shipped policies and rules that are missing, and put the online channels'
    shipped policies that have no calendar on the 24×7 one (used by the data migrations and
    the demo seed; a calendar an administrator chose is kept)."""
    calendars = {ONLINE_CALENDAR: online_calendar(calendar_model)}
    has_english_name = any(field.name == "name_en" for field in policy_model._meta.get_fields())
    for spec in DEFAULT_POLICIES:
        values = policy_values(spec, calendars, has_english_name=has_english_name)
        policy, created = policy_model.objects.get_or_create(name=spec["name"], defaults=values)
        if not created and values.get("calendar") is not None and policy.calendar_id is None:
            policy_model.objects.filter(pk=policy.pk).update(calendar=values["calendar"])
    for on, target, action in DEFAULT_RULES:
        rule_model.objects.get_or_create(
            policy=None, on=on, target=target, action=action, defaults={"name": rule_name(on, target, action)}
        )
