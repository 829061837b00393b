"""The version workflow: draft → review → published, who may publish, immutability, rollback,
scheduled publication, translations, and the audit trail and search index that follow."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import IntegrityError, transaction
from django.utils import timezone

from aftersales.core import events
from aftersales.core.errors import Conflict, PermissionDenied, ValidationFailed
from aftersales.core.events import subscribe
from aftersales.core.models import AuditEvent
from aftersales.core.roles import Role
from aftersales.knowledge import search, services
from aftersales.knowledge.events import ArticlePublished
from aftersales.knowledge.models import Article, ArticleVersion, VersionStatus
from aftersales.knowledge.tasks import publish_due
from tests.factories import UserFactory

from .core_factories import draft_article, new_revision, published_article, reviewer, writer

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def _in_review(article: Article, actor) -> ArticleVersion:
    version = article.versions.get(status=VersionStatus.DRAFT)
    return services.version_submit(actor=actor, version=version)


def test_a_new_article_starts_as_draft_version_1_and_is_audited():
    author = writer()
    article = draft_article(actor=author, tags=["Filter", "filter", "水压"])
    version = article.versions.get()
    assert (version.number, version.status, version.author) == (1, VersionStatus.DRAFT, author)
    assert article.published_version is None
    assert sorted(article.tags.values_list("name", flat=True)) == ["Filter", "水压"]
    assert AuditEvent.objects.filter(action="kb.article.create", object_id=str(article.pk)).count() == 1


def test_agents_write_but_only_reviewers_publish():
    author, agent = writer(), UserFactory(role=Role.AGENT)
    article = draft_article(actor=author)
    version = _in_review(article, author)
    with pytest.raises(PermissionDenied):
        services.version_publish(actor=agent, version=version)
    version.refresh_from_db()
    article.refresh_from_db()
    assert version.status == VersionStatus.REVIEW
    assert article.published_version is None
    assert not AuditEvent.objects.filter(action="kb.version.publish").exists()

    approver = reviewer()
    services.version_publish(actor=approver, version=version)
    version.refresh_from_db()
    article.refresh_from_db()
    assert version.status == VersionStatus.PUBLISHED
    assert version.reviewer == approver
    assert version.reviewed_at is not None and version.effective_at is not None
    assert article.published_version == version


@pytest.mark.parametrize("role", [Role.TECHNICIAN, Role.PARTS_CLERK, Role.CUSTOMER])
def test_roles_without_kb_edit_cannot_write(role):
    with pytest.raises(PermissionDenied):
        draft_article(actor=UserFactory(role=role))
    assert not Article.objects.exists()


def test_admins_and_supervisors_review_agents_do_not():
    assert UserFactory(role=Role.SUPERVISOR).can("kb.review")
    assert UserFactory(role=Role.ADMIN).can("kb.review")
    assert not UserFactory(role=Role.AGENT).can("kb.review")
    assert UserFactory(role=Role.AGENT).can("kb.edit")
    assert not UserFactory(role=Role.TECHNICIAN).can("kb.edit")


def test_publishing_needs_a_submitted_version():
    author, approver = writer(), reviewer()
    article = draft_article(actor=author)
    with pytest.raises(Conflict) as error:
        services.version_publish(actor=approver, version=article.versions.get())
    assert error.value.code == "version_status"
    assert article.versions.get().status == VersionStatus.DRAFT


def test_a_published_version_is_immutable_in_services_and_in_save():
    author, approver = writer(), reviewer()
    article, v1 = published_article(actor=author, approver=approver)
    with pytest.raises(Conflict) as error:
        services.version_edit(actor=author, version=v1, title="Changed", body="changed")
    assert error.value.code == "version_immutable"
    with pytest.raises(Conflict):
        services.version_submit(actor=author, version=v1)
    with pytest.raises(Conflict):
        services.version_reject(actor=approver, version=v1, note="no")
    v1.refresh_from_db()
    v1.body = "sneaky edit"
    with pytest.raises(Conflict):
        v1.save()
    v1.refresh_from_db()
    v1.status = VersionStatus.DRAFT
    with pytest.raises(Conflict):
        v1.save()
    assert (
        ArticleVersion.objects.get(pk=v1.pk).body == "Turn off the water.\nOpen the cover.\nRinse the filter."
    )
    assert ArticleVersion.objects.get(pk=v1.pk).status == VersionStatus.PUBLISHED


def test_editing_a_published_article_starts_a_new_draft_based_on_the_live_version():
    author, approver = writer(), reviewer()
    article, v1 = published_article(actor=author, approver=approver)
    v2 = services.version_save_draft(actor=author, article=article, title="Reset the filter", body="New text")
    again = services.version_save_draft(
        actor=author, article=article, title="Reset the filter", body="Newer text"
    )
    assert (v2.number, v2.status, v2.based_on) == (2, VersionStatus.DRAFT, v1)
    assert again.pk == v2.pk and again.body == "Newer text"
    article.refresh_from_db()
    assert article.published_version == v1  # the draft is not live


def test_a_stale_draft_save_is_refused():
    author = writer()
    article = draft_article(actor=author)
    version = article.versions.get()
    seen = version.updated_at
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=5)):
        services.version_save_draft(actor=author, article=article, title="Mine", body="first")
    with pytest.raises(Conflict):
        services.version_save_draft(
            actor=author, article=article, title="Theirs", body="second", expected_updated_at=seen
        )
    assert article.versions.get().body == "first"


def test_editing_a_version_in_review_returns_it_to_draft():
    author = writer()
    article = draft_article(actor=author)
    version = _in_review(article, author)
    services.version_save_draft(actor=author, article=article, title="Edited", body="edited")
    version.refresh_from_db()
    assert (version.status, version.submitted_at, version.title) == (VersionStatus.DRAFT, None, "Edited")


def test_reject_keeps_the_version_and_the_next_save_starts_a_new_one():
    author, approver = writer(), reviewer()
    article = draft_article(actor=author)
    version = _in_review(article, author)
    with pytest.raises(ValidationFailed):
        services.version_reject(actor=approver, version=version, note="  ")
    services.version_reject(actor=approver, version=version, note="Say which valve.")
    version.refresh_from_db()
    assert (version.status, version.review_note, version.reviewer) == (
        VersionStatus.REJECTED,
        "Say which valve.",
        approver,
    )
    with pytest.raises(Conflict):
        services.version_edit(actor=author, version=version, title="x", body="y")
    v2 = services.version_save_draft(
        actor=author, article=article, title="Reset", body="Close the left valve."
    )
    assert v2.number == 2


def test_publishing_a_new_version_supersedes_the_previous_one():
    author, approver = writer(), reviewer()
    article, v1 = published_article(actor=author, approver=approver)
    v2 = new_revision(article=article, actor=author, approver=approver, title="Reset", body="v2 text")
    v1.refresh_from_db()
    article.refresh_from_db()
    assert article.published_version == v2
    assert v1.status == VersionStatus.SUPERSEDED and v1.superseded_at is not None


def test_rollback_creates_a_new_published_version_copying_the_old_one():
    author, approver = writer(), reviewer()
    article, v1 = published_article(actor=author, approver=approver)
    v2 = new_revision(article=article, actor=author, approver=approver, title="Wrong", body="wrong text")
    with pytest.raises(PermissionDenied):
        services.article_rollback(actor=author, article=article, to_version=v1)
    v3 = services.article_rollback(actor=approver, article=article, to_version=v1)
    article.refresh_from_db()
    v1.refresh_from_db()
    v2.refresh_from_db()
    assert (v3.number, v3.status, v3.based_on, v3.title, v3.body) == (
        3,
        VersionStatus.PUBLISHED,
        v1,
        v1.title,
        v1.body,
    )
    assert article.published_version == v3
    assert v1.status == VersionStatus.SUPERSEDED  # history stays history
    assert v2.status == VersionStatus.SUPERSEDED
    assert article.versions.count() == 3
    with pytest.raises(Conflict):
        services.article_rollback(actor=approver, article=article, to_version=v3)  # already live
    assert AuditEvent.objects.filter(action="kb.version.rollback", object_id=str(v3.pk)).exists()


def test_rollback_to_a_draft_is_refused():
    author, approver = writer(), reviewer()
    article, _v1 = published_article(actor=author, approver=approver)
    draft = services.version_save_draft(actor=author, article=article, title="d", body="d")
    with pytest.raises(Conflict):
        services.article_rollback(actor=approver, article=article, to_version=draft)
    assert article.versions.count() == 2


def test_scheduled_publication_goes_live_when_due():
    author, approver = writer(), reviewer()
    with time_machine.travel(START, tick=False):
        article, v1 = published_article(actor=author, approver=approver)
        v2 = services.version_save_draft(
            actor=author, article=article, title="Spring", body="new season text"
        )
        services.version_submit(actor=author, version=v2)
        services.version_publish(actor=approver, version=v2, effective_at=START + dt.timedelta(days=1))
        v2.refresh_from_db()
        article.refresh_from_db()
        assert v2.status == VersionStatus.PUBLISHED and v2.is_scheduled
        assert article.published_version == v1
        assert publish_due() == 0
    with time_machine.travel(START + dt.timedelta(hours=23, minutes=59), tick=False):
        assert publish_due() == 0
        article.refresh_from_db()
        assert article.published_version == v1
    with time_machine.travel(START + dt.timedelta(days=1, seconds=1), tick=False):
        assert publish_due() == 1
        assert publish_due() == 0  # a second run (or a second scheduler) changes nothing
        article.refresh_from_db()
        v1.refresh_from_db()
        assert article.published_version == v2
        assert v1.status == VersionStatus.SUPERSEDED
    assert AuditEvent.objects.filter(action="kb.version.schedule").count() == 1


def test_two_scheduled_versions_go_live_in_the_order_of_their_dates():
    author, approver = writer(), reviewer()
    with time_machine.travel(START, tick=False):
        article, v1 = published_article(actor=author, approver=approver)
        later = START + dt.timedelta(days=2)
        earlier = START + dt.timedelta(days=1)
        v2 = services.version_save_draft(actor=author, article=article, title="t2", body="two")
        services.version_submit(actor=author, version=v2)
        services.version_publish(actor=approver, version=v2, effective_at=later)
        v3 = services.version_save_draft(actor=author, article=article, title="t3", body="three")
        services.version_submit(actor=author, version=v3)
        services.version_publish(actor=approver, version=v3, effective_at=earlier)
    with time_machine.travel(START + dt.timedelta(days=1, hours=1), tick=False):
        publish_due()
        article.refresh_from_db()
        assert article.published_version_id == v3.pk
    with time_machine.travel(START + dt.timedelta(days=3), tick=False):
        publish_due()
        article.refresh_from_db()
        assert article.published_version_id == v2.pk
    statuses = dict(article.versions.values_list("number", "status"))
    assert statuses == {1: "superseded", 2: "published", 3: "superseded"}


@pytest.fixture
def published_events():
    seen: list[tuple[int, int | None]] = []

    def remember(event: ArticlePublished) -> None:
        seen.append((event.version.number, event.previous.number if event.previous else None))

    subscribe(ArticlePublished, remember)
    yield seen
    events._subscriptions[ArticlePublished] = [
        s for s in events._subscriptions[ArticlePublished] if s.handler is not remember
    ]


def test_published_events_and_search_index_follow_the_live_version(published_events):
    seen = published_events
    author, approver = writer(), reviewer()
    article, v1 = published_article(
        actor=author, approver=approver, title="Descale the shower head", body="Soak it in vinegar overnight."
    )
    assert [hit.article_id for hit in search.article_search(query="vinegar", locale="en").hits] == [
        article.pk
    ]
    new_revision(article=article, actor=author, approver=approver, title="Descale", body="Use citric acid.")
    assert search.article_search(query="vinegar", locale="en").hits == []
    assert [hit.article_id for hit in search.article_search(query="citric", locale="en").hits] == [article.pk]
    services.article_unpublish(actor=approver, article=article)
    assert search.article_search(query="citric", locale="en").hits == []
    article.refresh_from_db()
    assert article.published_version is None
    assert seen[-2:] == [(1, None), (2, 1)]


def test_translations_share_a_group_one_per_language():
    author = writer()
    zh = draft_article(
        actor=author, key="reset-filter", locale="zh-hans", title="清洗滤网", body="关闭水阀。"
    )
    en = draft_article(actor=author, key="reset-filter", locale="en", translation_of=zh)
    assert en.translation_group == zh.translation_group
    with pytest.raises(Conflict):
        draft_article(actor=author, key="reset-filter-2", locale="en", translation_of=zh)
    with pytest.raises(ValidationFailed):
        draft_article(actor=author, key="other-key", locale="zh-hans", translation_of=zh)
    with pytest.raises(ValidationFailed):
        draft_article(actor=author, key="reset-filter", locale="zh-hans")  # key taken in this language


def test_the_database_allows_one_open_version_per_article():
    author = writer()
    article = draft_article(actor=author)
    with pytest.raises(IntegrityError), transaction.atomic():
        ArticleVersion.objects.create(article=article, number=2, title="second draft")


def test_keys_and_text_are_validated():
    author = writer()
    with pytest.raises(ValidationFailed) as error:
        services.article_create(actor=author, locale="fr", key="Not A Key", title="", body="x")
    assert set(error.value.details) == {"locale", "key"}
    with pytest.raises(ValidationFailed) as error:
        services.article_create(actor=author, locale="en", key="ok", title="t", body="bad\x00byte")
    assert set(error.value.details) == {"body"}
    assert not Article.objects.exists()


def test_the_beat_schedule_runs_publish_due():
    from django.conf import settings

    from aftersales.celery import app

    app.loader.import_default_modules()
    entry = settings.CELERY_BEAT_SCHEDULE["knowledge-publish-due"]
    assert entry["task"] == "knowledge.publish_due" and entry["schedule"] <= 60
    assert "knowledge.publish_due" in app.tasks


def test_article_get_public_finds_only_live_public_articles():
    from aftersales.core.errors import NotFound
    from aftersales.knowledge import selectors

    author, approver = writer(), reviewer()
    live, _v = published_article(actor=author, approver=approver, key="live")
    published_article(actor=author, approver=approver, key="staff-only", audience="internal")
    draft_article(actor=author, key="draft")
    assert selectors.article_get_public(locale="en", key="live") == live
    for key in ("staff-only", "draft", "unknown"):
        with pytest.raises(NotFound):
            selectors.article_get_public(locale="en", key=key)
    with pytest.raises(NotFound):
        selectors.article_get_public(locale="zh-hans", key="live")
    services.article_unpublish(actor=approver, article=live)
    with pytest.raises(NotFound):
        selectors.article_get_public(locale="en", key="live")
