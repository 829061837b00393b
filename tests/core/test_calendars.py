"""Business calendars in the database: services, caching, holiday import, warnings, admin."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from aftersales.core.business_time import (
    CalendarInvalid,
    check_statutory_schedules,
    default_calendar,
    engine_for,
)
from aftersales.core.calendar_services import (
    calendar_create,
    calendar_override_remove,
    calendar_override_set,
    calendar_update,
    statutory_year_import,
)
from aftersales.core.errors import ValidationFailed
from aftersales.core.models import AuditEvent, BusinessCalendar, StatutoryDay, StatutoryYear

SHANGHAI = ZoneInfo("Asia/Shanghai")
HOUR = 3600
NINE_TO_SIX = [(dt.time(9), dt.time(18))]
SCHEDULE_2027 = """\
# 国务院办公厅关于2027年部分节假日安排的通知 (test data)
2027-01-01 holiday 元旦
2027-02-06 workday 春节调休   # a Saturday
2027-02-08 holiday 春节
"""

pytestmark = pytest.mark.django_db


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI)


def test_default_calendars_exist():
    standard = default_calendar()
    assert standard.code == "standard"
    assert standard.follows_statutory_holidays and not standard.is_always_open
    assert engine_for(standard).add(local(2025, 9, 30, 17, 30), HOUR) == local(2025, 10, 9, 9, 30)
    hotline = BusinessCalendar.objects.get(code="hotline-24x7")
    assert engine_for(hotline).add(local(2025, 10, 1, 3), 60) == local(2025, 10, 1, 3, 1)


def test_engine_is_cached_until_the_calendar_changes(admin_user):
    calendar = calendar_create(code="shop", name="门店", actor=admin_user, weekly_hours={0: NINE_TO_SIX})
    engine = engine_for(calendar)
    assert engine_for(BusinessCalendar.objects.get(pk=calendar.pk)) is engine

    calendar_override_set(calendar=calendar, date=dt.date(2025, 11, 3), is_working=False, actor=admin_user)

    fresh = BusinessCalendar.objects.get(pk=calendar.pk)
    assert fresh.version == calendar.version
    assert engine_for(fresh) is not engine
    assert not engine_for(fresh).is_working(local(2025, 11, 3, 10))
    assert engine_for(fresh).is_working(local(2025, 11, 10, 10))


def test_override_with_hours_and_its_removal(admin_user):
    calendar = calendar_create(code="shop", name="门店", actor=admin_user, weekly_hours={0: NINE_TO_SIX})
    sunday = dt.date(2025, 11, 9)
    calendar_override_set(
        calendar=calendar,
        date=sunday,
        is_working=True,
        hours=[(dt.time(10), dt.time(12))],
        note="促销日",
        actor=admin_user,
    )
    assert engine_for(calendar).between(local(2025, 11, 9), local(2025, 11, 10)) == 2 * HOUR

    assert calendar_override_remove(calendar=calendar, date=sunday, actor=admin_user) == 1
    assert engine_for(calendar).between(local(2025, 11, 9), local(2025, 11, 10)) == 0
    actions = list(AuditEvent.objects.filter(object_id=str(calendar.pk)).values_list("action", flat=True))
    assert actions == ["calendar.override_remove", "calendar.override_set", "calendar.create"]


def test_update_replaces_weekly_hours_and_is_audited(admin_user):
    calendar = calendar_create(code="shop", name="门店", actor=admin_user, weekly_hours={0: NINE_TO_SIX})
    calendar_update(
        calendar=calendar,
        actor=admin_user,
        name_en="Shop",
        weekly_hours={day: [(dt.time(8), dt.time(12)), (dt.time(13), dt.time(17))] for day in range(6)},
    )
    assert engine_for(calendar).between(local(2025, 11, 8), local(2025, 11, 9)) == 8 * HOUR  # Saturday
    event = AuditEvent.objects.filter(action="calendar.update").get()
    assert event.before["hours"] == {"0": ["09:00-18:00"]}
    assert event.after["name_en"] == "Shop"


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"weekly_hours": {}}, "calendar_no_working_time"),
        ({"weekly_hours": {0: [(dt.time(18), dt.time(9))]}}, "calendar_interval_inverted"),
        (
            {"weekly_hours": {0: [(dt.time(9), dt.time(12)), (dt.time(11), dt.time(18))]}},
            "calendar_interval_overlap",
        ),
        ({"weekly_hours": {0: NINE_TO_SIX}, "time_zone": "Asia/Beijing"}, "calendar_time_zone_unknown"),
    ],
)
def test_bad_calendars_are_refused_and_nothing_is_written(admin_user, kwargs, code):
    with pytest.raises(CalendarInvalid) as refused:
        calendar_create(code="bad", name="坏", actor=admin_user, **kwargs)
    assert refused.value.code == code
    assert refused.value.status == 422
    assert not BusinessCalendar.objects.filter(code="bad").exists()
    assert not AuditEvent.objects.filter(action="calendar.create").exists()


def test_removing_all_hours_is_refused(admin_user):
    calendar = calendar_create(code="shop", name="门店", actor=admin_user, weekly_hours={0: NINE_TO_SIX})
    with pytest.raises(CalendarInvalid):
        calendar_update(calendar=calendar, actor=admin_user, weekly_hours={})
    assert calendar.working_hours.count() == 1


# --------------------------------------------------------------------------- statutory schedules


def test_import_2027_is_honoured_by_every_calendar(admin_user):
    standard = default_calendar()
    assert engine_for(standard).is_working(local(2027, 1, 1, 10))  # weekly hours only

    statutory_year_import(year=2027, text=SCHEDULE_2027, actor=admin_user)

    standard = default_calendar()
    engine = engine_for(standard)
    assert not engine.is_working(local(2027, 1, 1, 10))
    assert engine.is_working(local(2027, 2, 6, 10))
    assert engine.add(local(2027, 2, 5, 17), 2 * HOUR) == local(2027, 2, 6, 10)
    event = AuditEvent.objects.get(action="statutory_year.import")
    assert event.after["holidays"] == 2 and event.after["workdays"] == 1


def test_reimport_replaces_the_year(admin_user):
    statutory_year_import(year=2027, text=SCHEDULE_2027, actor=admin_user)
    statutory_year_import(year=2027, text="2027-10-01 holiday 国庆节\n", actor=admin_user)
    assert list(StatutoryDay.objects.values_list("date", flat=True)) == [dt.date(2027, 10, 1)]
    assert StatutoryYear.objects.get().year == 2027


def test_bad_schedule_lines_are_refused_with_line_numbers_and_nothing_imported(admin_user):
    text = "\n".join(
        [
            "2027-01-01 holiday 元旦",
            "2027-13-01 holiday 不存在",
            "2027-01-02 vacation",
            "2026-12-31 holiday 去年",
            "2027-02-08 workday 周一",
            "2027-01-01 holiday 重复",
            "nonsense",
        ]
    )
    with pytest.raises(ValidationFailed) as refused:
        statutory_year_import(year=2027, text=text, actor=admin_user)
    assert [problem["line"] for problem in refused.value.details["problems"]] == [2, 3, 4, 5, 6, 7]
    assert not StatutoryDay.objects.exists()
    assert not StatutoryYear.objects.exists()


def test_import_holidays_command(tmp_path):
    schedule = tmp_path / "2027.txt"
    schedule.write_text(SCHEDULE_2027, encoding="utf-8")
    out = StringIO()
    call_command("import_holidays", "--year", "2027", str(schedule), stdout=out)
    assert "2 holidays, 1 adjusted working days" in out.getvalue()
    assert StatutoryYear.objects.filter(year=2027).exists()

    schedule.write_text("2027-03-01 holiday\n2027-03-02 party\n", encoding="utf-8")
    with pytest.raises(CommandError, match="line 2"):
        call_command("import_holidays", "--year", "2027", str(schedule))
    assert StatutoryDay.objects.filter(date__year=2027).count() == 3


@time_machine.travel(dt.datetime(2026, 11, 24, 10, tzinfo=SHANGHAI), tick=False)
def test_system_check_warns_about_an_unloaded_coming_year(admin_user):
    warnings = check_statutory_schedules()
    assert [warning.id for warning in warnings] == ["core.W001"]
    assert "2027" in warnings[0].msg

    statutory_year_import(year=2027, text=SCHEDULE_2027, actor=admin_user)

    assert check_statutory_schedules() == []


@time_machine.travel(dt.datetime(2026, 6, 1, 10, tzinfo=SHANGHAI), tick=False)
def test_no_warning_while_the_library_covers_the_coming_months():
    assert check_statutory_schedules() == []


# --------------------------------------------------------------------------- admin


@time_machine.travel(dt.datetime(2026, 11, 24, 10, tzinfo=SHANGHAI), tick=False)
def test_admin_calendar_list_shows_the_missing_schedule_warning(client, admin_user):
    client.force_login(admin_user)
    response = client.get(reverse("admin:core_businesscalendar_changelist"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "No official holiday schedule loaded for 2027" in response.content.decode()


def test_admin_imports_a_schedule(client, admin_user):
    client.force_login(admin_user)
    url = reverse("admin:core_statutoryyear_add")
    bad = client.post(url, {"import_year": 2027, "schedule": "2027-01-01 holiday\n2027-01-02 nope\n"})
    assert bad.status_code == 200
    assert "line 2" in bad.content.decode()
    assert not StatutoryDay.objects.exists()

    good = client.post(url, {"import_year": 2027, "schedule": SCHEDULE_2027})
    assert good.status_code == 302
    assert StatutoryDay.objects.filter(date__year=2027).count() == 3
    assert AuditEvent.objects.filter(action="statutory_year.import", actor=admin_user).exists()


def _calendar_form(hours: list[tuple[int, str, str]], **fields: object) -> dict[str, object]:
    data: dict[str, object] = {
        "code": "shop",
        "name": "门店",
        "name_en": "",
        "time_zone": "Asia/Shanghai",
        "follows_statutory_holidays": "on",
        "working_hours-TOTAL_FORMS": str(len(hours)),
        "working_hours-INITIAL_FORMS": "0",
        "overrides-TOTAL_FORMS": "0",
        "overrides-INITIAL_FORMS": "0",
    }
    for index, (weekday, start, end) in enumerate(hours):
        data[f"working_hours-{index}-weekday"] = str(weekday)
        data[f"working_hours-{index}-start"] = start
        data[f"working_hours-{index}-end"] = end
    data.update(fields)
    return data


def test_admin_refuses_overlapping_hours_and_accepts_good_ones(client, admin_user):
    client.force_login(admin_user)
    url = reverse("admin:core_businesscalendar_add")
    overlapping = client.post(url, _calendar_form([(0, "09:00", "12:00"), (0, "11:00", "18:00")]))
    assert overlapping.status_code == 200
    assert not BusinessCalendar.objects.filter(code="shop").exists()

    empty = client.post(url, _calendar_form([]))
    assert empty.status_code == 200
    bad_zone = client.post(url, _calendar_form([(0, "09:00", "18:00")], time_zone="Beijing"))
    assert bad_zone.status_code == 200
    assert not BusinessCalendar.objects.filter(code="shop").exists()

    good = client.post(url, _calendar_form([(0, "09:00", "12:00"), (0, "13:00", "18:00")]))
    assert good.status_code == 302
    calendar = BusinessCalendar.objects.get(code="shop")
    assert calendar.version == 2
    assert engine_for(calendar).between(local(2025, 11, 3), local(2025, 11, 4)) == 8 * HOUR


def test_a_deleted_default_calendar_is_recreated_so_tickets_can_still_be_opened():
    from aftersales.core.business_time import default_calendar, engine_for
    from aftersales.core.models import AuditEvent, BusinessCalendar

    BusinessCalendar.objects.filter(code="standard").delete()
    calendar = default_calendar()
    assert calendar.code == "standard" and not calendar.is_always_open
    assert AuditEvent.objects.filter(object_type="core.businesscalendar", object_id=str(calendar.pk)).exists()
    monday_ten = dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC)  # 10:00 Beijing
    assert engine_for(calendar).add(monday_ten, 3600) == dt.datetime(2026, 3, 2, 3, 0, tzinfo=dt.UTC)


@pytest.mark.django_db(transaction=True)
def test_processes_recreating_the_default_calendar_at_once_all_get_it():
    import threading

    from django.db import connection

    BusinessCalendar.objects.filter(code="standard").delete()
    start = threading.Barrier(4)
    codes: list[str] = []
    errors: list[BaseException] = []

    def recreate() -> None:
        try:
            start.wait()
            codes.append(default_calendar().code)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=recreate) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert codes == ["standard"] * 4
    assert BusinessCalendar.objects.filter(code="standard").count() == 1
