"""Durations as people write and read them, in the admin and the console, in both languages."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import translation

from aftersales.core.durations import HumanDurationField, format_duration, parse_duration_text
from aftersales.sla.models import SlaPolicy

D = dt.timedelta


@pytest.mark.parametrize(
    ("value", "zh", "en"),
    [
        (D(days=3), "3 天", "3 days"),
        (D(days=1, hours=4), "1 天 4 小时", "1 day 4 hours"),
        (D(minutes=90), "1 小时 30 分钟", "1 hour 30 minutes"),
        (D(seconds=30), "30 秒", "30 seconds"),
        (D(0), "0 分钟", "0 minutes"),
    ],
)
def test_a_duration_reads_in_the_readers_language(value, zh, en):
    with translation.override("zh-hans"):
        assert format_duration(value) == zh
    with translation.override("en"):
        assert format_duration(value) == en
    assert "0:00" not in zh and "0:00" not in en


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3 天", D(days=3)),
        ("1 天 4 小时", D(days=1, hours=4)),
        ("1天4小时30分钟", D(days=1, hours=4, minutes=30)),
        ("3 days", D(days=3)),
        ("1 day, 4 hours", D(days=1, hours=4)),
        ("1d 4h", D(days=1, hours=4)),
        ("90 min", D(minutes=90)),
        ("1.5 h", D(minutes=90)),
        ("30 秒", D(seconds=30)),
        ("3 00:00:00", D(days=3)),
        ("01:30:00", D(minutes=90)),
    ],
)
def test_durations_are_parsed_from_either_language(text, expected):
    assert parse_duration_text(text) == expected


@pytest.mark.parametrize("text", ["soon", "3", "3 天 后", "天", "3 months", "1 d 4 x", "99999 days"])
def test_what_is_not_a_duration_is_refused(text):
    assert parse_duration_text(text) is None


def test_the_form_field_shows_and_refuses_in_the_readers_language():
    field = HumanDurationField()
    with translation.override("zh-hans"):
        assert field.prepare_value(D(days=1, hours=4)) == "1 天 4 小时"
        with pytest.raises(Exception, match="时长"):
            field.clean("soon")
    with translation.override("en"):
        assert field.prepare_value(D(days=3)) == "3 days"
        assert field.clean("2 hours") == D(hours=2)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "header", "shown", "name", "other_name"),
    [
        ("zh-hans", "售后服务管理平台", "3 天", "维修", "Repair"),
        ("en", "aftersales", "3 days", "Repair", "维修"),
    ],
)
def test_the_admin_is_branded_shows_durations_and_one_language_of_names(
    admin_user, language, header, shown, name, other_name
):
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(admin_user)

    page = client.get("/admin/sla/slapolicy/").content.decode()

    assert header in page and "Django" not in page.split("<body", 1)[1].split("<footer", 1)[0]
    assert shown in page  # the repair policy: resolution 72 hours
    assert "3 days, 0:00:00" not in page and "0:00:00" not in page
    repair = SlaPolicy.objects.get(name="维修")
    assert f">{name}</a>" in page and f">{other_name}</a>" not in page
    form = client.get(f"/admin/sla/slapolicy/{repair.pk}/change/").content.decode()
    assert f'value="{shown}"' in form


@pytest.mark.django_db
def test_the_admin_saves_a_duration_typed_in_chinese(admin_user):
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(admin_user)
    repair = SlaPolicy.objects.get(name="维修")
    data = {
        "name": "维修",
        "name_en": "Repair",
        "description": "",
        "precedence": repair.precedence,
        "is_active": "on",
        "calendar": "",
        "warn_at_percent": 75,
        "ticket_type": "repair",
        "priority": "",
        "customer_tier": "",
        "channel": "",
        "resolution": "2 天 12 小时",
    }

    response = client.post(f"/admin/sla/slapolicy/{repair.pk}/change/", data)

    assert response.status_code == 302, response.content.decode()[:3000]
    repair.refresh_from_db()
    assert repair.resolution == D(days=2, hours=12)
