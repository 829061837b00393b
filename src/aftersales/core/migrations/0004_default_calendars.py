"""The default business calendars: ``standard`` (Mon–Fri 09:00–18:00, statutory holidays) and a
24×7 hotline calendar. ``core.business_time.default_calendar()`` returns ``standard``."""

import datetime as dt

from django.db import migrations

CALENDARS = [
    {
        "code": "standard",
        "name": "标准工作日",
        "name_en": "Standard working days",
        "follows_statutory_holidays": True,
        "is_always_open": False,
        "hours": [(weekday, dt.time(9), dt.time(18)) for weekday in range(5)],
    },
    {
        "code": "hotline-24x7",
        "name": "7×24 小时热线",
        "name_en": "24×7 hotline",
        "follows_statutory_holidays": False,
        "is_always_open": True,
        "hours": [],
    },
]


def create_calendars(apps, schema_editor):
    BusinessCalendar = apps.get_model("core", "BusinessCalendar")
    WorkingHours = apps.get_model("core", "WorkingHours")
    for spec in CALENDARS:
        fields = {key: value for key, value in spec.items() if key not in {"code", "hours"}}
        calendar, created = BusinessCalendar.objects.get_or_create(code=spec["code"], defaults=fields)
        if created:
            WorkingHours.objects.bulk_create(
                WorkingHours(calendar=calendar, weekday=weekday, start=start, end=end)
                for weekday, start, end in spec["hours"]
            )


def remove_calendars(apps, schema_editor):
    BusinessCalendar = apps.get_model("core", "BusinessCalendar")
    BusinessCalendar.objects.filter(code__in=[spec["code"] for spec in CALENDARS]).delete()


class Migration(migrations.Migration):
    dependencies = [("core", "0003_business_calendars")]
    operations = [migrations.RunPython(create_calendars, remove_calendars)]
