"""Random sequences of workflow actions keep the invariants: one live version that is published,
at most one open version, numbers 1..n, and history (published/superseded text) never changes."""

from __future__ import annotations

import contextlib
import itertools

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from aftersales.core.errors import ApplicationError
from aftersales.knowledge import services
from aftersales.knowledge.models import FROZEN_STATUSES, OPEN_STATUSES, Article, ArticleVersion, VersionStatus

from .core_factories import draft_article, reviewer, writer

_keys = itertools.count()
TEXTS = st.sampled_from(["关闭进水阀。", "Open the cover.", "清洗滤网\n再装回", "Rinse.\nDry."])


class Workflow(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.author = writer()
        self.approver = reviewer()
        self.article = draft_article(actor=self.author, key=f"machine-{next(_keys)}")
        self.history: dict[int, tuple[str, str]] = {}

    def _version(self, number: int) -> ArticleVersion | None:
        return ArticleVersion.objects.filter(article=self.article, number=number).first()

    def _numbers(self) -> list[int]:
        return list(ArticleVersion.objects.filter(article=self.article).values_list("number", flat=True))

    def _try(self, action) -> None:
        # A refused step must change nothing; the invariants check that.
        with contextlib.suppress(ApplicationError):
            action()

    @rule(body=TEXTS)
    def save(self, body: str) -> None:
        self._try(
            lambda: services.version_save_draft(actor=self.author, article=self.article, title="T", body=body)
        )

    @rule(pick=st.integers(min_value=0, max_value=20))
    def submit(self, pick: int) -> None:
        numbers = self._numbers()
        version = self._version(numbers[pick % len(numbers)])
        self._try(lambda: services.version_submit(actor=self.author, version=version))

    @rule(pick=st.integers(min_value=0, max_value=20), as_author=st.booleans())
    def publish(self, pick: int, as_author: bool) -> None:
        numbers = self._numbers()
        version = self._version(numbers[pick % len(numbers)])
        actor = self.author if as_author else self.approver
        self._try(lambda: services.version_publish(actor=actor, version=version))

    @rule()
    def submit_the_draft(self) -> None:
        version = ArticleVersion.objects.filter(article=self.article, status=VersionStatus.DRAFT).first()
        if version is not None:
            self._try(lambda: services.version_submit(actor=self.author, version=version))

    @rule(as_author=st.booleans())
    def publish_what_is_in_review(self, as_author: bool) -> None:
        version = ArticleVersion.objects.filter(article=self.article, status=VersionStatus.REVIEW).first()
        if version is not None:
            actor = self.author if as_author else self.approver
            self._try(lambda: services.version_publish(actor=actor, version=version))

    @rule(pick=st.integers(min_value=0, max_value=20))
    def roll_back_to_history(self, pick: int) -> None:
        history = list(
            ArticleVersion.objects.filter(article=self.article, status__in=sorted(FROZEN_STATUSES)).order_by(
                "number"
            )
        )
        if history:
            target = history[pick % len(history)]
            self._try(
                lambda: services.article_rollback(
                    actor=self.approver, article=self.article, to_version=target
                )
            )

    @rule(pick=st.integers(min_value=0, max_value=20))
    def reject(self, pick: int) -> None:
        numbers = self._numbers()
        version = self._version(numbers[pick % len(numbers)])
        self._try(lambda: services.version_reject(actor=self.approver, version=version, note="no"))

    @rule(pick=st.integers(min_value=0, max_value=20), body=TEXTS)
    def edit(self, pick: int, body: str) -> None:
        numbers = self._numbers()
        version = self._version(numbers[pick % len(numbers)])
        self._try(lambda: services.version_edit(actor=self.author, version=version, title="E", body=body))

    @rule(pick=st.integers(min_value=0, max_value=20))
    def rollback(self, pick: int) -> None:
        numbers = self._numbers()
        version = self._version(numbers[pick % len(numbers)])
        self._try(
            lambda: services.article_rollback(actor=self.approver, article=self.article, to_version=version)
        )

    @rule()
    def unpublish(self) -> None:
        self._try(lambda: services.article_unpublish(actor=self.approver, article=self.article))

    @invariant()
    def consistent(self) -> None:
        article = Article.objects.get(pk=self.article.pk)
        versions = list(ArticleVersion.objects.filter(article=article).order_by("number"))
        assert [v.number for v in versions] == list(range(1, len(versions) + 1))
        assert sum(1 for v in versions if v.status in OPEN_STATUSES) <= 1
        if article.published_version_id is not None:
            live = next(v for v in versions if v.pk == article.published_version_id)
            assert live.status == VersionStatus.PUBLISHED
        # Without scheduling, only the live version is "published"; the rest of history is superseded.
        assert [v.pk for v in versions if v.status == VersionStatus.PUBLISHED] == (
            [article.published_version_id] if article.published_version_id else []
        )
        for version in versions:
            if version.status in FROZEN_STATUSES:
                text = (version.title, version.body)
                assert self.history.setdefault(version.number, text) == text
                if version.based_on_id:
                    source = next(v for v in versions if v.pk == version.based_on_id)
                    assert source.number < version.number


@pytest.mark.django_db
def test_random_workflows_keep_the_invariants():
    run_state_machine_as_test(
        Workflow, settings=settings(max_examples=30, stateful_step_count=20, deadline=None, derandomize=True)
    )
