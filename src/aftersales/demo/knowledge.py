"""The demo company's knowledge base: the 澜泉卫浴 standard service manual in Chinese and English.

The text lives in ``knowledge/content/`` as data: ``categories.json``, ``manual.json`` (chapters →
sections) and one Markdown file per group of articles and language. Each article block starts with
``=== key: <key>``, then ``name: value`` lines, a ``---`` line and the Markdown body. The English
file gives the same keys; category, products and audience come from the Chinese block, and the two
are linked as translations (one ``translation_group`` per key).

Articles are written in bulk as published version 1 (a couple of them with a second version, so
history and diffs have something to show) and indexed for search in one pass; the manual gets its
first edition through the knowledge services. Articles used on tickets and a few searches that
found nothing give the TOP-20 and missing-articles reports their data. Running it again adds
nothing that exists already.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from aftersales.assets.models import ProductModel
from aftersales.core.models import User
from aftersales.knowledge import search
from aftersales.knowledge.models import (
    Article,
    ArticleVersion,
    Category,
    KbTag,
    Manual,
    ManualEdition,
    ManualSection,
    SearchQueryLog,
    TicketArticleUse,
    VersionStatus,
)
from aftersales.tickets.models import Ticket

CONTENT_DIR = Path(search.__file__).resolve().parent / "content"
LOCALES = ("zh-hans", "en")
TRANSLATION_NAMESPACE = uuid.UUID("6f1d4c1e-5a3b-4d8e-9c2f-1b7a0e3d5c40")


@dataclass(frozen=True)
class ArticleSpec:
    key: str
    locale: str
    title: str
    summary: str
    body: str
    category: str = ""
    products: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    audience: str = "public"


@dataclass
class KnowledgeContent:
    categories: list[dict[str, str]] = field(default_factory=list)
    articles: list[ArticleSpec] = field(default_factory=list)
    manual: dict = field(default_factory=dict)

    def by_key(self, locale: str) -> dict[str, ArticleSpec]:
        return {spec.key: spec for spec in self.articles if spec.locale == locale}


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def parse_articles(text: str, locale: str) -> list[dict[str, str]]:
    """The article blocks of one content file, as dictionaries of their header fields and body."""
    blocks: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    body: list[str] = []
    in_header = False
    for line in text.splitlines():
        if line.startswith("=== key:"):
            if current is not None:
                current["body"] = "\n".join(body).strip()
                blocks.append(current)
            current, body, in_header = {"key": line.split(":", 1)[1].strip(), "locale": locale}, [], True
        elif current is None:
            continue
        elif in_header and line.strip() == "---":
            in_header = False
        elif in_header:
            name, _sep, value = line.partition(":")
            current[name.strip()] = value.strip()
        else:
            body.append(line)
    if current is not None:
        current["body"] = "\n".join(body).strip()
        blocks.append(current)
    return blocks


def load_content(directory: Path = CONTENT_DIR) -> KnowledgeContent:
    content = KnowledgeContent(
        categories=json.loads((directory / "categories.json").read_text(encoding="utf-8")),
        manual=json.loads((directory / "manual.json").read_text(encoding="utf-8")),
    )
    raw: dict[str, list[dict[str, str]]] = {}
    for locale in LOCALES:
        raw[locale] = []
        for path in sorted((directory / locale).glob("*.md")):
            raw[locale] += parse_articles(path.read_text(encoding="utf-8"), locale)
    primary = {block["key"]: block for block in raw[LOCALES[0]]}
    for locale in LOCALES:
        for block in raw[locale]:
            base = primary.get(block["key"], block)
            content.articles.append(
                ArticleSpec(
                    key=block["key"],
                    locale=locale,
                    title=block["title"],
                    summary=block.get("summary", ""),
                    body=block["body"],
                    category=block.get("category") or base.get("category", ""),
                    products=_split(block.get("products") or base.get("products", "")),
                    tags=_split(block.get("tags", "")),
                    audience=block.get("audience") or base.get("audience", "public"),
                )
            )
    return content


# Articles that get a second published version in the demo: (key, locale) → the text version 1 had.
_EARLIER_TEXT = {
    ("warranty-charges", "zh-hans"): ("| 远郊上门 | 每公里另加 2 元 |\n", ""),
    ("warranty-charges", "en"): ("| Outlying areas | CNY 2 per extra kilometre |\n", ""),
    ("shower-temperature-unstable", "zh-hans"): (
        "4. 若燃气热水器有“水量伺服”或“恒温”功能，将热水器温度调到 55℃ 以上。\n",
        "",
    ),
    ("shower-temperature-unstable", "en"): ("4. With a gas heater, set it to at least 55 °C.\n", ""),
}

# Searches customers made that found nothing (the "missing articles" report), with how often.
MISSING_SEARCHES = (
    ("按摩浴缸噪音很大", "zh-hans", 9),
    ("淋浴房玻璃自爆", "zh-hans", 7),
    ("燃气热水器有异味", "zh-hans", 5),
    ("浴缸能不能改成淋浴", "zh-hans", 4),
    ("马桶盖颜色定制", "zh-hans", 3),
    ("massage bathtub pump noise", "en", 4),
    ("shower screen glass shattered", "en", 3),
    ("gas water heater smell", "en", 2),
)


def _categories(specs: list[dict[str, str]]) -> dict[str, Category]:
    found: dict[str, Category] = {}
    for position, spec in enumerate(specs):
        category, _created = Category.objects.get_or_create(
            slug=spec["slug"],
            defaults={
                "name_zh": spec["name_zh"],
                "name_en": spec.get("name_en", ""),
                "parent": found.get(spec.get("parent", "")),
                "position": position,
            },
        )
        found[spec["slug"]] = category
    return found


def _tags(names: Iterable[str]) -> dict[str, KbTag]:
    wanted = sorted(set(names))
    existing = {tag.name: tag for tag in KbTag.objects.filter(name__in=wanted)}
    KbTag.objects.bulk_create(
        [KbTag(name=name) for name in wanted if name not in existing], ignore_conflicts=True
    )
    return {tag.name: tag for tag in KbTag.objects.filter(name__in=wanted)}


def _articles(
    content: KnowledgeContent, categories: dict[str, Category], author: User | None, published: dt.datetime
) -> list[Article]:
    """Create the articles that do not exist yet, published; all the demo's articles in order."""
    existing = {
        (a.key, a.locale): a for a in Article.objects.filter(key__in={s.key for s in content.articles})
    }
    models = {model.code: model for model in ProductModel.objects.all()}
    tags = _tags(tag for spec in content.articles for tag in spec.tags)
    created: list[tuple[Article, ArticleSpec]] = []
    for index, spec in enumerate(content.articles):
        if (spec.key, spec.locale) in existing:
            continue
        at = published + dt.timedelta(minutes=index)
        article = Article.objects.create(
            key=spec.key,
            locale=spec.locale,
            translation_group=uuid.uuid5(TRANSLATION_NAMESPACE, spec.key),
            category=categories.get(spec.category),
            audience=spec.audience,
            created_by=author,
            created_at=at,
            updated_at=at,
        )
        article.product_models.set([models[code] for code in spec.products if code in models])
        article.tags.set([tags[name] for name in spec.tags])
        created.append((article, spec))
        existing[(spec.key, spec.locale)] = article
    versions: list[ArticleVersion] = []
    for article, spec in created:
        earlier = _EARLIER_TEXT.get((spec.key, spec.locale))
        common = {"article": article, "title": spec.title, "summary": spec.summary, "author": author}
        stamps = {"reviewer": author, "submitted_at": article.created_at, "reviewed_at": article.created_at}
        if earlier is not None:
            old, new = earlier
            versions.append(
                ArticleVersion(
                    **common,
                    **stamps,
                    number=1,
                    body=spec.body.replace(old, new),
                    status=VersionStatus.SUPERSEDED,
                    published_at=article.created_at,
                    effective_at=article.created_at,
                    superseded_at=article.created_at + dt.timedelta(days=20),
                    created_at=article.created_at,
                    updated_at=article.created_at,
                )
            )
        at = article.created_at + dt.timedelta(days=20 if earlier is not None else 0)
        versions.append(
            ArticleVersion(
                **common,
                **stamps,
                number=2 if earlier is not None else 1,
                body=spec.body,
                status=VersionStatus.PUBLISHED,
                published_at=at,
                effective_at=at,
                created_at=at,
                updated_at=at,
                change_note="补充说明"
                if spec.locale == "zh-hans" and earlier
                else ("Clarified" if earlier else ""),
            )
        )
    ArticleVersion.objects.bulk_create(versions)
    live = {
        version.article_id: version.pk
        for version in ArticleVersion.objects.filter(
            article__in=[article for article, _spec in created], status=VersionStatus.PUBLISHED
        )
    }
    for article, _spec in created:
        article.published_version_id = live[article.pk]
    Article.objects.bulk_update([article for article, _spec in created], ["published_version"])
    search.index_articles([article.pk for article, _spec in created])
    return [existing[(spec.key, spec.locale)] for spec in content.articles]


