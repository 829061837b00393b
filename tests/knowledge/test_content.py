"""The demo service manual (knowledge/content) and how the demo loads it; a retrieval floor in CI."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter

import pytest
from django.utils import timezone

from aftersales.assets.models import ProductModel
from aftersales.core.roles import Role
from aftersales.demo.catalogue import PRODUCTS
from aftersales.demo.knowledge import CONTENT_DIR, load_content, parse_articles, seed_knowledge
from aftersales.knowledge import search
from aftersales.knowledge.models import (
    Article,
    ArticleVersion,
    Manual,
    ManualEdition,
    ManualSection,
    SearchQueryLog,
    VersionStatus,
)

from ..factories import UserFactory

QUESTIONS = json.loads((CONTENT_DIR / "eval" / "questions.json").read_text(encoding="utf-8"))


def test_every_article_exists_in_both_languages_with_valid_references():
    content = load_content()
    zh, en = content.by_key("zh-hans"), content.by_key("en")
    assert len(zh) >= 60
    assert set(zh) == set(en)
    categories = {category["slug"] for category in content.categories}
    codes = {product.code for product in PRODUCTS}
    for spec in content.articles:
        assert spec.title and len(spec.title) <= 200, spec.key
        assert len(spec.body) > 150, spec.key
        assert len(spec.summary) <= 500, spec.key
        assert spec.category in categories, spec.key
        assert set(spec.products) <= codes, spec.key
        assert spec.audience in ("public", "internal"), spec.key
    chapters = content.manual["chapters"]
    manual_keys = [key for chapter in chapters for key in chapter["articles"]]
    assert len(manual_keys) == len(set(manual_keys))
    assert set(manual_keys) <= set(zh)
    assert all(zh[key].audience == "public" for key in manual_keys)  # the manual is public


def test_the_parser_reads_header_fields_and_keeps_the_body_whole():
    text = "ignored\n=== key: a\ntitle: T\ntags: x, y\n---\n## H\nbody | with: colon\n=== key: b\ntitle: U\n---\nB"
    blocks = parse_articles(text, "en")
    assert [b["key"] for b in blocks] == ["a", "b"]
    assert blocks[0]["title"] == "T" and blocks[0]["tags"] == "x, y"
    assert blocks[0]["body"] == "## H\nbody | with: colon"
    assert blocks[1]["body"] == "B"


def test_the_question_set_is_large_and_points_at_real_articles():
    keys = set(load_content().by_key("en"))
    per_language = Counter(question["locale"] for question in QUESTIONS)
    assert per_language["zh-hans"] >= 100 and per_language["en"] >= 100
    assert len({question["id"] for question in QUESTIONS}) == len(QUESTIONS)
    for question in QUESTIONS:
        assert set(question["expected"]) <= keys, question["id"]
        assert question["split"] in ("dev", "test")


def _products() -> None:
    for product in PRODUCTS:
        ProductModel.objects.get_or_create(
            code=product.code,
            defaults={"name": product.name, "name_en": product.name_en, "category": product.category},
        )


@pytest.mark.django_db
def test_seed_publishes_links_indexes_and_is_idempotent():
    _products()
    supervisor = UserFactory(role=Role.SUPERVISOR)
    anchor = timezone.now() - dt.timedelta(days=1)
    counts = seed_knowledge(anchor=anchor, actor=supervisor)
    content = load_content()
    assert counts["kb_articles"] == len(content.articles)
    assert Article.objects.filter(published_version__isnull=True).count() == 0
    groups = Counter(Article.objects.values_list("translation_group", flat=True))
    assert set(groups.values()) == {2}  # every article has exactly its one translation
    live = ArticleVersion.objects.filter(status=VersionStatus.PUBLISHED).count()
    assert live == len(content.articles)
    # Two articles per language carry a history: version 1 superseded by version 2.
    assert ArticleVersion.objects.filter(status=VersionStatus.SUPERSEDED).count() == 4
    shower = Article.objects.get(key="shower-temperature-unstable", locale="zh-hans")
    assert shower.published_version.number == 2
    assert set(shower.product_models.values_list("code", flat=True)) == {"LQ-HS-880"}
    # The manuals: chapters with sections bound to articles of their own language, and a first edition.
    for manual in Manual.objects.all():
        sections = ManualSection.objects.filter(manual=manual, parent__isnull=False)
        assert sections.count() == sum(len(c["articles"]) for c in content.manual["chapters"])
        assert set(sections.values_list("article__locale", flat=True)) == {manual.locale}
    assert ManualEdition.objects.count() == 2
    assert SearchQueryLog.objects.filter(results=0).count() == counts["kb_missing_searches"] > 0
    # Indexed: the public finds public articles, the internal standards only staff.
    assert search.article_search(query="恒温阀芯", locale="zh-hans").hits
    conduct = Article.objects.get(key="standard-onsite-conduct", locale="zh-hans")
    public = search.article_search(query="上门服务规范 鞋套", locale="zh-hans")
    staff = search.article_search(query="上门服务规范 鞋套", locale="zh-hans", audience="staff")
    assert conduct.pk not in [hit.article_id for hit in public.hits]
    assert staff.hits[0].article_id == conduct.pk
    again = seed_knowledge(anchor=anchor, actor=supervisor)
    assert again["kb_manual_editions"] == 0 and again["kb_missing_searches"] == 0
    assert Article.objects.count() == len(content.articles)


@pytest.mark.django_db
def test_retrieval_quality_does_not_regress():
    """recall@5 over the whole question set (both splits) must stay at or above 0.9 per language."""
    _products()
    seed_knowledge(anchor=timezone.now() - dt.timedelta(days=1), actor=None)
    keys = dict(Article.objects.values_list("pk", "key"))
    found: dict[str, list[bool]] = {"zh-hans": [], "en": []}
    for question in QUESTIONS:
        result = search.article_search(
            query=question["question"],
            locale=question["locale"],
            audience=question.get("audience", "public"),
            limit=5,
        )
        found[question["locale"]].append(
            any(keys[hit.article_id] in question["expected"] for hit in result.hits)
        )
    recall = {locale: sum(values) / len(values) for locale, values in found.items()}
    assert recall["zh-hans"] >= 0.9, recall
    assert recall["en"] >= 0.9, recall
