"""The ticket search document (``tickets/search.py``) and its full-text index, per database.

PostgreSQL: a stored generated ``tsvector`` column ``document`` (public terms weight A, internal
notes D, ``simple`` configuration: our terms are taken as written) under a GIN index.

SQLite: an FTS5 table ``tickets_search_fts`` (rowid = ticket id) that the indexer keeps in step
with the rows of ``tickets_ticketsearchdocument``.

Tickets that exist before this migration are indexed by ``aftersales tickets_reindex`` (which
``seed_demo`` runs too); a migration must not import the app's current code.
"""

import django.db.models.deletion
from django.db import migrations, models


POSTGRES_FORWARD = (
    """
    ALTER TABLE tickets_ticketsearchdocument ADD COLUMN document tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple'::regconfig, public_terms), 'A')
        || setweight(to_tsvector('simple'::regconfig, note_terms), 'D')
    ) STORED
    """,
    "CREATE INDEX tickets_search_document_gin ON tickets_ticketsearchdocument USING gin (document)",
)
SQLITE_FORWARD = (
    """
    CREATE VIRTUAL TABLE tickets_search_fts USING fts5(
        public_terms, note_terms, tokenize = "unicode61 remove_diacritics 0"
    )
    """,
)


def create_index(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        statements = POSTGRES_FORWARD
    elif vendor == "sqlite":
        statements = SQLITE_FORWARD
    else:  # pragma: no cover - the project supports these two
        raise RuntimeError(f"ticket search: unsupported database {vendor}")
    for statement in statements:
        schema_editor.execute(statement)


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("DROP TABLE IF EXISTS tickets_search_fts")
    else:
        schema_editor.execute("DROP INDEX IF EXISTS tickets_search_document_gin")
        schema_editor.execute("ALTER TABLE tickets_ticketsearchdocument DROP COLUMN IF EXISTS document")


class Migration(migrations.Migration):

    dependencies = [
        ('tickets', '0003_message_event_data'),
    ]

    operations = [
        migrations.CreateModel(
            name='TicketSearchDocument',
            fields=[
                ('ticket', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='search_document', serialize=False, to='tickets.ticket')),
                ('public_terms', models.TextField(blank=True, default='')),
                ('note_terms', models.TextField(blank=True, default='')),
            ],
            options={
                'verbose_name': 'search document',
                'verbose_name_plural': 'search documents',
            },
        ),
        migrations.RunPython(create_index, drop_index),
    ]
