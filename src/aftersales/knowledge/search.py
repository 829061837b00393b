"""Full-text search over the live published versions of knowledge-base articles.

How it works (docs/knowledge-search.md tells the longer story):

* **Terms.** ``knowledge.text.tokenize`` cuts Chinese with jieba (search mode, product dictionary)
  and stems English with Snowball; the index stores those terms space-separated, so the database's
  own tokenizer only splits on spaces.
* **Index.** SQLite: an FTS5 table ranked with ``bm25()`` and column weights. PostgreSQL: a weighted
  ``tsvector`` (title A, tags B, summary C, body D) under a GIN index, ranked by a BM25-style sum
  ``Σ idf(t) · ts_rank(weights, document, t, 1)``: per-term ``ts_rank`` gives a saturating term
  frequency with field weights and document-length normalisation, the IDF comes from the
  ``knowledge_search_term`` document frequencies. Only the live published version of an article
  is ever indexed, so drafts never reach a customer.
* **Tolerance.** A query term unknown to the index is resolved, in this order: an English word
  being typed (the last word, or a short one) becomes a prefix query (``therm*`` / ``therm:*``);
  otherwise a fuzzy match against the index vocabulary (rapidfuzz, reported as
  ``corrected_query``), or the longest known prefix (``installat`` → ``instal``); an unknown
  Chinese word falls back to its character bigrams that the index knows. Domain synonyms
  (``dictionary/synonyms.txt``) widen the query at a lower weight.
* **Scale.** Terms found in more than 2 % of a large index (≥ 2,000 articles) do not select
  candidates when the query has rarer terms (they still count in the PostgreSQL score): the
  "common terms" cut-off that keeps a query over 100,000 articles within milliseconds.
"""

from __future__ import annotations

import datetime as dt
import math
import threading
import time
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rapidfuzz import fuzz, process

from aftersales.core.errors import ValidationFailed

from . import indexing, text
from .indexing import DOCUMENT_TABLE, DOCUMENTS_ROW, TERM_TABLE, index_article, index_articles, rebuild_index
from .models import Article, ArticleVersion, Audience, Category, Locale
from .snippets import make_snippet

__all__ = [
    "SearchHit",
    "SearchResult",
    "article_search",
    "index_article",
    "index_articles",
    "make_snippet",
    "rebuild_index",
    "tokenize",
]

tokenize = text.tokenize

# Column weights: SQLite bm25() takes one per FTS5 column (title, summary, body, tags, then the
# unindexed ones); PostgreSQL's ts_rank takes {D, C, B, A} = {body, summary, tags, title}.
SQLITE_WEIGHTS = (6.0, 2.0, 1.0, 2.0)
POSTGRES_WEIGHTS = "{0.2, 0.45, 0.6, 1.0}"
SYNONYM_WEIGHT = 0.5
# SQLite ranks this many best matches in the index and filters only them: (offset + limit) × 4 + 40.
SQLITE_WINDOW_FACTOR = 4
POSTGRES_MAX_CANDIDATES = 2000
SQLITE_WINDOW_EXTRA = 40
FALLBACK_WEIGHT = 0.7
MAX_QUERY_CHARS = 200
MAX_BASE_TERMS = 16
MAX_TERMS = 40
TOTAL_CAP = 1000  # the deepest offset a caller may page to
COMMON_MIN_DOCUMENTS = 2000
COMMON_SHARE = 0.02
FUZZY_CUTOFF = 80.0
CACHE_SECONDS = 60.0


@dataclass(frozen=True)
class SearchHit:
    article_id: int
    version_id: int
    locale: str
    title: str
    snippet_html: str  # <mark>…</mark> around matches, the rest escaped
    score: float
    category_id: int | None


@dataclass(frozen=True)
class SearchResult:
    hits: list[SearchHit]
    total: int
    query_terms: list[str]
    corrected_query: str | None


# --- the query plan ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Term:
    term: str
    weight: float = 1.0
    prefix: bool = False


@dataclass
class _Plan:
    terms: list[_Term] = field(default_factory=list)
    base: list[str] = field(default_factory=list)  # what the customer's words resolved to
    corrected_query: str | None = None
    highlight: set[str] = field(default_factory=set)  # words and terms to mark in snippets
    highlight_prefixes: set[str] = field(default_factory=set)

    def add(self, term: _Term) -> None:
        if len(self.terms) >= MAX_TERMS:
            return
        for index, known in enumerate(self.terms):
            if known.term == term.term and known.prefix == term.prefix:
                if term.weight > known.weight:
                    self.terms[index] = term
                return
        self.terms.append(term)


