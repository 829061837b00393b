"""Domain events of the knowledge base (published by knowledge.services)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aftersales.core.models import User

    from .models import Article, ArticleFeedback, ArticleVersion, ManualEdition, TicketArticleUse


@dataclass(frozen=True)
class ArticleCreated:
    article: Article
    actor: User | None


@dataclass(frozen=True)
class VersionSubmitted:
    version: ArticleVersion
    actor: User | None


@dataclass(frozen=True)
class VersionRejected:
    version: ArticleVersion
    actor: User | None


@dataclass(frozen=True)
class VersionScheduled:
    """Approved with an effective time in the future; ``ArticlePublished`` follows when it is due."""

    version: ArticleVersion
    actor: User | None


@dataclass(frozen=True)
class ArticlePublished:
    """A version became the live one (published now, a scheduled one fell due, or a rollback)."""

    article: Article
    version: ArticleVersion
    previous: ArticleVersion | None
    actor: User | None
    rollback: bool = False


@dataclass(frozen=True)
class ArticleUnpublished:
    article: Article
    version: ArticleVersion
    actor: User | None


@dataclass(frozen=True)
class ManualEditionPublished:
    edition: ManualEdition
    actor: User | None


@dataclass(frozen=True)
class ArticleFeedbackRecorded:
    feedback: ArticleFeedback


@dataclass(frozen=True)
class ArticleUsedOnTicket:
    use: TicketArticleUse
