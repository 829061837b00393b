"""/api/v1/kb: the workflow over HTTP and who may do what (a refused call changes nothing)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from aftersales.core.roles import Role
from aftersales.knowledge import services
from aftersales.knowledge.models import Article, ArticleVersion, ManualEdition, VersionStatus
from tests.factories import UserFactory, customer_user

from .core_factories import draft_article, published_article, reviewer, writer

pytestmark = pytest.mark.django_db

BASE = "/api/v1/kb"


def _create(client, **overrides):
    payload = {
        "locale": "en",
        "key": "reset-filter",
        "title": "Reset the filter",
        "body": "Turn off the water.",
        "tags": ["filter"],
    }
    payload.update(overrides)
    return client.post(f"{BASE}/articles", payload)


def test_the_whole_workflow_over_the_api(api_as):
    author = api_as(writer())
    approver = api_as(reviewer())
    response = _create(author)
    assert response.status_code == 201, response.content
    article = response.json()
    assert article["published_version"] is None and article["tags"] == ["filter"]
    article_id = article["id"]

    response = author.post(f"{BASE}/articles/{article_id}/versions/1/submit")
    assert response.status_code == 200 and response.json()["status"] == "review"

    response = author.post(f"{BASE}/articles/{article_id}/versions/1/publish", {})
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert ArticleVersion.objects.get(article_id=article_id).status == VersionStatus.REVIEW

    response = approver.post(f"{BASE}/articles/{article_id}/versions/1/publish", {})
    assert response.status_code == 200
    assert response.json()["status"] == "published" and response.json()["reviewer"]

    client = author.client
    response = client.put(
        f"{BASE}/articles/{article_id}/draft",
        data={"title": "Reset the filter", "body": "Turn off the water first.", "change_note": "clearer"},
        content_type="application/json",
    )
    assert response.status_code == 200 and response.json()["number"] == 2
    author.post(f"{BASE}/articles/{article_id}/versions/2/submit")
    approver.post(f"{BASE}/articles/{article_id}/versions/2/publish", {})

    response = author.get(f"{BASE}/articles/{article_id}/diff", {"from": 1, "to": 2})
    assert response.status_code == 200
    body = next(field for field in response.json()["fields"] if field["name"] == "body")
    assert body["changed"] is True
    assert body["lines"][0]["segments"] == [
        {"kind": "equal", "text": "Turn off the water"},
        {"kind": "insert", "text": " first"},
        {"kind": "equal", "text": "."},
    ]

    response = author.post(f"{BASE}/articles/{article_id}/rollback", {"to_version": 1})
    assert response.status_code == 403
    response = approver.post(f"{BASE}/articles/{article_id}/rollback", {"to_version": 1})
    assert response.status_code == 200
    assert (response.json()["number"], response.json()["based_on"], response.json()["status"]) == (
        3,
        1,
        "published",
    )

    versions = author.get(f"{BASE}/articles/{article_id}/versions").json()["items"]
    assert [(v["number"], v["status"]) for v in versions] == [
        (3, "published"),
        (2, "superseded"),
        (1, "superseded"),
    ]


def test_a_published_version_cannot_be_changed_over_the_api(api_as):
    author, approver = writer(), reviewer()
    article, _version = published_article(actor=author, approver=approver)
    client = api_as(approver)
    response = client.post(f"{BASE}/articles/{article.pk}/versions/1/reject", {"note": "too late"})
    assert response.status_code == 409
    assert response.json()["code"] == "version_immutable"
    assert ArticleVersion.objects.get(article=article).status == VersionStatus.PUBLISHED


def test_customers_see_only_published_public_articles(api_as):
    author, approver = writer(), reviewer()
    public, _v = published_article(actor=author, approver=approver, key="public-one")
    internal, _v = published_article(actor=author, approver=approver, key="internal-one", audience="internal")
    draft = draft_article(actor=author, key="draft-one")
    customer = api_as(customer_user())

    listed = customer.get(f"{BASE}/articles").json()["items"]
    assert [item["key"] for item in listed] == ["public-one"]
    assert customer.get(f"{BASE}/articles/{public.pk}").status_code == 200
    assert customer.get(f"{BASE}/articles/{internal.pk}").status_code == 404
    assert customer.get(f"{BASE}/articles/{draft.pk}").status_code == 404
    assert customer.get(f"{BASE}/articles/by-key/en/public-one").status_code == 200
    assert customer.get(f"{BASE}/articles/by-key/en/draft-one").status_code == 404
    # Only the live version, never the history or drafts.
    assert [v["number"] for v in customer.get(f"{BASE}/articles/{public.pk}/versions").json()["items"]] == [1]
    assert _create(customer, key="mine").status_code == 403
    assert not Article.objects.filter(key="mine").exists()

    technician = api_as(UserFactory(role=Role.TECHNICIAN))
    keys = sorted(item["key"] for item in technician.get(f"{BASE}/articles").json()["items"])
    assert keys == ["internal-one", "public-one"]
    assert technician.get(f"{BASE}/articles/{draft.pk}").status_code == 404


def test_anonymous_requests_need_a_token(client):
    assert client.get(f"{BASE}/articles").status_code == 401


def test_feedback_counts_one_vote_per_user(api_as):
    author, approver = writer(), reviewer()
    article, _v = published_article(actor=author, approver=approver)
    customer = api_as(customer_user())
    response = customer.post(f"{BASE}/articles/{article.pk}/feedback", {"helpful": True})
    assert response.status_code == 200 and response.json()["helpful_count"] == 1
    response = customer.post(
        f"{BASE}/articles/{article.pk}/feedback", {"helpful": False, "comment": "not my model"}
    )
    assert (response.json()["helpful_count"], response.json()["not_helpful_count"]) == (0, 1)
    other = api_as(customer_user())
    response = other.post(f"{BASE}/articles/{article.pk}/feedback", {"helpful": True})
    assert (response.json()["helpful_count"], response.json()["not_helpful_count"]) == (1, 1)


def test_manual_editions_over_the_api(api_as):
    author, approver = writer(), reviewer()
    article, _v = published_article(actor=author, approver=approver)
    manual = services.manual_create(
        actor=author, slug="handbook", title_zh="手册", title_en="Handbook", locale="en"
    )
    services.manual_section_add(actor=author, manual=manual, title="Care", article=article)
    internal = services.manual_create(
        actor=author, slug="internal-handbook", title_zh="内部", audience="internal"
    )
    services.manual_section_add(actor=author, manual=internal, title="Care", article=article)

    assert api_as(author).post(f"{BASE}/manuals/handbook/editions", {}).status_code == 403
    response = api_as(approver).post(f"{BASE}/manuals/handbook/editions", {"label": "2026.1"})
    assert response.status_code == 201, response.content
    edition = response.json()
    assert edition["label"] == "2026.1" and edition["changes"]["added"][0]["title"] == "Care"
    services.manual_publish_edition(actor=UserFactory(role=Role.ADMIN), manual=internal)

    customer = api_as(customer_user())
    assert [m["slug"] for m in customer.get(f"{BASE}/manuals").json()["items"]] == ["handbook"]
    pdf = customer.get(edition["pdf_url"])
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert b"".join(pdf.streaming_content).startswith(b"%PDF")
    html = customer.get(edition["html_url"])
    assert html.status_code == 200 and "Rinse the filter." in html.content.decode()
    hidden = ManualEdition.objects.get(manual=internal)
    assert customer.get(f"{BASE}/editions/{hidden.pk}/pdf").status_code == 404
    assert (
        api_as(UserFactory(role=Role.TECHNICIAN)).get(f"{BASE}/editions/{hidden.pk}/pdf").status_code == 200
    )


def test_validation_errors_are_422_not_500(api_as):
    client = api_as(writer())
    assert _create(client, key="Not a key").status_code == 422
    assert _create(client, locale="fr").status_code == 422
    assert _create(client, body="nul\x00byte").status_code == 422
    assert client.get(f"{BASE}/articles/99999999999/diff", {"from": 1, "to": 2}).status_code == 404
    assert client.get(f"{BASE}/articles", {"cursor": "garbage"}).status_code == 422
    assert not Article.objects.exists()


def test_the_article_list_pages_with_a_fixed_number_of_queries(api_as):
    author, approver = writer(), reviewer()
    for index in range(3):
        published_article(actor=author, approver=approver, key=f"article-{index}")
    client = api_as(author)
    client.get(f"{BASE}/categories")  # the token's first use is recorded once; not part of the count
    with CaptureQueriesContext(connection) as first:
        page = client.get(f"{BASE}/articles", {"limit": 2}).json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    for index in range(3, 8):
        published_article(actor=author, approver=approver, key=f"article-{index}")
    with CaptureQueriesContext(connection) as second:
        client.get(f"{BASE}/articles", {"limit": 6})
    assert len(second.captured_queries) == len(first.captured_queries)
    rest = client.get(f"{BASE}/articles", {"limit": 2, "cursor": page["next_cursor"]}).json()
    assert not {item["id"] for item in rest["items"]} & {item["id"] for item in page["items"]}
