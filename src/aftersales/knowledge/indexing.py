"""Keeping the search index in step with the published articles (see ``knowledge/search.py``).

Only an article's live published version is indexed. Every change also keeps the document
frequencies of ``knowledge_search_term`` (and, in its empty-term row, the number of indexed
articles) up to date in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper

from . import text
from .models import Article, ArticleVersion, Locale, VersionStatus

DOCUMENT_TABLE = "knowledge_search_document"
TERM_TABLE = "knowledge_search_term"
MAX_BODY_TERMS = 6000
# The row of ``knowledge_search_term`` whose df is the number of indexed documents (N of the IDF):
# kept by the indexer in the same upsert as the terms, so a query never counts the index.
DOCUMENTS_ROW = ""
generation = 0  # bumped when this process changes the index: the search caches reload at once


def _invalidate() -> None:
    global generation
    generation += 1


@dataclass
class _Document:
    article_id: int
    version_id: int
    locale: str
    audience: str
    category_id: int | None
    effective_at: Any
    title: list[str]
    summary: list[str]
    body: list[str]
    tags: list[str]
    surfaces: dict[str, str]

    def terms(self) -> set[str]:
        return {*self.title, *self.summary, *self.body, *self.tags}


def _tokens(value: str, surfaces: dict[str, str], limit: int | None = None) -> list[str]:
    terms = []
    for token in text.token_spans(value):
        terms.append(token.term)
        if text.is_latin_term(token.term):
            surfaces.setdefault(token.term, token.surface)
        if limit is not None and len(terms) >= limit:
            break
    return terms


def _document(article: Article, version: ArticleVersion) -> _Document:
    surfaces: dict[str, str] = {}
    extra: list[str] = [tag.name for tag in article.tags.all()]
    for model in article.product_models.all():
        extra += [
            model.code,
            model.name if article.locale == Locale.ZH_HANS else (model.name_en or model.name),
        ]
    if article.category is not None:
        extra.append(article.category.name_for(article.locale))
    return _Document(
        article_id=article.pk,
        version_id=version.pk,
        locale=article.locale,
        audience=article.audience,
        category_id=article.category_id,
        effective_at=version.effective_at,
        title=_tokens(version.title, surfaces),
        summary=_tokens(version.summary, surfaces),
        body=_tokens(text.markdown_to_text(version.body), surfaces, MAX_BODY_TERMS),
        tags=_tokens(" ".join(extra), surfaces),
        surfaces=surfaces,
    )


def _script(term: str) -> str:
    if text.is_latin_term(term):
        return "l"
    return "c" if text.is_cjk_term(term) else "n"


def _remove(cursor: CursorWrapper, article_ids: list[int]) -> Counter[str]:
    """Delete the articles' index rows; the document frequencies to take back."""
    removed: Counter[str] = Counter()
    if not article_ids:
        return removed
    marks = ", ".join(["%s"] * len(article_ids))
    if connection.vendor == "sqlite":
        cursor.execute(
            f"SELECT title, summary, body, tags FROM {DOCUMENT_TABLE} WHERE rowid IN ({marks})",  # noqa: S608
            article_ids,
        )
        for row in cursor.fetchall():
            removed.update({term for column in row for term in (column or "").split()})
            removed[DOCUMENTS_ROW] += 1
        cursor.execute(f"DELETE FROM {DOCUMENT_TABLE} WHERE rowid IN ({marks})", article_ids)  # noqa: S608
    else:
        cursor.execute(
            f"SELECT tsvector_to_array(document) FROM {DOCUMENT_TABLE} WHERE article_id IN ({marks})",  # noqa: S608
            article_ids,
        )
        for (lexemes,) in cursor.fetchall():
            removed.update(set(lexemes))
            removed[DOCUMENTS_ROW] += 1
        cursor.execute(f"DELETE FROM {DOCUMENT_TABLE} WHERE article_id IN ({marks})", article_ids)  # noqa: S608
    return removed


