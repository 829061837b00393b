"""SLA policies get an English name beside the Chinese one, so each reader sees one language: the
shipped names were written "电话首响 / Phone answer"; they are split into ``name`` and ``name_en``
(any other policy named "中文 / English" the same way, unless the Chinese half is taken)."""

import re

from django.db import migrations, models

from aftersales.sla.defaults import DEFAULT_POLICIES

BOTH = re.compile(r"^\s*(?P<zh>.+?)\s+/\s+(?P<en>[^/]+?)\s*$")


def split_names(apps, schema_editor):
    policies = apps.get_model("sla", "SlaPolicy")
    taken = set(policies.objects.values_list("name", flat=True))
    for policy in policies.objects.filter(name_en="", name__contains=" / "):
        match = BOTH.match(policy.name)
        if match is None or match["zh"] in taken:
            continue
        taken.discard(policy.name)
        taken.add(match["zh"])
        policies.objects.filter(pk=policy.pk).update(name=match["zh"], name_en=match["en"])
    for spec in DEFAULT_POLICIES:
        policies.objects.filter(name=spec["name"], name_en="").update(name_en=spec["name_en"])


def join_names(apps, schema_editor):
    policies = apps.get_model("sla", "SlaPolicy")
    for policy in policies.objects.exclude(name_en=""):
        policies.objects.filter(pk=policy.pk).update(name=f"{policy.name} / {policy.name_en}"[:120])


class Migration(migrations.Migration):
    dependencies = [("sla", "0003_online_channels_24x7")]

    operations = [
        migrations.AddField(
            model_name="slapolicy",
            name="name_en",
            field=models.CharField(blank=True, max_length=120, verbose_name="English name"),
        ),
        migrations.RunPython(split_names, join_names),
    ]
