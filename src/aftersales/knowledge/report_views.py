"""Knowledge-base reports in the console: frequent problems, missing articles, reader feedback."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.db.models import Count, Max, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from .models import Article, ArticleFeedback, BotChannel, BotOutcome, BotSession, Locale, UseVia
from .selectors import can_review, missing_articles, top_problems
from .view_utils import date_or, staff_required

DEFAULT_DAYS = 30


def _period(request: HttpRequest) -> tuple[dt.date, dt.date, dt.datetime, dt.datetime]:
    today = timezone.localdate()
    date_from = date_or(request.GET.get("from"), today - dt.timedelta(days=DEFAULT_DAYS))
    date_to = date_or(request.GET.get("to"), today)
    if date_to < date_from:
        date_from, date_to = date_to, date_from
    tz = timezone.get_current_timezone()
    since = dt.datetime.combine(date_from, dt.time.min, tz)
    until = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tz)
    return date_from, date_to, since, until


def _editor_new_url() -> str:
    """The editor's "new article" page (KB-CORE's); empty if the editor is not installed."""
    for name in ("knowledge:editor-new",):
        try:
            return reverse(name)
        except NoReverseMatch:
            continue
    return ""


def _article_links(article: Article) -> dict[str, str]:
    links = {"public": "", "editor": ""}
    if article.published_version_id and article.audience == "public":
        links["public"] = reverse(
            "knowledge:help-article", kwargs={"locale": article.locale, "key": article.key}
        )
    for name in ("knowledge:editor-article",):
        try:
            links["editor"] = reverse(name, kwargs={"article_id": article.pk})
            break
        except NoReverseMatch:
            continue
    return links


def _context(request: HttpRequest, tab: str, **extra: Any) -> dict[str, Any]:
    date_from, date_to, _since, _until = _period(request)
    return {
        "nav": "kb",
        "kb_tab": "reports",
        "kb_can_review": can_review(request.user),
        "tab": tab,
        "date_from": date_from,
        "date_to": date_to,
        **extra,
    }


@staff_required
@require_GET
def reports_home(request: HttpRequest) -> HttpResponse:
    return redirect("knowledge:report-top")


@staff_required
@require_GET
def top_problems_report(request: HttpRequest) -> HttpResponse:
    _from, _to, since, until = _period(request)
    rows = top_problems(since=since, until=until, limit=20)
    top = max((row["tickets"] for row in rows), default=0)
    for row in rows:
        row["links"] = _article_links(row["article"])
        row["share"] = round(100 * row["tickets"] / top) if top else 0
    return render(
        request,
        "knowledge/console/report_top.html",
        _context(request, "top", rows=rows, vias=UseVia.choices),
    )


@staff_required
@require_GET
def missing_articles_report(request: HttpRequest) -> HttpResponse:
    _from, _to, since, until = _period(request)
    locale = request.GET.get("locale") or ""
    if locale not in Locale.values:
        locale = ""
    rows = missing_articles(since=since, until=until, limit=50, locale=locale or None)
    new_url = _editor_new_url()
    for row in rows:
        row["write_url"] = (
            f"{new_url}?{urlencode({'title': row['example'], 'locale': row['locale']})}" if new_url else ""
        )
    return render(
        request,
        "knowledge/console/report_missing.html",
        _context(request, "missing", rows=rows, locale=locale, locales=Locale.choices),
    )


@staff_required
@require_GET
def feedback_report(request: HttpRequest) -> HttpResponse:
    """Articles readers found least helpful in the period, with their latest comments."""
    _from, _to, since, until = _period(request)
    in_period = Q(feedback__created_at__gte=since, feedback__created_at__lt=until)
    articles = list(
        Article.objects.annotate(
            no=Count("feedback", filter=in_period & Q(feedback__helpful=False)),
            yes=Count("feedback", filter=in_period & Q(feedback__helpful=True)),
            last=Max("feedback__created_at", filter=in_period),
        )
        .filter(no__gt=0)
        .select_related("published_version")
        .order_by("-no", "yes", "pk")[:30]
    )
    comments: dict[int, list[ArticleFeedback]] = {}
    for feedback in (
        ArticleFeedback.objects.filter(
            article__in=articles, helpful=False, created_at__gte=since, created_at__lt=until
        )
        .exclude(comment="")
        .order_by("-created_at")[:200]
    ):
        if len(comments.setdefault(feedback.article_id, [])) < 3:
            comments[feedback.article_id].append(feedback)
    rows = [
        {
            "article": a,
            "title": a.published_version.title if a.published_version else a.key,
            "no": a.no,
            "yes": a.yes,
            "last": a.last,
            "share_no": round(100 * a.no / (a.no + a.yes)),
            "comments": comments.get(a.pk, []),
            "links": _article_links(a),
        }
        for a in articles
    ]
    return render(request, "knowledge/console/report_feedback.html", _context(request, "feedback", rows=rows))


@staff_required
@require_GET
def bot_report(request: HttpRequest) -> HttpResponse:
    """The answer bot's conversations in the period: solved by the bot (deflected), handed over, open."""
    _from, _to, since, until = _period(request)
    sessions = BotSession.objects.filter(created_at__gte=since, created_at__lt=until).exclude(transcript=[])
    counts = {
        (row["channel"], row["outcome"]): row["n"]
        for row in sessions.values("channel", "outcome").annotate(n=Count("id")).order_by()
    }
    rows = []
    for channel, label in [*BotChannel.choices, ("", _("All channels"))]:
        by_outcome = {
            outcome: sum(n for (c, o), n in counts.items() if o == outcome and (not channel or c == channel))
            for outcome in BotOutcome.values
        }
        total = sum(by_outcome.values())
        if channel and not total:
            continue
        rows.append(
            {
                "label": label,
                "total": total,
                "by_outcome": by_outcome,
                "deflection": round(100 * by_outcome[BotOutcome.DEFLECTED] / total) if total else None,
                "handover": round(100 * by_outcome[BotOutcome.HANDED_OVER] / total) if total else None,
            }
        )
    handed_over = list(
        sessions.filter(outcome=BotOutcome.HANDED_OVER, ticket__isnull=False)
        .select_related("ticket", "customer")
        .order_by("-updated_at")[:20]
    )
    return render(
        request,
        "knowledge/console/report_bot.html",
        _context(request, "bot", rows=rows, outcomes=BotOutcome.choices, handed_over=handed_over),
    )
