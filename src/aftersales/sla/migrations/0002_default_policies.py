"""The shipped SLA policies and escalation rules (figures of the service documents)."""

from django.db import migrations

from aftersales.sla.defaults import DEFAULT_POLICIES, DEFAULT_RULES, install_defaults


def forwards(apps, schema_editor):
    install_defaults(
        apps.get_model("sla", "SlaPolicy"),
        apps.get_model("sla", "SlaEscalationRule"),
        apps.get_model("core", "BusinessCalendar"),
    )


def backwards(apps, schema_editor):
    apps.get_model("sla", "SlaPolicy").objects.filter(name__in=[p["name"] for p in DEFAULT_POLICIES]).delete()
    rules = apps.get_model("sla", "SlaEscalationRule")
    for on, target, action in DEFAULT_RULES:
        rules.objects.filter(policy=None, on=on, target=target, action=action).delete()


class Migration(migrations.Migration):
    dependencies = [("sla", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