class _Vocabulary:
    """The index's English terms in memory, for prefix checks and "did you mean" (refreshed often)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loaded_at = -math.inf
        self._generation = -1
        self.terms: list[str] = []
        self.surfaces: dict[str, str] = {}

    def get(self) -> _Vocabulary:
        now = time.monotonic()
        if now - self._loaded_at < CACHE_SECONDS and self._generation == indexing.generation:
            return self
        with self._lock:
            if now - self._loaded_at >= CACHE_SECONDS or self._generation != indexing.generation:
                with connection.cursor() as cursor:
                    cursor.execute(f"SELECT term, surface FROM {TERM_TABLE} WHERE script = 'l' AND df > 0")  # noqa: S608
                    rows = cursor.fetchall()
                self.surfaces = {term: surface or term for term, surface in rows}
                self.terms = sorted(self.surfaces)
                self._loaded_at, self._generation = now, indexing.generation
        return self

    def has_prefix(self, prefix: str) -> bool:
        index = bisect_left(self.terms, prefix)
        return index < len(self.terms) and self.terms[index].startswith(prefix)


_vocabulary = _Vocabulary()


def _frequencies(terms: Iterable[str]) -> dict[str, int]:
    wanted = sorted(set(terms))
    if not wanted:
        return {}
    marks = ", ".join(["%s"] * len(wanted))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT term, df FROM {TERM_TABLE} WHERE term IN ({marks})", wanted)  # noqa: S608
        return {term: int(df) for term, df in cursor.fetchall()}


def _bigrams(word: str) -> list[str]:
    return [word[index : index + 2] for index in range(len(word) - 1)] if len(word) > 2 else []


def _plan(query: str) -> _Plan:
    plan = _Plan()
    tokens = text.token_spans(query)
    if not tokens:
        return plan
    base: list[text.Token] = []
    seen: set[str] = set()
    for token in tokens:
        if token.term not in seen and len(base) < MAX_BASE_TERMS:
            seen.add(token.term)
            base.append(token)
    synonyms = text.expand_synonyms([token.term for token in base])
    candidates = [token.term for token in base] + [term for group in synonyms for term in group]
    candidates += [
        bigram for token in base if text.is_cjk_term(token.term) for bigram in _bigrams(token.term)
    ]
    frequency = _frequencies(candidates)
    vocabulary: _Vocabulary | None = None
    typing_last = not query[-1:].isspace()
    corrections: list[tuple[int, int, str]] = []
    # A model number yields several terms over one span (lqhs880, hs880, 880, lq, hs): the most
    # specific one the index knows stands for it, so "LQ-HS-880" does not match every "LQ-" model.
    chosen_in_span: dict[tuple[int, int], str] = {}
    for token in base:
        if text.is_model_span(token.surface) and frequency.get(token.term):
            chosen_in_span.setdefault((token.start, token.end), token.term)
    for position, token in enumerate(base):
        term, surface = token.term, token.surface
        chosen = chosen_in_span.get((token.start, token.end))
        if chosen is not None and chosen != term:
            continue
        plan.highlight.add(surface)
        if frequency.get(term):
            plan.add(_Term(term))
            plan.base.append(term)
            plan.highlight.add(term)
            continue
        if text.is_cjk_term(term):
            for bigram in _bigrams(term):
                if frequency.get(bigram):
                    plan.add(_Term(bigram, FALLBACK_WEIGHT))
                    plan.base.append(bigram)
                    plan.highlight.add(bigram)
            continue
        if not text.is_latin_term(term) or len(surface) < 3:
            plan.add(_Term(term))  # a model number nobody has written about: it matches nothing
            continue
        vocabulary = vocabulary or _vocabulary.get()
        is_last = position == len(base) - 1 and tokens[-1].term == term
        if (is_last and typing_last) or len(surface) <= 5:
            root = term if vocabulary.has_prefix(term) else surface
            if vocabulary.has_prefix(root):
                plan.add(_Term(root, prefix=True))
                plan.base.append(root)
                plan.highlight_prefixes.add(root)
                continue
        replacement = _correct(term, surface, vocabulary)
        if replacement is not None:
            plan.add(_Term(replacement))
            plan.base.append(replacement)
            plan.highlight.add(replacement)
            shown = vocabulary.surfaces.get(replacement, replacement)
            plan.highlight.add(shown)
            corrections.append((token.start, token.end, shown))
            continue
        plan.add(_Term(term))
    for group in synonyms:
        for term in group:
            if frequency.get(term):
                plan.add(_Term(term, SYNONYM_WEIGHT))
                plan.highlight.add(term)
    if corrections:
        corrected, cursor = [], 0
        for start, end, word in corrections:
            corrected += [query[cursor:start], word]
            cursor = end
        corrected.append(query[cursor:])
        plan.corrected_query = "".join(corrected)
    return plan


def _correct(term: str, surface: str, vocabulary: _Vocabulary) -> str | None:
    """The index term an unknown English word most likely meant: fuzzy first, then a known prefix."""
    if len(surface) >= 4:
        choices = [
            candidate
            for candidate in vocabulary.terms
            if abs(len(candidate) - len(term)) <= 3 and candidate[:1] == term[:1]
        ]
        match = process.extractOne(term, choices, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
        if match is not None:
            return str(match[0])
    for length in range(len(surface) - 1, 4, -1):
        if surface[:length] in vocabulary.surfaces:
            return surface[:length]
    return None


# --- searching -----------------------------------------------------------------------------------


def _audiences(audience: str) -> list[str]:
    if audience == "public":
        return [Audience.PUBLIC]
    if audience == "staff":
        return [Audience.PUBLIC, Audience.INTERNAL]
    raise ValidationFailed(details={"audience": str(_("Choose public or staff."))})


def _category_ids(category_id: int) -> list[int]:
    """The category and everything below it."""
    found, frontier = [category_id], [category_id]
    while frontier:
        frontier = list(Category.objects.filter(parent_id__in=frontier).values_list("pk", flat=True))
        frontier = [pk for pk in frontier if pk not in found]
        found += frontier
    return found


def _idf(total: int, df: int) -> float:
    return math.log(1.0 + (total - df + 0.5) / (df + 0.5))


def article_search(
    *,
    query: str,
    locale: str | None = None,
    audience: str = "public",
    product_model_id: int | None = None,
    category_id: int | None = None,
    limit: int = 10,
    offset: int = 0,
) -> SearchResult:
    """Published articles matching ``query``, best first, with highlighted snippets.

    ``audience="public"`` sees published public articles; ``"staff"`` internal ones too. Nothing
    but the live published version of an article is ever in the index.
    """
    audiences = _audiences(audience)
    if locale is not None and locale not in Locale.values:
        raise ValidationFailed(details={"locale": str(_("Unknown language."))})
    limit = max(1, min(int(limit), 100))
    offset = max(0, min(int(offset), TOTAL_CAP))
    plan = _plan((query or "")[:MAX_QUERY_CHARS])
    if not plan.terms:
        return SearchResult(hits=[], total=0, query_terms=[], corrected_query=None)
    frequency = _frequencies([DOCUMENTS_ROW, *(term.term for term in plan.terms if not term.prefix)])
    total_documents = frequency.pop(DOCUMENTS_ROW, 0)
    match_terms, require_all = _matching_terms(plan.terms, frequency, total_documents)
    filters = _Filters(
        locale=locale,
        audiences=audiences,
        categories=_category_ids(category_id) if category_id is not None else None,
        product_model_id=product_model_id,
        now=timezone.now(),
    )
    search = _search_sqlite if connection.vendor == "sqlite" else _search_postgres
    rows, total = search(
        plan.terms, match_terms, require_all, frequency, total_documents, filters, limit, offset
    )
    if not rows and require_all:
        rows, total = search(
            plan.terms, match_terms, False, frequency, total_documents, filters, limit, offset
        )
    hits = _hits(rows, plan)
    return SearchResult(
        hits=hits,
        total=max(total, offset + len(hits)) if hits else total,
        query_terms=list(dict.fromkeys(plan.base)),
        corrected_query=plan.corrected_query,
    )


def _matching_terms(
    terms: list[_Term], frequency: dict[str, int], total_documents: int
) -> tuple[list[_Term], bool]:
    """Which terms select candidates; whether all of them must be present (all common)."""
    if total_documents < COMMON_MIN_DOCUMENTS:
        return terms, False
    limit = COMMON_SHARE * total_documents
    rare = [term for term in terms if term.prefix or frequency.get(term.term, 0) <= limit]
    if rare:
        return rare, False
    return [term for term in terms if term.weight >= 1.0] or terms, True


@dataclass(frozen=True)
class _Filters:
    locale: str | None
    audiences: list[str]
    categories: list[int] | None
    product_model_id: int | None
    now: Any

    def sql(self, id_column: str, timestamp: Any) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        if self.locale is not None:
            clauses.append("locale = %s")
            params.append(self.locale)
        clauses.append(f"audience IN ({', '.join(['%s'] * len(self.audiences))})")
        params += self.audiences
        if self.categories is not None:
            clauses.append(f"category_id IN ({', '.join(['%s'] * len(self.categories))})")
            params += self.categories
        if self.product_model_id is not None:
            through = Article.product_models.through._meta.db_table
            clauses.append(f"{id_column} IN (SELECT article_id FROM {through} WHERE productmodel_id = %s)")  # noqa: S608
            params.append(self.product_model_id)
        clauses.append("(effective_at IS NULL OR effective_at <= %s)")
        params.append(timestamp)
        return " AND ".join(clauses), params

    def articles_sql(self) -> tuple[str, list[Any]]:
        """The ids of the articles these filters allow, from the articles table (SQLite's fallback)."""
        params: list[Any] = []
        sql = f"SELECT a.id FROM {Article._meta.db_table} a"  # noqa: S608
        if self.product_model_id is not None:
            through = Article.product_models.through._meta.db_table
            sql += f" JOIN {through} t ON t.article_id = a.id AND t.productmodel_id = %s"
            params.append(self.product_model_id)
        sql += f" WHERE a.audience IN ({', '.join(['%s'] * len(self.audiences))})"
        params += self.audiences
        if self.locale is not None:
            sql += " AND a.locale = %s"
            params.append(self.locale)
        if self.categories is not None:
            sql += f" AND a.category_id IN ({', '.join(['%s'] * len(self.categories))})"
            params += self.categories
        return sql, params


def _fts_phrase(term: _Term) -> str:
    quoted = '"' + term.term.replace('"', '""') + '"'
    return quoted + "*" if term.prefix else quoted


def _search_sqlite(
    terms: list[_Term],
    match_terms: list[_Term],
    require_all: bool,
    frequency: dict[str, int],
    total_documents: int,
    filters: _Filters,
    limit: int,
    offset: int,
) -> tuple[list[tuple[int, int, float]], int]:
    """FTS5 ranks inside the index (``ORDER BY rank`` with our bm25 weights), which never reads the
    stored rows; the filters (language, audience, category, product) read a row each, so they run on
    the best ``window`` matches only. When those do not fill the page, the full filtered query runs."""
    expression = (" AND " if require_all else " OR ").join(_fts_phrase(term) for term in match_terms)
    where, params = filters.sql("rowid", filters.now.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S"))
    rank = "bm25(" + ", ".join(str(weight) for weight in SQLITE_WEIGHTS) + ")"
    window = (offset + limit) * SQLITE_WINDOW_FACTOR + SQLITE_WINDOW_EXTRA
    with connection.cursor() as cursor:
        ranked: list[tuple[int, float]] = []
        if require_all:
            # Only common words: articles with all of them in the title or tags come first anyway
            # (title weight), and there are far fewer of them to rank than matches in the body.
            cursor.execute(
                f"SELECT rowid, rank FROM {DOCUMENT_TABLE} WHERE {DOCUMENT_TABLE} MATCH %s AND rank MATCH %s "  # noqa: S608
                "ORDER BY rank LIMIT %s",
                ["{title tags} : (" + expression + ")", rank, window],
            )
            ranked = [(int(rowid), float(score)) for rowid, score in cursor.fetchall()]
            if len(ranked) < window:
                ranked = []
        if not ranked:
            cursor.execute(
                f"SELECT rowid, rank FROM {DOCUMENT_TABLE} WHERE {DOCUMENT_TABLE} MATCH %s AND rank MATCH %s "  # noqa: S608
                "ORDER BY rank LIMIT %s",
                [expression, rank, window],
            )
            ranked = [(int(rowid), float(score)) for rowid, score in cursor.fetchall()]
        complete = len(ranked) < window  # every match is in hand
        if ranked:
            marks = ", ".join(["%s"] * len(ranked))
            cursor.execute(
                f"SELECT rowid, version_id FROM {DOCUMENT_TABLE} WHERE rowid IN ({marks}) AND {where}",  # noqa: S608
                [rowid for rowid, _score in ranked] + params,
            )
            allowed = dict(cursor.fetchall())
        else:
            allowed = {}
        kept = [(rowid, int(allowed[rowid]), -score) for rowid, score in ranked if rowid in allowed]
        if complete or len(kept) >= offset + limit:
            if complete:
                total = len(kept)
            else:  # more matches than the window: count them (index only; before the filters)
                cursor.execute(
                    f"SELECT count(*) FROM {DOCUMENT_TABLE} WHERE {DOCUMENT_TABLE} MATCH %s",  # noqa: S608
                    [expression],
                )
                total = int(cursor.fetchone()[0])
            return kept[offset : offset + limit], total
        # The page is not in the window (narrow filters): filter through the articles table first;
        # "+rowid" keeps FTS5 from looking every candidate up one by one.
        scope, scope_params = filters.articles_sql()
        matching = f"{DOCUMENT_TABLE} MATCH %s AND +rowid IN ({scope})"
        cursor.execute(
            f"SELECT rowid, rank FROM {DOCUMENT_TABLE} WHERE {matching} AND rank MATCH %s "  # noqa: S608
            "ORDER BY rank LIMIT %s OFFSET %s",
            [expression, *scope_params, rank, limit, offset],
        )
        page = [(int(rowid), float(score)) for rowid, score in cursor.fetchall()]
        cursor.execute(f"SELECT count(*) FROM {DOCUMENT_TABLE} WHERE {matching}", [expression, *scope_params])  # noqa: S608
        total = int(cursor.fetchone()[0])
        if page:
            marks = ", ".join(["%s"] * len(page))
            cursor.execute(
                f"SELECT rowid, version_id FROM {DOCUMENT_TABLE} WHERE rowid IN ({marks})",  # noqa: S608
                [rowid for rowid, _score in page],
            )
            versions = dict(cursor.fetchall())
        else:
            versions = {}
    rows = [(rowid, int(versions[rowid]), -score) for rowid, score in page if rowid in versions]
    return rows, total


def _tsquery(term: _Term) -> str:
    literal = "'" + term.term.replace("\\", "\\\\").replace("'", "''") + "'"
    return literal + ":*" if term.prefix else literal


def _search_postgres(
    terms: list[_Term],
    match_terms: list[_Term],
    require_all: bool,
    frequency: dict[str, int],
    total_documents: int,
    filters: _Filters,
    limit: int,
    offset: int,
) -> tuple[list[tuple[int, int, float]], int]:
    match = (" & " if require_all else " | ").join(_tsquery(term) for term in match_terms)
    where, params = filters.sql("article_id", filters.now)
    score_parts: list[str] = []
    score_params: list[Any] = []
    documents = max(total_documents, 1)
    for term in terms:
        df = frequency.get(term.term, 0) if not term.prefix else max(1, documents // 50)
        score_parts.append("%s * ts_rank(%s::float4[], document, %s::tsquery, 1)")
        score_params += [term.weight * _idf(documents, df), POSTGRES_WEIGHTS, _tsquery(term)]
    # Every match costs a visit to its row; a query of very common words on a large index matches
    # tens of thousands. Ranking considers at most POSTGRES_MAX_CANDIDATES of them (in storage
    # order); below that (every query on the demo manual) the ranking is exact.
    sql = (
        f"SELECT article_id, version_id, {' + '.join(score_parts)} AS score, count(*) OVER () "  # noqa: S608
        f"FROM (SELECT article_id, version_id, document FROM {DOCUMENT_TABLE} "
        f"WHERE document @@ %s::tsquery AND {where} LIMIT %s) AS candidates "
        "ORDER BY score DESC, article_id LIMIT %s OFFSET %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*score_params, match, *params, POSTGRES_MAX_CANDIDATES, limit, offset])
        fetched = cursor.fetchall()
    rows = [(int(a), int(v), float(score)) for a, v, score, _total in fetched]
    return rows, _total(fetched, offset)


def _total(fetched: Sequence[Sequence[Any]], offset: int) -> int:
    """All matches, counted by the window function of the ranking query itself (free: ranking has
    to score every match anyway); past the last page the count is unknown, so it is the offset."""
    return int(fetched[0][-1]) if fetched else offset


def _hits(rows: list[tuple[int, int, float]], plan: _Plan) -> list[SearchHit]:
    versions = {
        version.pk: version
        for version in ArticleVersion.objects.filter(pk__in=[version_id for _a, version_id, _s in rows])
        .select_related("article")
        .only(
            "pk",
            "title",
            "summary",
            "body",
            "article__id",
            "article__locale",
            "article__category_id",
            "article__published_version_id",
        )
    }
    hits = []
    for article_id, version_id, score in rows:
        version = versions.get(version_id)
        # An index row left behind by a deleted or re-published article is never shown.
        if (
            version is None
            or version.article_id != article_id
            or version.article.published_version_id != version_id
        ):
            continue
        hits.append(
            SearchHit(
                article_id=article_id,
                version_id=version_id,
                locale=version.article.locale,
                title=version.title,
                snippet_html=make_snippet(
                    text.markdown_to_text(version.body),
                    plan.highlight,
                    plan.highlight_prefixes,
                    fallback=version.summary,
                ),
                score=round(score, 6),
                category_id=version.article.category_id,
            )
        )
    return hits
