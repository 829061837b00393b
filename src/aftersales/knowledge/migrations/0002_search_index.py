"""The full-text index of published articles (hand-written: it differs per database).

SQLite: ``knowledge_search_document`` is an FTS5 table whose text columns hold our own
space-separated terms (see ``knowledge/text.py``), ranked with FTS5's ``bm25()``; the article id
is the rowid; locale, audience, category, version and effective time ride along unindexed.

PostgreSQL: ``knowledge_search_document`` holds a ``tsvector`` built with the ``simple``
configuration from the same terms, weighted A (title), B (tags), C (summary), D (body), under a GIN
index.

Both: ``knowledge_search_term`` counts in how many indexed articles each term occurs (document
frequency: the IDF of the ranking, "did you mean" and the Chinese bigram fallback); the row with
the empty term counts the indexed documents.
"""

from django.db import migrations

SQLITE_FORWARD = (
    """
    CREATE VIRTUAL TABLE knowledge_search_document USING fts5(
        title, summary, body, tags,
        version_id UNINDEXED, locale UNINDEXED, audience UNINDEXED, category_id UNINDEXED,
        effective_at UNINDEXED,
        tokenize = "unicode61 remove_diacritics 0", prefix = '2 3'
    )
    """,
    """
    CREATE TABLE knowledge_search_term (
        term TEXT NOT NULL PRIMARY KEY,
        df INTEGER NOT NULL DEFAULT 0,
        surface TEXT NOT NULL DEFAULT '',
        script TEXT NOT NULL DEFAULT ''
    )
    """,
    "CREATE INDEX knowledge_search_term_script ON knowledge_search_term (script, term)",
)
POSTGRES_FORWARD = (
    """
    CREATE TABLE knowledge_search_document (
        article_id bigint PRIMARY KEY,
        version_id bigint NOT NULL,
        locale varchar(10) NOT NULL,
        audience varchar(10) NOT NULL,
        category_id bigint NULL,
        effective_at timestamptz NULL,
        document tsvector NOT NULL
    )
    """,
    "CREATE INDEX knowledge_search_document_gin ON knowledge_search_document USING gin (document)",
    "CREATE INDEX knowledge_search_document_filter ON knowledge_search_document (locale, audience)",
    """
    CREATE TABLE knowledge_search_term (
        term text NOT NULL PRIMARY KEY,
        df integer NOT NULL DEFAULT 0,
        surface text NOT NULL DEFAULT '',
        script varchar(1) NOT NULL DEFAULT ''
    )
    """,
    "CREATE INDEX knowledge_search_term_script ON knowledge_search_term (script, term)",
)
BACKWARD = (
    "DROP TABLE IF EXISTS knowledge_search_term",
    "DROP TABLE IF EXISTS knowledge_search_document",
)


def create_index(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        statements = SQLITE_FORWARD
    elif vendor == "postgresql":
        statements = POSTGRES_FORWARD
    else:  # pragma: no cover - the project supports these two
        raise RuntimeError(f"knowledge search: unsupported database {vendor}")
    for statement in statements:
        schema_editor.execute(statement)
    # Articles published before this migration (none in a fresh database) are indexed by
    # ``aftersales kb_reindex``; a migration must not import the app's current code.


def drop_index(apps, schema_editor):
    for statement in BACKWARD:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0001_initial")]

    operations = [migrations.RunPython(create_index, drop_index)]
