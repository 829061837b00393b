"""Native sequences behind ticket and customer numbers on PostgreSQL (SQLite uses NumberSequence)."""

from django.db import migrations

SEQUENCES = ("ticket", "customer")


def create_sequences(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in SEQUENCES:
        schema_editor.execute(f"CREATE SEQUENCE IF NOT EXISTS aftersales_{name}_seq")


def drop_sequences(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in SEQUENCES:
        schema_editor.execute(f"DROP SEQUENCE IF EXISTS aftersales_{name}_seq")


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]
    operations = [migrations.RunPython(create_sequences, drop_sequences)]
