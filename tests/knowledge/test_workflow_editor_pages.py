"""The editor console pages, driven with Django's test client."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from aftersales.core.roles import Role
from aftersales.knowledge import services
from aftersales.knowledge.models import Article, ArticleVersion, ManualEdition, ManualSection, VersionStatus
from tests.factories import UserFactory, customer_user

from .core_factories import draft_article, new_revision, published_article, reviewer, writer

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def action(client: Client, article: Article, **data):
    return client.post(reverse("knowledge:editor-article-action", args=[article.pk]), data)


def test_only_writers_open_the_editor():
    url = reverse("knowledge:editor-home")
    assert Client().get(url).status_code == 302  # to the sign-in page
    assert signed_in(customer_user()).get(url).status_code == 403
    technician = signed_in(UserFactory(role=Role.TECHNICIAN))
    response = technician.get(url)  # readers who do not write go to the help centre
    assert response.status_code == 302 and response["Location"] == reverse("knowledge:help-root")
    assert technician.get(reverse("knowledge:editor-new")).status_code == 403
    assert signed_in(writer()).get(url).status_code == 200


def test_the_console_menu_links_the_knowledge_base():
    page = signed_in(writer()).get(reverse("knowledge:editor-home")).content.decode()
    assert f'href="{reverse("knowledge:editor-home")}" class="active"' in page


def test_the_list_filters_by_status():
    author, approver = writer(), reviewer()
    published_article(actor=author, approver=approver, key="live-one", title="Live one")
    draft_article(actor=author, key="draft-one", title="Draft one")
    client = signed_in(author)
    page = client.get(reverse("knowledge:editor-home"), {"status": "draft", "locale": ""}).content.decode()
    assert "Draft one" in page and "Live one" not in page
    page = client.get(
        reverse("knowledge:editor-home"), {"status": "published", "locale": ""}
    ).content.decode()
    assert "Live one" in page and "Draft one" not in page


def test_create_edit_submit_approve_and_reject_in_the_console():
    author, approver = writer(), reviewer()
    client = signed_in(author)
    response = client.post(
        reverse("knowledge:editor-new"),
        {
            "locale": "zh-hans",
            "key": "clean-filter",
            "title": "清洗滤网",
            "body": "关闭水阀。",
            "audience": "public",
        },
    )
    article = Article.objects.get(key="clean-filter")
    assert response.status_code == 302 and response["Location"] == reverse(
        "knowledge:editor-article", args=[article.pk]
    )

    action(client, article, action="save", title="清洗滤网", body="关闭进水阀。", and_submit="1")
    version = article.versions.get()
    assert (version.status, version.body) == (VersionStatus.REVIEW, "关闭进水阀。")

    # The writer sees no approve button, and a forged post is refused without a change.
    page = client.get(reverse("knowledge:editor-article", args=[article.pk])).content.decode()
    assert 'value="publish"' not in page
    action(client, article, action="publish", number="1")
    assert ArticleVersion.objects.get(pk=version.pk).status == VersionStatus.REVIEW

    boss = signed_in(approver)
    queue = boss.get(reverse("knowledge:editor-review")).content.decode()
    assert "清洗滤网" in queue
    action(boss, article, action="reject", number="1", note="写清楚是哪个阀门")
    version.refresh_from_db()
    assert (version.status, version.review_note) == (VersionStatus.REJECTED, "写清楚是哪个阀门")

    action(client, article, action="save", title="清洗滤网", body="关闭左侧进水阀。", and_submit="1")
    action(boss, article, action="publish", number="2", effective_at="", next="review")
    article.refresh_from_db()
    assert article.published_version.number == 2
    assert (
        signed_in(UserFactory(role=Role.TECHNICIAN)).get(reverse("knowledge:editor-review")).status_code
        == 403
    )


def test_history_diff_and_rollback_pages():
    author, approver = writer(), reviewer()
    article, v1 = published_article(actor=author, approver=approver, title="Filter", body="Open the cover.")
    new_revision(article=article, actor=author, approver=approver, title="Filter", body="Open the lid.")
    client = signed_in(approver)
    page = client.get(
        reverse("knowledge:editor-diff", args=[article.pk]), {"from": 1, "to": 2}
    ).content.decode()
    assert "<del>cover</del><ins>lid</ins>" in page
    assert (
        client.get(reverse("knowledge:editor-diff", args=[article.pk]), {"from": 1, "to": 99}).status_code
        == 404
    )
    assert client.get(reverse("knowledge:editor-version", args=[article.pk, 1])).status_code == 200

    detail = client.get(reverse("knowledge:editor-article", args=[article.pk])).content.decode()
    assert 'value="rollback"' in detail
    action(client, article, action="rollback", number="1")
    article.refresh_from_db()
    assert (article.published_version.number, article.published_version.body) == (3, v1.body)


def test_scheduled_approval_from_the_console():
    author, approver = writer(), reviewer()
    article, _v1 = published_article(actor=author, approver=approver)
    version = services.version_save_draft(actor=author, article=article, title="Later", body="later text")
    services.version_submit(actor=author, version=version)
    action(
        signed_in(approver),
        article,
        action="publish",
        number=str(version.number),
        effective_at="2099-01-01T08:00",
    )
    version.refresh_from_db()
    article.refresh_from_db()
    assert version.status == VersionStatus.PUBLISHED and version.is_scheduled
    assert article.published_version.number == 1


def test_translation_link_prefills_the_other_language():
    author = writer()
    zh = draft_article(
        actor=author, key="clean-filter", locale="zh-hans", title="清洗滤网", body="关闭水阀。"
    )
    client = signed_in(author)
    detail = client.get(reverse("knowledge:editor-article", args=[zh.pk])).content.decode()
    assert f"?translation_of={zh.pk}" in detail
    form = client.get(reverse("knowledge:editor-new"), {"translation_of": zh.pk}).content.decode()
    assert '<option value="en" selected>' in form
    client.post(
        reverse("knowledge:editor-new") + f"?translation_of={zh.pk}",
        {
            "locale": "en",
            "key": "clean-filter",
            "title": "Clean the filter",
            "body": "Close the valve.",
            "audience": "public",
            "translation_of": zh.pk,
        },
    )
    en = Article.objects.get(key="clean-filter", locale="en")
    assert en.translation_group == zh.translation_group


def test_an_existing_article_is_linked_as_a_translation():
    author = writer()
    zh = draft_article(
        actor=author, key="clean-filter", locale="zh-hans", title="清洗滤网", body="关闭水阀。"
    )
    en = draft_article(
        actor=author, key="filter-cleaning", locale="en", title="Clean the filter", body="Close."
    )
    client = signed_in(author)
    detail = client.get(reverse("knowledge:editor-article", args=[zh.pk])).content.decode()
    assert f'<option value="{en.pk}">' in detail
    action(client, zh, action="link_translation", translation=str(en.pk))
    en.refresh_from_db()
    assert en.translation_group == zh.translation_group
    other_en = draft_article(actor=author, key="another", locale="en", title="Another", body="x")
    action(client, zh, action="link_translation", translation=str(other_en.pk))  # English is taken
    other_en.refresh_from_db()
    assert other_en.translation_group != zh.translation_group


def test_the_preview_is_sanitised():
    client = signed_in(writer())
    html = client.post(
        reverse("knowledge:editor-preview"), {"body": "**bold** <script>x()</script>"}
    ).content.decode()
    assert "<strong>bold</strong>" in html and "<script>" not in html


def test_manual_builder_and_edition_downloads():
    author, approver = writer(), reviewer()
    article, _v = published_article(actor=author, approver=approver, title="Reset the filter")
    client = signed_in(author)
    client.post(
        reverse("knowledge:editor-manuals"),
        {
            "slug": "handbook",
            "title_zh": "手册",
            "title_en": "Handbook",
            "locale": "en",
            "audience": "public",
        },
    )
    url = reverse("knowledge:editor-manual-action", args=["handbook"])
    client.post(url, {"action": "add", "title": "Care"})
    client.post(url, {"action": "add", "title": "Install"})
    care = ManualSection.objects.get(title="Care")
    client.post(url, {"action": "add", "parent": care.pk, "article": article.pk})
    client.post(url, {"action": "down", "section": care.pk})
    assert list(
        ManualSection.objects.filter(parent=None).order_by("position").values_list("title", flat=True)
    ) == [
        "Install",
        "Care",
    ]
    client.post(url, {"action": "publish"})
    assert not ManualEdition.objects.exists()  # writers do not publish editions

    boss = signed_in(approver)
    boss.post(url, {"action": "publish", "label": ""})
    edition = ManualEdition.objects.get()
    page = boss.get(
        reverse("knowledge:editor-manual", args=["handbook"]), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert reverse("knowledge:edition-pdf", args=[edition.pk]) in page
    assert "Added: 2.1 Reset the filter (version 1)" in page

    # A public manual's edition is readable by everyone, also without signing in.
    visitor = Client()
    html = visitor.get(reverse("knowledge:edition-html", args=[edition.pk]))
    assert html.status_code == 200 and "Reset the filter" in html.content.decode()
    pdf = visitor.get(reverse("knowledge:edition-pdf", args=[edition.pk]))
    assert pdf.status_code == 200 and b"".join(pdf.streaming_content).startswith(b"%PDF")


def test_an_internal_manual_edition_is_for_staff_only():
    author, approver = writer(), reviewer()
    article, _v = published_article(actor=author, approver=approver)
    manual = services.manual_create(actor=author, slug="internal", title_zh="内部手册", audience="internal")
    services.manual_section_add(actor=author, manual=manual, title="一", article=article)
    edition = services.manual_publish_edition(actor=approver, manual=manual)
    assert Client().get(reverse("knowledge:edition-pdf", args=[edition.pk])).status_code == 404
    assert (
        signed_in(customer_user()).get(reverse("knowledge:edition-html", args=[edition.pk])).status_code
        == 404
    )
    assert (
        signed_in(UserFactory(role=Role.TECHNICIAN))
        .get(reverse("knowledge:edition-html", args=[edition.pk]))
        .status_code
        == 200
    )


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_editor_pages_render_in_both_languages(language):
    author, approver = writer(), reviewer()
    article, _v = published_article(actor=author, approver=approver)
    client = signed_in(approver)
    client.cookies["django_language"] = language
    for url in (
        reverse("knowledge:editor-home"),
        reverse("knowledge:editor-new"),
        reverse("knowledge:editor-review"),
        reverse("knowledge:editor-article", args=[article.pk]),
        reverse("knowledge:editor-manuals"),
    ):
        response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 200, url
        assert f'<html lang="{language}"' in response.content.decode()


def test_write_an_article_from_the_missing_list_brings_the_searched_words():
    page = signed_in(writer()).get(
        reverse("knowledge:editor-new"), {"title": "马桶盖板松动怎么办", "locale": "zh-hans"}
    )
    html = page.content.decode()
    assert page.status_code == 200
    assert 'value="马桶盖板松动怎么办"' in html


def test_the_list_opens_on_the_readers_language_and_any_language_stays_a_choice():
    author = writer()
    draft_article(actor=author, key="zh-one", title="马桶漏水怎么办", locale="zh-hans")
    draft_article(actor=author, key="en-one", title="Toilet leaks", locale="en")
    client = signed_in(author)
    url = reverse("knowledge:editor-home")

    chinese = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    both = client.get(url, {"locale": ""}, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()

    assert "马桶漏水怎么办" in chinese and "Toilet leaks" not in chinese
    assert "Toilet leaks" in english and "马桶漏水怎么办" not in english
    assert "马桶漏水怎么办" in both and "Toilet leaks" in both
