"""Online channels run round the clock: the shipped phone, chat, social-media and WeChat policies
count on the always-open 24×7 calendar (created if missing); field work keeps ``standard``.

For databases that ran ``0002`` before these policies had a calendar. A calendar an administrator
already set on one of them is kept.
"""

from django.db import migrations

from aftersales.sla.defaults import DEFAULT_POLICIES, ONLINE_CHANNELS, install_defaults

ADDED_POLICIES = ["微信首响 / WeChat"]


def forwards(apps, schema_editor):
    install_defaults(
        apps.get_model("sla", "SlaPolicy"),
        apps.get_model("sla", "SlaEscalationRule"),
        apps.get_model("core", "BusinessCalendar"),
    )


def backwards(apps, schema_editor):
    policies = apps.get_model("sla", "SlaPolicy")
    policies.objects.filter(name__in=ADDED_POLICIES).delete()
    online = [spec["name"] for spec in DEFAULT_POLICIES if spec.get("channel") in ONLINE_CHANNELS]
    policies.objects.filter(name__in=online).update(calendar=None)


class Migration(migrations.Migration):
    dependencies = [("sla", "0002_default_policies"), ("core", "0004_default_calendars")]

    operations = [migrations.RunPython(forwards, backwards)]
