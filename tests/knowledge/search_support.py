"""Helpers for the search tests: articles published through KB-CORE's services."""

from __future__ import annotations

from collections.abc import Iterable

from aftersales.assets.models import ProductModel
from aftersales.core.models import User
from aftersales.core.roles import Role
from aftersales.knowledge import services
from aftersales.knowledge.models import Article, Category

from ..factories import UserFactory


def reviewer() -> User:
    return UserFactory(role=Role.SUPERVISOR, username="kb-reviewer@example.com")


def publish_article(
    *,
    key: str,
    title: str,
    body: str,
    locale: str = "zh-hans",
    summary: str = "",
    audience: str = "public",
    category: Category | None = None,
    product_models: Iterable[ProductModel] = (),
    tags: Iterable[str] = (),
    publish: bool = True,
) -> Article:
    user = reviewer()
    article = services.article_create(
        actor=user,
        locale=locale,
        key=key,
        title=title,
        body=body,
        summary=summary,
        category=category,
        product_models=product_models,
        tags=tags,
        audience=audience,
    )
    if publish:
        version = article.versions.get(number=1)
        services.version_submit(actor=user, version=version)
        services.version_publish(actor=user, version=version)
        article.refresh_from_db()
    return article


def new_version(article: Article, *, title: str, body: str, summary: str = "") -> None:
    user = reviewer()
    version = services.version_save_draft(
        actor=user, article=article, title=title, body=body, summary=summary
    )
    services.version_submit(actor=user, version=version)
    services.version_publish(actor=user, version=version)
    article.refresh_from_db()
