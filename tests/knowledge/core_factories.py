"""Helpers for the knowledge-base core tests: users by role and articles in each workflow state."""

from __future__ import annotations

import datetime as dt

from aftersales.core.models import User
from aftersales.core.roles import Role
from aftersales.knowledge import services
from aftersales.knowledge.models import Article, ArticleVersion
from tests.factories import UserFactory


def writer() -> User:
    return UserFactory(role=Role.AGENT)


def reviewer() -> User:
    return UserFactory(role=Role.SUPERVISOR)


def draft_article(
    *,
    actor: User,
    key: str = "reset-filter",
    locale: str = "en",
    title: str = "Reset the filter",
    body: str = "Turn off the water.\nOpen the cover.\nRinse the filter.",
    **kwargs: object,
) -> Article:
    return services.article_create(actor=actor, locale=locale, key=key, title=title, body=body, **kwargs)


def published_article(
    *, actor: User, approver: User, effective_at: dt.datetime | None = None, **kwargs: object
) -> tuple[Article, ArticleVersion]:
    article = draft_article(actor=actor, **kwargs)
    version = article.versions.get()
    services.version_submit(actor=actor, version=version)
    version = services.version_publish(actor=approver, version=version, effective_at=effective_at)
    article.refresh_from_db()
    return article, version


def new_revision(*, article: Article, actor: User, approver: User, title: str, body: str) -> ArticleVersion:
    version = services.version_save_draft(actor=actor, article=article, title=title, body=body)
    services.version_submit(actor=actor, version=version)
    return services.version_publish(actor=approver, version=version)