def _manuals(content: KnowledgeContent, articles: dict[tuple[str, str], Article], actor: User | None) -> int:
    editions = 0
    for spec in content.manual["manuals"]:
        manual, created = Manual.objects.get_or_create(
            slug=spec["slug"],
            defaults={"title_zh": spec["title_zh"], "title_en": spec["title_en"], "locale": spec["locale"]},
        )
        if created:
            title_field = "title_zh" if manual.locale == "zh-hans" else "title_en"
            for position, chapter in enumerate(content.manual["chapters"], start=1):
                parent = ManualSection.objects.create(
                    manual=manual, position=position, title=chapter[title_field]
                )
                ManualSection.objects.bulk_create(
                    [
                        ManualSection(
                            manual=manual,
                            parent=parent,
                            position=number,
                            article=articles[(key, manual.locale)],
                        )
                        for number, key in enumerate(chapter["articles"], start=1)
                        if (key, manual.locale) in articles
                    ]
                )
        if actor is not None and not ManualEdition.objects.filter(manual=manual).exists():
            from aftersales.knowledge.manual_services import manual_publish_edition

            manual_publish_edition(actor=actor, manual=manual, label="v1")
            editions += 1
    return editions


# Words in a ticket's subject → the article an agent would have used on it.
def _article_for_ticket(ticket: Ticket, articles_zh: dict[str, Article]) -> Article | None:
    result = search.article_search(query=ticket.subject, locale="zh-hans", audience="staff", limit=1)
    if result.hits:
        return next((a for a in articles_zh.values() if a.pk == result.hits[0].article_id), None)
    return None


