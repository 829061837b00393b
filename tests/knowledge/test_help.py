"""The public help centre: per-locale pages, search, articles, feedback, the missing-articles log."""

from __future__ import annotations

import pytest
from django.test import Client

from aftersales.knowledge.models import ArticleFeedback, SearchQueryLog
from aftersales.knowledge.selectors import missing_articles

from .web_support import build_library, publish, revise

pytestmark = pytest.mark.django_db


@pytest.fixture
def library(db):
    return build_library()


def html(response) -> str:
    return response.content.decode()


def test_help_root_goes_to_the_visitors_language(client, library):
    assert client.get("/help/", HTTP_ACCEPT_LANGUAGE="en").url == "/help/en/"
    assert Client().get("/help/", HTTP_ACCEPT_LANGUAGE="zh-CN").url == "/help/zh-hans/"


def test_home_lists_topics_and_articles_in_its_language_without_a_login(client, library):
    en = client.get("/help/en/")
    assert en.status_code == 200
    assert "How can we help?" in html(en)
    assert "Troubleshooting" in html(en) and "Care and cleaning" in html(en)
    zh = client.get("/help/zh-hans/")
    assert zh.status_code == 200
    assert "故障排除" in html(zh)
    assert "Care and cleaning" not in html(zh)  # no Chinese article in that topic


def test_search_in_chinese_finds_and_highlights(client, library):
    response = client.get("/help/zh-hans/search/", {"q": "热水器 E1"})
    assert response.status_code == 200
    page = html(response)
    assert "热水器显示 E1 故障代码怎么办" in page
    assert "<mark>" in page
    assert "/help/zh-hans/a/water-heater-e1/" in page
    log = SearchQueryLog.objects.get()
    assert (log.query, log.locale, log.source, log.results) == ("热水器 E1", "zh-hans", "help", 1)


def test_search_in_english_is_stemmed(client, library):
    page = html(client.get("/help/en/search/", {"q": "cleaned nozzle"}))
    results = page.split('id="kb-results"')[1]
    assert "Cleaning the shower head nozzles" in results
    assert "error E1" not in results


def test_search_filters_by_category_and_product(client, library):
    page = html(
        client.get("/help/en/search/", {"q": "shower head water heater", "category": library["care"].pk})
    )
    assert "Cleaning the shower head" in page and "error E1" not in page
    page = html(
        client.get("/help/en/search/", {"q": "shower head water heater", "product": library["heater"].pk})
    )
    assert "error E1" in page and "Cleaning the shower head" not in page


def test_a_typo_offers_did_you_mean(client, library):
    page = html(client.get("/help/en/search/", {"q": "showr nozzels"}))
    assert "Did you mean" in page


def test_drafts_and_internal_articles_are_never_visible(client, library):
    revise(library["e1_en"], title="E1 v2 DRAFT TITLE", body="UNPUBLISHED DRAFT BODY", publish_it=False)
    assert client.get("/help/en/a/secret-draft/").status_code == 404
    assert client.get("/help/en/a/ignition-repair-pricing/").status_code == 404
    article = html(client.get("/help/en/a/water-heater-e1/"))
    assert "The water heater shows error E1" in article
    assert "DRAFT" not in article
    for query in ("recall draft", "ignition electrode pricing", "UNPUBLISHED DRAFT"):
        page = html(client.get("/help/en/search/", {"q": query}))
        assert "Water heater recall draft" not in page
        assert "repair pricing" not in page
        assert "UNPUBLISHED DRAFT BODY" not in page


def test_article_page_shows_the_live_version_rendered_and_sanitised(client, library):
    article = publish(
        key="markdown-test",
        title="Markdown test",
        body="Some **bold** text.\n\n<script>alert('x')</script>\n\n[click](javascript:alert(1))\n\n1. one\n2. two",
    )
    revise(article, title="Markdown test", body="Second **version** text.")
    page = html(client.get("/help/en/a/markdown-test/"))
    assert "<strong>version</strong>" in page
    assert "Version 2" in page
    assert "<script>alert" not in page
    assert "javascript:" not in page
    assert 'datetime="' in page  # the published date


def test_article_links_to_its_translation(client, library):
    page = html(client.get("/help/en/a/water-heater-e1/"))
    assert 'href="/help/zh-hans/a/water-heater-e1/"' in page
    assert "阅读中文版" in page
    page = html(client.get("/help/zh-hans/a/water-heater-e1/"))
    assert "Read in English" in page


def test_switching_language_on_an_article_opens_its_translation(client, library):
    nozzle_zh = publish(
        key="penzui-qingjie",
        locale="zh-hans",
        title="清洁花洒出水孔",
        body="用手指揉搓硅胶出水孔。",
        translation_of=library["nozzle"],
    )
    response = client.post(
        "/i18n/setlang/", {"language": "zh-hans", "next": "/help/en/a/shower-head-nozzles/"}
    )
    assert response.url == "/help/zh-hans/a/shower-head-nozzles/"
    response = client.get(response.url)
    assert response.status_code == 302
    assert response.url == f"/help/zh-hans/a/{nozzle_zh.key}/"


