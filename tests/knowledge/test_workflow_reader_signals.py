"""What readers leave behind: feedback, search logs (→ missing articles), articles used on tickets
(→ top problems)."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import pytest
import time_machine
from django.db import connection

from aftersales.core.errors import PermissionDenied, ValidationFailed
from aftersales.core.models import AuditEvent
from aftersales.core.roles import Role
from aftersales.knowledge import selectors, services
from aftersales.knowledge.models import Article, ArticleFeedback, SearchQueryLog, TicketArticleUse
from tests.factories import TicketFactory, UserFactory, customer_user

from .core_factories import published_article, reviewer, writer

NOW = dt.datetime(2026, 5, 4, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def article(db):
    article, _v = published_article(actor=writer(), approver=reviewer())
    return article


def test_feedback_is_one_vote_per_session_and_counts_move_atomically(article):
    services.feedback_record(article=article, helpful=True, session_key="s1")
    services.feedback_record(article=article, helpful=True, session_key="s2")
    services.feedback_record(article=article, helpful=False, session_key="s1", comment="wrong model")
    article.refresh_from_db()
    assert (article.helpful_count, article.not_helpful_count) == (1, 1)
    assert ArticleFeedback.objects.count() == 2
    vote = ArticleFeedback.objects.get(session_key="s1")
    assert (vote.helpful, vote.comment, vote.version_id) == (
        False,
        "wrong model",
        article.published_version_id,
    )
    # Without a session or user every click counts (nothing to tie it to).
    services.feedback_record(article=article, helpful=True)
    article.refresh_from_db()
    assert article.helpful_count == 2
    assert AuditEvent.objects.filter(action__startswith="kb.feedback").count() == 4
    with pytest.raises(ValidationFailed):
        services.feedback_record(article=article, helpful=True, comment="x" * 2001)


def test_view_counts_add_up(article):
    for _ in range(3):
        services.article_view_count(article=article)
    assert Article.objects.get(pk=article.pk).view_count == 3


def test_search_log_normalises_and_missing_articles_groups_empty_searches(db):
    with time_machine.travel(NOW, tick=False):
        services.search_log(
            query="  马桶 漏水！ ", locale="zh-hans", audience="public", results=0, source="help"
        )
        services.search_log(query="马桶漏水", locale="zh-hans", audience="public", results=0, source="bot")
        services.search_log(query="马桶　漏水", locale="zh-hans", audience="public", results=0, source="help")
        services.search_log(query="Shower Head", locale="en", audience="public", results=0, source="help")
        services.search_log(query="shower  head?", locale="en", audience="public", results=0, source="api")
        services.search_log(query="filter", locale="en", audience="public", results=4, source="help")
        services.search_log(query="\x00\x01", locale="en", audience="public", results=0, source="help")
        services.search_log(query="x", locale="en", audience="public", results=0, source="nonsense")
    assert SearchQueryLog.objects.count() == 7  # the control-character query is not logged
    assert SearchQueryLog.objects.get(query="x").source == "api"
    rows = selectors.missing_articles(since=NOW - dt.timedelta(days=1))
    summary = [(row["normalized"], row["count"]) for row in rows]
    assert summary[:2] == [("马桶 漏水", 2), ("shower head", 2)] or summary[:2] == [
        ("shower head", 2),
        ("马桶 漏水", 2),
    ]
    assert ("filter", 1) not in summary
    assert [
        row["normalized"] for row in selectors.missing_articles(since=NOW + dt.timedelta(seconds=1))
    ] == []
    assert [
        row["normalized"] for row in selectors.missing_articles(since=NOW - dt.timedelta(days=1), locale="en")
    ][0] == "shower head"


def test_ticket_article_use_is_idempotent_and_feeds_top_problems(article, db):
    agent = UserFactory(role=Role.AGENT)
    other, _v = published_article(actor=writer(), approver=reviewer(), key="other", title="Other")
    tickets = [TicketFactory() for _ in range(3)]
    with time_machine.travel(NOW, tick=False):
        first = services.ticket_article_use(ticket=tickets[0], article=article, actor=agent, via="reply")
        again = services.ticket_article_use(ticket=tickets[0], article=article, actor=agent, via="reply")
        services.ticket_article_use(ticket=tickets[0], article=article, actor=None, via="bot")
        services.ticket_article_use(ticket=tickets[1], article=article, actor=agent, via="suggestion")
        services.ticket_article_use(ticket=tickets[2], article=other, actor=agent, via="reply")
    assert first.pk == again.pk and first.version_id == article.published_version_id
    assert TicketArticleUse.objects.count() == 4
    assert AuditEvent.objects.filter(action="kb.article.used").count() == 4
    with pytest.raises(PermissionDenied):
        services.ticket_article_use(ticket=tickets[1], article=other, actor=customer_user(), via="reply")
    with pytest.raises(ValidationFailed):
        services.ticket_article_use(ticket=tickets[1], article=other, actor=agent, via="carrier-pigeon")
    report = selectors.top_problems(since=NOW - dt.timedelta(hours=1), until=NOW + dt.timedelta(hours=1))
    assert [(row["article"].pk, row["tickets"], row["total"]) for row in report] == [
        (article.pk, 2, 3),
        (other.pk, 1, 1),
    ]
    assert report[0]["by_via"] == {"reply": 1, "bot": 1, "suggestion": 1}
    assert selectors.top_problems(since=NOW + dt.timedelta(hours=1), until=NOW + dt.timedelta(hours=2)) == []


@pytest.mark.django_db(transaction=True)
def test_concurrent_uses_of_the_same_article_record_one_row():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL")
    article, _v = published_article(actor=writer(), approver=reviewer())
    ticket = TicketFactory()
    agent = UserFactory(role=Role.AGENT)

    def use(_index: int) -> int:
        try:
            return services.ticket_article_use(ticket=ticket, article=article, actor=agent, via="reply").pk
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=4) as pool:
        ids = set(pool.map(use, range(8)))
    assert len(ids) == 1
    assert TicketArticleUse.objects.count() == 1