def _insert(cursor: CursorWrapper, documents: list[_Document]) -> Counter[str]:
    added: Counter[str] = Counter()
    if not documents:
        return added
    if connection.vendor == "sqlite":
        cursor.executemany(
            f"INSERT INTO {DOCUMENT_TABLE} (rowid, title, summary, body, tags, version_id, locale, audience, "  # noqa: S608
            "category_id, effective_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [
                (
                    d.article_id,
                    " ".join(d.title),
                    " ".join(d.summary),
                    " ".join(d.body),
                    " ".join(d.tags),
                    d.version_id,
                    d.locale,
                    d.audience,
                    d.category_id,
                    d.effective_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
                    if d.effective_at
                    else None,
                )
                for d in documents
            ],
        )
    else:
        cursor.executemany(
            f"INSERT INTO {DOCUMENT_TABLE} (article_id, version_id, locale, audience, category_id, effective_at, "  # noqa: S608
            "document) VALUES (%s, %s, %s, %s, %s, %s, setweight(to_tsvector('simple', %s), 'A') || "
            "setweight(to_tsvector('simple', %s), 'B') || setweight(to_tsvector('simple', %s), 'C') || "
            "setweight(to_tsvector('simple', %s), 'D'))",
            [
                (
                    d.article_id,
                    d.version_id,
                    d.locale,
                    d.audience,
                    d.category_id,
                    d.effective_at,
                    " ".join(d.title),
                    " ".join(d.tags),
                    " ".join(d.summary),
                    " ".join(d.body),
                )
                for d in documents
            ],
        )
    for document in documents:
        added.update(document.terms())
    added[DOCUMENTS_ROW] += len(documents)
    return added


def _update_frequencies(
    cursor: CursorWrapper, added: Counter[str], removed: Counter[str], surfaces: dict[str, str]
) -> None:
    delta = Counter(added)
    delta.subtract(removed)
    changed = sorted(term for term, count in delta.items() if count)  # sorted: no deadlocks between writers
    if not changed:
        return
    cursor.executemany(
        f"INSERT INTO {TERM_TABLE} (term, df, surface, script) VALUES (%s, %s, %s, %s) "  # noqa: S608
        f"ON CONFLICT (term) DO UPDATE SET df = {TERM_TABLE}.df + excluded.df",
        [(term, delta[term], surfaces.get(term, ""), _script(term)) for term in changed],
    )
    gone = [term for term in changed if delta[term] < 0]
    for start in range(0, len(gone), 500):
        chunk = gone[start : start + 500]
        cursor.execute(
            f"DELETE FROM {TERM_TABLE} WHERE df <= 0 AND term IN ({', '.join(['%s'] * len(chunk))})",  # noqa: S608
            chunk,
        )


def _live(articles: Iterable[Article]) -> list[_Document]:
    documents = []
    for article in articles:
        version = article.published_version
        if (
            version is not None
            and version.status == VersionStatus.PUBLISHED
            and version.article_id == article.pk
        ):
            documents.append(_document(article, version))
    return documents


def _articles(article_ids: Sequence[int]) -> list[Article]:
    return list(
        Article.objects.filter(pk__in=article_ids)
        .select_related("published_version", "category")
        .prefetch_related("tags", "product_models")
        .order_by("pk")
    )


@transaction.atomic
def index_articles(article_ids: Sequence[int]) -> int:
    """(Re)index these articles' live published versions; an article without one leaves the index."""
    ids = sorted(set(article_ids))
    documents = _live(_articles(ids))
    with connection.cursor() as cursor:
        removed = _remove(cursor, ids)
        added = _insert(cursor, documents)
        surfaces: dict[str, str] = {}
        for document in documents:
            surfaces.update(document.surfaces)
        _update_frequencies(cursor, added, removed, surfaces)
    _invalidate()
    return len(documents)


def index_article(article_id: int) -> None:
    """(Re)index the article's live published version, or remove it from the index if it has none.

    Call it inside the transaction that publishes, rolls back or unpublishes: the index changes
    with the article or not at all.
    """
    index_articles([article_id])


@transaction.atomic
def rebuild_index(*, batch_size: int = 500) -> int:
    """Index every article's live published version from scratch; the number indexed."""
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {DOCUMENT_TABLE}")  # noqa: S608
        cursor.execute(f"DELETE FROM {TERM_TABLE}")  # noqa: S608
        ids = list(
            Article.objects.filter(published_version__isnull=False)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        added: Counter[str] = Counter()
        surfaces: dict[str, str] = {}
        indexed = 0
        for start in range(0, len(ids), batch_size):
            documents = _live(_articles(ids[start : start + batch_size]))
            added.update(_insert(cursor, documents))
            for document in documents:
                for term, surface in document.surfaces.items():
                    surfaces.setdefault(term, surface)
            indexed += len(documents)
        _update_frequencies(cursor, added, Counter(), surfaces)
    _invalidate()
    return indexed