def test_a_shared_link_shows_its_own_language_whatever_the_visitor_chose(client, library):
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    page = html(client.get("/help/en/a/water-heater-e1/"))
    assert '<html lang="en"' in page
    assert "Was this helpful?" in page


def test_unknown_article_and_category_are_404(client, library):
    assert client.get("/help/en/a/no-such-thing/").status_code == 404
    assert client.get("/help/en/c/no-such-topic/").status_code == 404
    assert client.get("/help/fr/").status_code == 404


def test_category_page_lists_its_live_articles(client, library):
    page = html(client.get("/help/en/c/care/"))
    assert "Cleaning the shower head nozzles" in page and "Cleaning the shower head filter" in page
    assert "Water heater recall draft" not in page


def test_feedback_is_one_vote_per_session(client, library):
    article = library["e1_en"]
    url = "/help/en/a/water-heater-e1/feedback/"
    response = client.post(url, {"helpful": "no", "comment": "Step 2 did not help"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "Thank you" in html(response)
    client.post(url, {"helpful": "yes"})  # the same visitor changes the vote
    assert ArticleFeedback.objects.filter(article=article).count() == 1
    feedback = ArticleFeedback.objects.get()
    assert feedback.helpful is True
    assert feedback.comment == "Step 2 did not help"
    assert feedback.version == article.published_version
    Client().post(url, {"helpful": "no"})  # another visitor
    article.refresh_from_db()
    assert (article.helpful_count, article.not_helpful_count) == (1, 1)
    assert ArticleFeedback.objects.count() == 2


def test_feedback_needs_yes_or_no(client, library):
    response = client.post(
        "/help/en/a/water-heater-e1/feedback/", {"helpful": "maybe"}, HTTP_HX_REQUEST="true"
    )
    assert "Choose yes or no." in html(response)
    assert not ArticleFeedback.objects.exists()


def test_searches_without_results_feed_the_missing_articles_list(client, library):
    import datetime as dt

    from django.utils import timezone

    for _ in range(3):
        client.get("/help/en/search/", {"q": "Solar panel inverter"})
    client.get("/help/en/search/", {"q": "solar  panel INVERTER!"})
    client.get("/help/en/search/", {"q": "water heater E1"})
    page = html(client.get("/help/en/search/", {"q": "Solar panel inverter"}))
    assert "We found no article for this." in page
    rows = missing_articles(since=timezone.now() - dt.timedelta(days=1))
    assert [(r["normalized"], r["count"]) for r in rows] == [("solar panel inverter", 5)]


def test_search_without_query_logs_nothing(client, library):
    assert client.get("/help/en/search/").status_code == 200
    assert not SearchQueryLog.objects.exists()


def test_bad_filter_values_do_not_break_the_search(client, library):
    response = client.get("/help/en/search/", {"q": "E1", "category": "x", "product": "-1", "page": "abc"})
    assert response.status_code == 200


def test_manual_pages_show_the_current_edition_its_contents_and_changes(client, library):
    from aftersales.knowledge.manual_services import manual_create, manual_publish_edition, manual_section_add

    from .web_support import editor

    user = editor()
    manual = manual_create(
        actor=user, slug="service-manual-en", title_zh="服务手册", title_en="Service manual", locale="en"
    )
    chapter = manual_section_add(actor=user, manual=manual, title="Water heaters")
    manual_section_add(actor=user, manual=manual, parent=chapter, article=library["e1_en"])
    manual_publish_edition(actor=user, manual=manual)
    revise(library["e1_en"], title="The water heater shows error E1", body="New text for E1.")
    manual_section_add(actor=user, manual=manual, parent=chapter, article=library["nozzle"])
    edition = manual_publish_edition(actor=user, manual=manual)

    page = html(client.get("/help/en/manual/"))
    assert "Service manual" in page and "v2" in page
    page = html(client.get("/help/en/manual/service-manual-en/"))
    assert "Current edition v2" in page
    assert 'href="/help/en/a/water-heater-e1/"' in page and "Water heaters" in page
    assert "v1 → v2" in page  # the E1 article changed
    assert "Cleaning the shower head nozzles" in page  # added
    assert f'href="/console/kb/editions/{edition.pk}/html/"' in page
    assert (
        client.get(f"/console/kb/editions/{edition.pk}/html/").status_code == 200
    )  # public manual, no login
    assert client.get("/help/en/manual/no-such-manual/").status_code == 404


def test_pages_do_not_query_per_article(client, library, django_assert_max_num_queries):
    for index in range(12):
        publish(
            key=f"filler-{index}",
            title=f"Shower head tip {index}",
            body="Clean the shower head often.",
            category=library["care"],
        )
    client.get("/help/en/")  # session, language and vocabulary caches warm
    with django_assert_max_num_queries(12):
        assert client.get("/help/en/").status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get("/help/en/c/care/").status_code == 200
    with django_assert_max_num_queries(16):
        assert client.get("/help/en/search/", {"q": "shower head"}).status_code == 200
