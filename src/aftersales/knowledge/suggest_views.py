"""Suggested answers while a ticket is written.

* Console: beside the reply form, articles matching the ticket's subject, description and the
  agent's draft (staff audience: internal articles too), in the customer's language. "Insert" puts
  the article's extract and link into the reply and records the use on the ticket
  (``TicketArticleUse`` via ``reply``) at once — the agent chose that article for this ticket.
* Portal: under the new-request form, public articles matching what the customer has typed, so
  the answer may be found before the request is sent.
Suggestion queries are not written to the search log (they fire while typing).
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language
from django.views.decorators.http import require_GET, require_POST

from aftersales.core.errors import ApplicationError, NotFound, PermissionDenied
from aftersales.tickets.models import Ticket
from aftersales.tickets.selectors import ticket_get_for_user

from .bot import article_extract, clean_text, normalize_locale
from .models import Article, UseVia
from .search import article_search
from .services import ticket_article_use
from .view_utils import customer_required, int_or_none, request_user, staff_required

MAX_QUERY_CHARS = 600
SUGGESTIONS = 5


def _query(*parts: str) -> str:
    text = clean_text(" ".join(p.strip() for p in parts if p and p.strip()))
    return text[-MAX_QUERY_CHARS:] if len(text) > MAX_QUERY_CHARS else text


def suggestions(*, query: str, locale: str, audience: str) -> list[dict[str, Any]]:
    """Matching live articles with their snippet, extract and link (best first)."""
    if not query.strip():
        return []
    result = article_search(query=query, locale=locale, audience=audience, limit=SUGGESTIONS)
    articles = {
        a.pk: a
        for a in Article.objects.filter(
            pk__in=[h.article_id for h in result.hits], published_version__isnull=False
        ).select_related("published_version")
    }
    rows = []
    for hit in result.hits:
        article = articles.get(hit.article_id)
        if article is None or article.published_version is None:
            continue
        rows.append(
            {
                "hit": hit,
                "article": article,
                "title": article.published_version.title,
                "extract": article_extract(article.published_version, query, locale),
                "path": reverse(
                    "knowledge:help-article", kwargs={"locale": article.locale, "key": article.key}
                ),
                "is_internal": article.audience != "public",
            }
        )
    return rows


def _ticket(request: HttpRequest, number: str) -> Ticket:
    user = request_user(request)
    assert user is not None
    try:
        return ticket_get_for_user(number=number, user=user)
    except (NotFound, PermissionDenied) as exc:
        raise Http404(str(exc.message)) from exc


@staff_required
@require_GET
def console_suggest(request: HttpRequest, number: str) -> HttpResponse:
    ticket = _ticket(request, number)
    locale = normalize_locale(getattr(ticket.customer, "language", "") or get_language())
    draft = (request.GET.get("body") or "")[:4000]
    query = _query(ticket.subject, ticket.description[:1000], draft)
    used = set(ticket.kb_article_uses.filter(via=UseVia.REPLY).values_list("article_id", flat=True))
    rows = suggestions(query=query, locale=locale, audience="staff")
    for row in rows:
        row["absolute_url"] = request.build_absolute_uri(row["path"])
        row["used"] = row["article"].pk in used
    return render(
        request,
        "knowledge/console/_suggestions.html",
        {"ticket": ticket, "rows": rows, "locale": locale},
    )


@staff_required
@require_POST
def console_use(request: HttpRequest, number: str) -> HttpResponse:
    """The agent inserted an article into the reply: record it on the ticket (once)."""
    ticket = _ticket(request, number)
    article_id = int_or_none(request.POST.get("article"))
    article = (
        Article.objects.filter(pk=article_id, published_version__isnull=False).first() if article_id else None
    )
    if article is None:
        raise Http404
    error = ""
    try:
        ticket_article_use(ticket=ticket, article=article, actor=request_user(request), via=UseVia.REPLY)
    except ApplicationError as exc:
        error = str(exc.message)
    return render(request, "knowledge/console/_used.html", {"article": article, "error": error})


@customer_required
@require_GET
def portal_suggest(request: HttpRequest) -> HttpResponse:
    locale = normalize_locale(get_language())
    query = _query((request.GET.get("subject") or "")[:300], (request.GET.get("description") or "")[:2000])
    rows = suggestions(query=query, locale=locale, audience="public")
    return render(request, "knowledge/help/_portal_suggestions.html", {"rows": rows, "locale": locale})