def _uses(rng: random.Random, articles_zh: dict[str, Article], limit: int = 400) -> int:
    if TicketArticleUse.objects.exists():
        return 0
    tickets = list(Ticket.objects.select_related("assignee").order_by("-id")[:limit])
    uses = []
    seen: set[tuple[int, int, str]] = set()
    for ticket in tickets:
        if rng.random() < 0.35:
            continue
        article = _article_for_ticket(ticket, articles_zh)
        if article is None:
            continue
        via = rng.choices(("reply", "suggestion", "bot"), weights=(6, 3, 1))[0]
        if (ticket.pk, article.pk, via) in seen:
            continue
        seen.add((ticket.pk, article.pk, via))
        uses.append(
            TicketArticleUse(
                ticket=ticket,
                article=article,
                version_id=article.published_version_id,
                used_by=ticket.assignee,
                via=via,
                created_at=ticket.created_at + dt.timedelta(minutes=rng.randint(10, 600)),
            )
        )
    TicketArticleUse.objects.bulk_create(uses, ignore_conflicts=True)
    return len(uses)


def _missing_searches(anchor: dt.datetime) -> int:
    if SearchQueryLog.objects.filter(results=0).exists():
        return 0
    from aftersales.knowledge.services import normalize_query

    logs = [
        SearchQueryLog(
            query=query,
            normalized=normalize_query(query),
            locale=locale,
            audience="public",
            results=0,
            source="help" if index % 3 else "bot",
            created_at=anchor - dt.timedelta(days=index % 20 + 1, hours=index),
        )
        for query, locale, times in MISSING_SEARCHES
        for index in range(times)
    ]
    SearchQueryLog.objects.bulk_create(logs)
    return len(logs)


@transaction.atomic
def seed_knowledge(*, anchor: dt.datetime, seed: int = 1, actor: User | None = None) -> dict[str, int]:
    """The demo manual, published and indexed, with its first edition and some report data."""
    rng = random.Random(seed)
    content = load_content()
    categories = _categories(content.categories)
    articles = _articles(content, categories, actor, anchor - dt.timedelta(days=60))
    by_key = {(article.key, article.locale): article for article in articles}
    editions = _manuals(content, by_key, actor)
    articles_zh = {key: article for (key, locale), article in by_key.items() if locale == "zh-hans"}
    return {
        "kb_articles": len(articles),
        "kb_manual_editions": editions,
        "kb_article_uses": _uses(rng, articles_zh),
        "kb_missing_searches": _missing_searches(anchor),
    }
