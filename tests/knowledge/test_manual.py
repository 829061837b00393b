"""The standard manual: ordered chapters and sections, numbered editions as HTML and PDF, and
what changed between editions."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from aftersales.core.errors import PermissionDenied, ValidationFailed
from aftersales.core.models import AuditEvent
from aftersales.knowledge import services
from aftersales.knowledge.manual_export import markdown_to_html, pdf_font
from aftersales.knowledge.models import ManualEdition, ManualSection

from .core_factories import draft_article, new_revision, published_article, reviewer, writer

pytestmark = pytest.mark.django_db

PDFTOTEXT = shutil.which("pdftotext")


def pdf_text(data: bytes) -> str:
    """The text of a PDF as pdftotext (poppler-utils) extracts it, page by page (form feeds)."""
    assert PDFTOTEXT
    result = subprocess.run(  # noqa: S603 - a fixed local binary on our own bytes
        [PDFTOTEXT, "-enc", "UTF-8", "-", "-"], input=data, capture_output=True, check=True
    )
    return result.stdout.decode("utf-8")


needs_pdftotext = pytest.mark.skipif(not PDFTOTEXT, reason="pdftotext (poppler-utils) is not installed")


def pdf_page_count(data: bytes) -> int:
    return int(max(re.findall(rb"/Count (\d+)", data), key=int))


@pytest.fixture
def people():
    return writer(), reviewer()


@pytest.fixture
def manual_zh(people):
    author, approver = people
    manual = services.manual_create(
        actor=author, slug="service-manual", title_zh="澜泉卫浴服务手册", locale="zh-hans"
    )
    install, _v = published_article(
        actor=author,
        approver=approver,
        key="install-toilet",
        locale="zh-hans",
        title="智能马桶安装",
        body="## 准备\n\n1. 关闭进水阀\n2. 检查地排距离\n\n**注意**：安装前断电。",
    )
    filter_article, _v = published_article(
        actor=author,
        approver=approver,
        key="clean-filter",
        locale="zh-hans",
        title="清洗进水滤网",
        body="拆下滤网，用清水冲洗。\n\n| 部件 | 周期 |\n|---|---|\n| 滤网 | 3 个月 |",
    )
    chapter = services.manual_section_add(actor=author, manual=manual, title="安装")
    services.manual_section_add(actor=author, manual=manual, parent=chapter, article=install)
    chapter2 = services.manual_section_add(actor=author, manual=manual, title="保养")
    services.manual_section_add(actor=author, manual=manual, parent=chapter2, article=filter_article)
    return manual, install, filter_article


def test_sections_are_ordered_and_move(people, manual_zh):
    author, _ = people
    manual, _install, _filter = manual_zh
    chapters = list(ManualSection.objects.filter(manual=manual, parent=None).order_by("position"))
    assert [c.title for c in chapters] == ["安装", "保养"]
    services.manual_section_move(actor=author, section=chapters[1], direction="up")
    assert list(
        ManualSection.objects.filter(manual=manual, parent=None)
        .order_by("position")
        .values_list("title", flat=True)
    ) == ["保养", "安装"]
    services.manual_section_move(actor=author, section=chapters[1], direction="up")  # already first: no-op
    assert ManualSection.objects.get(pk=chapters[1].pk).position == 1
    with pytest.raises(ValidationFailed):
        services.manual_section_add(actor=author, manual=manual, parent=chapters[0].children.first())


def test_only_reviewers_publish_editions(people, manual_zh):
    author, _ = people
    manual, *_ = manual_zh
    with pytest.raises(PermissionDenied):
        services.manual_publish_edition(actor=author, manual=manual)
    assert not ManualEdition.objects.exists()


def test_an_edition_freezes_versions_renders_html_and_a_chinese_pdf(people, manual_zh):
    _author, approver = people
    manual, install, filter_article = manual_zh
    edition = services.manual_publish_edition(actor=approver, manual=manual)
    assert (edition.number, edition.label) == (1, "v1")
    assert edition.article_versions == {
        str(install.pk): install.published_version_id,
        str(filter_article.pk): filter_article.published_version_id,
    }
    assert [item["number"] for item in edition.outline] == ["1", "1.1", "2", "2.1"]
    assert [item["title"] for item in edition.changes["added"]] == ["智能马桶安装", "清洗进水滤网"]

    html = edition.html
    assert html.startswith("<!doctype html>")
    assert "澜泉卫浴服务手册" in html
    running_header = re.search(r'<header class="running".*?</header>', html, re.DOTALL).group(0)
    assert "澜泉卫浴服务手册" in running_header and "v1" in running_header
    assert '<a href="#s-1-1"><span class="num">1.1</span>智能马桶安装</a>' in html
    assert "<h5>准备</h5>" in html  # the article's ## heading sits below the section (h3) level
    assert "<table>" in html and "<script" not in html

    data = edition.pdf.read()
    assert data.startswith(b"%PDF-")
    assert pdf_page_count(data) >= 4  # title, contents, two chapters
    assert b"/ToUnicode" in data or b"STSong-Light" in data  # the Chinese font is there, text extractable
    assert AuditEvent.objects.filter(action="kb.manual.publish_edition", object_id=str(edition.pk)).exists()


@needs_pdftotext
def test_the_pdf_carries_the_chinese_text(people, manual_zh):
    _author, approver = people
    manual, *_ = manual_zh
    edition = services.manual_publish_edition(actor=approver, manual=manual)
    data = edition.pdf.read()
    text = pdf_text(data).replace("\n", "").replace(" ", "")
    for phrase in ("澜泉卫浴服务手册", "智能马桶安装", "关闭进水阀", "清洗进水滤网", "滤网3个月", "v1"):
        assert phrase in text, phrase


@needs_pdftotext
def test_every_pdf_page_after_the_title_carries_the_edition_and_page_numbers(people, manual_zh):
    _author, approver = people
    manual, *_ = manual_zh
    edition = services.manual_publish_edition(actor=approver, manual=manual, label="2026-春")
    data = edition.pdf.read()
    pages = pdf_text(data).split("\f")
    pages = [page for page in pages if page.strip()]
    assert len(pages) == pdf_page_count(data)
    for number, page in enumerate(pages, start=1):
        assert f"第 {number} 页，共 {len(pages)} 页" in page or f"Page {number} of {len(pages)}" in page
        assert "2026-春" in page
    assert all("澜泉卫浴服务手册" in page for page in pages[1:])


def test_the_next_edition_lists_what_changed(people, manual_zh):
    author, approver = people
    manual, install, filter_article = manual_zh
    first = services.manual_publish_edition(actor=approver, manual=manual)
    new_revision(article=install, actor=author, approver=approver, title="智能马桶安装", body="新的安装步骤")
    ManualSection.objects.get(manual=manual, article=filter_article)
    services.manual_section_remove(
        actor=author, section=ManualSection.objects.get(manual=manual, article=filter_article)
    )
    extra, _v = published_article(
        actor=author,
        approver=approver,
        key="warranty",
        locale="zh-hans",
        title="保修政策",
        body="整机保修三年。",
    )
    chapter = ManualSection.objects.get(manual=manual, title="保养")
    services.manual_section_add(actor=author, manual=manual, parent=chapter, article=extra)
    second = services.manual_publish_edition(actor=approver, manual=manual)
    assert second.number == 2 and second.label == "v2"
    changes = second.changes
    assert changes["previous"] == "v1"
    assert changes["changed"] == [
        {
            "article_id": install.pk,
            "number": "1.1",
            "title": "智能马桶安装",
            "from_version": 1,
            "to_version": 2,
        }
    ]
    assert changes["removed"] == [
        {"article_id": filter_article.pk, "number": "2.1", "title": "清洗进水滤网", "version": 1}
    ]
    assert [(item["title"], item["version"]) for item in changes["added"]] == [("保修政策", 1)]
    assert "新的安装步骤" in second.html and "新的安装步骤" not in first.html
    first.refresh_from_db()
    assert first.article_versions[str(install.pk)] != second.article_versions[str(install.pk)]


def test_unpublished_articles_are_left_out_and_reported(people, manual_zh):
    author, approver = people
    manual, *_ = manual_zh
    draft = draft_article(actor=author, key="not-yet", locale="zh-hans", title="未发布", body="草稿内容")
    chapter = ManualSection.objects.get(manual=manual, title="安装")
    services.manual_section_add(actor=author, manual=manual, parent=chapter, article=draft)
    edition = services.manual_publish_edition(actor=approver, manual=manual)
    assert "草稿内容" not in edition.html
    assert [item["article_id"] for item in edition.changes["skipped"]] == [draft.pk]


def test_an_empty_manual_cannot_be_published(people):
    author, approver = people
    manual = services.manual_create(actor=author, slug="empty", title_zh="空手册")
    with pytest.raises(ValidationFailed):
        services.manual_publish_edition(actor=approver, manual=manual)


def test_an_english_manual_renders_in_english(people):
    author, approver = people
    manual = services.manual_create(
        actor=author, slug="en-manual", title_zh="英文手册", title_en="Service manual", locale="en"
    )
    article, _v = published_article(actor=author, approver=approver, title="Reset the filter")
    services.manual_section_add(actor=author, manual=manual, title="Care", article=article)
    edition = services.manual_publish_edition(actor=approver, manual=manual)
    assert "<title>Service manual · v1</title>" in edition.html
    assert "Contents" in edition.html
    if PDFTOTEXT:
        text = pdf_text(edition.pdf.read())
        assert "Service manual" in text and "Rinse the filter." in text


def test_markdown_is_sanitised():
    html = markdown_to_html(
        '<script>alert(1)</script>\n\n[x](javascript:alert(1)) <img src="http://x/y.png">\n\n# Top'
    )
    assert "<script" not in html and "javascript:" not in html and "<img" not in html
    assert "<h1>Top</h1>" in html
    assert "<h3>Top</h3>" in markdown_to_html("# Top", heading_offset=2)


def test_the_pdf_embeds_a_cjk_font():
    assert pdf_font() in {"KbCJK", "STSong-Light"}
