"""The editor console in Debian's Chromium: a reviewer edits with the live preview, compares two
versions, approves, and reads a manual edition; screenshots in both languages go to
``test-artifacts/`` for a person to look at."""

from __future__ import annotations

import pytest

from aftersales.core.roles import Role
from aftersales.knowledge import services
from aftersales.knowledge.models import ArticleVersion, VersionStatus
from tests.browser_support import CJK, playwright_sync, shoot
from tests.browser_support import sign_in as sign_in_as
from tests.factories import UserFactory

from .core_factories import new_revision, published_article

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def sign_in(page, username: str) -> None:
    sign_in_as(page, username, wait=True)


@pytest.fixture
def library(transactional_db):
    author = UserFactory(role=Role.AGENT, display_name="李文")
    boss = UserFactory(role=Role.SUPERVISOR, display_name="王主管")
    zh, _v = published_article(
        actor=author,
        approver=boss,
        key="clean-filter",
        locale="zh-hans",
        title="清洗进水滤网",
        body="## 步骤\n\n1. 关闭进水阀\n2. 拆下滤网，用清水冲洗\n3. 装回并打开进水阀",
    )
    new_revision(
        article=zh,
        actor=author,
        approver=boss,
        title="清洗进水滤网",
        body="## 步骤\n\n1. 关闭角阀\n2. 拆下滤网，用软毛刷和清水冲洗\n3. 装回并打开进水阀\n\n**注意**：不要使用硬物刮擦。",
    )
    en, _v = published_article(
        actor=author,
        approver=boss,
        key="clean-filter",
        locale="en",
        title="Clean the inlet filter",
        body="1. Close the valve.\n2. Rinse the filter.",
        translation_of=zh,
    )
    pending = services.version_save_draft(
        actor=author,
        article=en,
        title="Clean the inlet filter",
        body="1. Close the angle valve.\n2. Rinse the filter with a soft brush.",
    )
    services.version_submit(actor=author, version=pending)
    manual = services.manual_create(
        actor=author, slug="service-manual", title_zh="澜泉卫浴服务手册", locale="zh-hans"
    )
    chapter = services.manual_section_add(actor=author, manual=manual, title="日常保养")
    services.manual_section_add(actor=author, manual=manual, parent=chapter, article=zh)
    edition = services.manual_publish_edition(actor=boss, manual=manual)
    return {
        "author": author,
        "boss": boss,
        "zh": zh,
        "en": en,
        "pending": pending,
        "manual": manual,
        "edition": edition,
    }


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_screenshots_of_the_editor_the_diff_and_the_manual(open_page, library, language):
    page = open_page(language)
    sign_in(page, library["boss"].username)
    page.goto("/console/kb/")
    page.wait_for_selector("table.queue")
    assert page.locator("nav.mainnav a.active").count() == 1
    shoot(page, f"kb-editor-list-{language}")

    zh = library["zh"]
    page.goto(f"/console/kb/articles/{zh.pk}/")
    page.locator("main details summary").first.click()
    body = page.locator("textarea[name=body]")
    body.fill("## 预览\n\n**加粗** 文字")
    body.press("End")  # the preview follows key presses
    # A locator, not wait_for_function: the page's CSP forbids evaluating strings as script.
    playwright_sync.expect(page.locator("#kb-preview strong")).to_have_text("加粗")
    shoot(page, f"kb-editor-article-{language}")

    page.goto(f"/console/kb/articles/{zh.pk}/diff/?from=1&to=2")
    page.wait_for_selector(".kb-diff ins")
    inserted = page.locator(".kb-diff ins").all_inner_texts()
    deleted = page.locator(".kb-diff del").all_inner_texts()
    assert "角" in "".join(inserted) and "进水" in "".join(deleted)
    background = page.eval_on_selector(".kb-diff ins", "el => getComputedStyle(el).backgroundColor")
    assert background == "rgb(169, 229, 183)"
    shoot(page, f"kb-editor-diff-{language}")

    page.goto(f"/console/kb/manuals/{library['manual'].slug}/")
    page.wait_for_selector(".kb-outline")
    shoot(page, f"kb-editor-manual-{language}")

    page.goto(f"/console/kb/editions/{library['edition'].pk}/html/")
    page.wait_for_selector("nav.toc")
    assert "1.1" in page.inner_text("nav.toc")
    assert CJK.search(page.inner_text("main"))
    shoot(page, f"kb-manual-edition-{language}")


def test_a_reviewer_approves_from_the_queue_in_the_browser(open_page, library):
    page = open_page("en")
    sign_in(page, library["boss"].username)
    page.goto("/console/kb/review/")
    row = page.locator("tr", has_text="Clean the inlet filter")
    shoot(page, "kb-editor-review-en")
    row.get_by_role("button", name="Approve").click()
    page.wait_for_load_state()
    pending = ArticleVersion.objects.get(pk=library["pending"].pk)
    assert pending.status == VersionStatus.PUBLISHED
    assert pending.reviewer == library["boss"]
