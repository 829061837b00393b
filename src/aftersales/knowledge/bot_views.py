"""The "Ask us" panel: the answer bot in the help centre and for signed-in portal customers.

The conversation is a :class:`BotSession` whose public id is kept in the visitor's Django session.
Every action posts here (htmx swaps the panel; without JavaScript the page reloads).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from aftersales.core.client_address import client_address
from aftersales.core.errors import ApplicationError
from aftersales.core.rate_limit import RateLimit, rate_limit_exceeded
from aftersales.customers.services import customer_identify

from .bot import (
    KIND_CLARIFY,
    KIND_HANDOVER,
    bot_ask,
    bot_hand_over,
    bot_resolve,
    bot_session_start,
    clean_text,
    normalize_locale,
)
from .models import Article, BotChannel, BotOutcome, BotSession
from .view_utils import is_customer_user, is_htmx, request_user, use_locale

SESSION_KEY = "kb_bot_session"
# Abuse limits per client address (counted in the shared cache, so across every web process):
# questions per minute, and tickets a visitor without a login may open through the bot per hour.
ASKS_PER_MINUTE = 30
VISITOR_HAND_OVERS_PER_HOUR = 3


def _over_limit(request: HttpRequest, name: str, limit: int, window: int) -> bool:
    """Count one more event for this client in the window; True when the limit is exceeded."""
    rule = RateLimit(scope=f"kb-bot-{name}", limit=limit, window_seconds=window)
    return rate_limit_exceeded(rule, client_address(request))


def _channel(request: HttpRequest) -> str:
    return BotChannel.PORTAL if is_customer_user(request.user) else BotChannel.HELP


def current_session(request: HttpRequest, locale: str) -> BotSession | None:
    public_id = request.session.get(SESSION_KEY)
    if not public_id:
        return None
    session = BotSession.objects.filter(public_id=public_id).select_related("ticket").first()
    if session is None or session.locale != locale or session.channel != _channel(request):
        return None
    user = request_user(request)
    if session.user_id is not None and (user is None or user.pk != session.user_id):
        return None
    return session


def _session_for_ask(request: HttpRequest, locale: str) -> BotSession:
    session = current_session(request, locale)
    if session is None or session.outcome == BotOutcome.HANDED_OVER:
        session = bot_session_start(channel=_channel(request), locale=locale, user=request_user(request))
        request.session[SESSION_KEY] = str(session.public_id)
    return session


def _turns(session: BotSession | None) -> list[dict[str, Any]]:
    if session is None:
        return []
    ids = {int(s) for turn in session.transcript for s in (turn.get("sources") or [])}
    articles = {
        a.pk: a
        for a in Article.objects.filter(pk__in=ids, published_version__isnull=False).select_related(
            "published_version"
        )
    }
    turns = []
    for turn in session.transcript:
        sources = [articles[int(s)] for s in turn.get("sources") or [] if int(s) in articles]
        turns.append(
            {
                "role": turn.get("role"),
                "kind": turn.get("kind", ""),
                "text": turn.get("text", ""),
                "sources": [
                    {
                        "title": a.published_version.title if a.published_version else a.key,
                        "url": reverse("knowledge:help-article", kwargs={"locale": a.locale, "key": a.key}),
                    }
                    for a in sources
                ],
            }
        )
    return turns


def panel_context(
    request: HttpRequest, locale: str, session: BotSession | None = None, **extra: Any
) -> dict[str, Any]:
    session = session if session is not None else current_session(request, locale)
    turns = _turns(session)
    last_bot = next((t for t in reversed(turns) if t["role"] == "bot"), None)
    last_kind = last_bot["kind"] if last_bot else ""
    handed_over = bool(session and session.outcome == BotOutcome.HANDED_OVER)
    return {
        "locale": locale,
        "bot_session": session,
        "turns": turns,
        "last_kind": last_kind,
        "options": last_bot["sources"] if last_bot and last_kind == KIND_CLARIFY else [],
        "can_resolve": bool(
            session
            and not handed_over
            and any(t["kind"] == "answer" for t in turns)
            and last_kind == "answer"
        ),
        "deflected": bool(
            session and session.outcome == BotOutcome.DEFLECTED and turns and turns[-1]["kind"] == "resolved"
        ),
        "handed_over": handed_over,
        "is_customer": is_customer_user(request.user),
        "show_contact_form": extra.pop("show_contact_form", False),
        **extra,
    }


def _respond(
    request: HttpRequest, locale: str, session: BotSession | None = None, **extra: Any
) -> HttpResponse:
    if is_htmx(request):
        return render(request, "knowledge/bot/_panel.html", panel_context(request, locale, session, **extra))
    for line in extra.get("errors", []):
        from django.contrib import messages

        messages.error(request, line)
    return redirect(reverse("knowledge:bot-page", kwargs={"locale": locale}) + "#ask")


def _locale_from_post(request: HttpRequest) -> str:
    return use_locale(request, normalize_locale(request.POST.get("locale") or get_language()))


def _error_lines(exc: ApplicationError) -> list[str]:
    return [str(v) for v in exc.details.values()] or [str(exc.message)]


@require_GET
def bot_page(request: HttpRequest, locale: str) -> HttpResponse:
    locale = use_locale(request, locale)
    return render(
        request,
        "knowledge/bot/page.html",
        {"locale": locale, "nav": "help", **panel_context(request, locale)},
    )


def _hand_over_signed_in(request: HttpRequest, session: BotSession) -> list[str]:
    try:
        bot_hand_over(session=session, actor=request_user(request))
    except ApplicationError as exc:
        return _error_lines(exc)
    return []


@require_POST
def bot_ask_view(request: HttpRequest) -> HttpResponse:
    locale = _locale_from_post(request)
    question = (request.POST.get("question") or "").strip()
    errors: list[str] = []
    show_contact_form = False
    if _over_limit(request, "ask", ASKS_PER_MINUTE, 60):
        return _respond(
            request, locale, errors=[_("Too many questions at once; wait a minute and ask again.")]
        )
    try:
        session = _session_for_ask(request, locale)
        reply = bot_ask(session=session, question=question)
    except ApplicationError as exc:
        return _respond(request, locale, errors=_error_lines(exc))
    if reply.kind == KIND_HANDOVER:
        if is_customer_user(request.user):
            errors = _hand_over_signed_in(request, session)
        else:
            show_contact_form = True
    return _respond(request, locale, session, errors=errors, show_contact_form=show_contact_form)


@require_POST
def bot_resolve_view(request: HttpRequest) -> HttpResponse:
    locale = _locale_from_post(request)
    session = current_session(request, locale)
    if session is None:
        return _respond(request, locale, errors=[_("Ask a question first.")])
    solved = request.POST.get("solved") == "yes"
    try:
        bot_resolve(session=session, solved=solved)
    except ApplicationError as exc:
        return _respond(request, locale, session, errors=_error_lines(exc))
    return _respond(request, locale, session, unsolved=not solved)


@require_POST
def bot_hand_over_view(request: HttpRequest) -> HttpResponse:
    """Talk to a person: a signed-in customer's ticket is opened at once; a visitor leaves contact details."""
    locale = _locale_from_post(request)
    session = current_session(request, locale)
    if session is None or session.outcome == BotOutcome.HANDED_OVER:
        session = bot_session_start(channel=_channel(request), locale=locale, user=request_user(request))
        request.session[SESSION_KEY] = str(session.public_id)
    if is_customer_user(request.user):
        errors = _hand_over_signed_in(request, session)
        return _respond(request, locale, session, errors=errors)
    name = clean_text(request.POST.get("name") or "").strip()[:120]
    email = clean_text(request.POST.get("email") or "").strip()[:254]
    phone = clean_text(request.POST.get("phone") or "").strip()[:40]
    if not (email or phone):
        errors = [_("Leave an e-mail address or a phone number so that we can reach you.")]
        if "contact" not in request.POST:
            errors = []
        return _respond(
            request, locale, session, errors=errors, show_contact_form=True, contact={"name": name}
        )
    if _over_limit(request, "hand-over", VISITOR_HAND_OVERS_PER_HOUR, 3600):
        return _respond(
            request,
            locale,
            session,
            errors=[_("Too many requests from your network; please try again later or call us.")],
            show_contact_form=True,
            contact={"name": name, "email": email, "phone": phone},
        )
    try:
        customer, contact, _created = customer_identify(
            actor=None, name=name, email=email, phone=phone, channel="web"
        )
        bot_hand_over(session=session, actor=None, customer=customer, contact=contact)
    except ApplicationError as exc:
        return _respond(
            request,
            locale,
            session,
            errors=_error_lines(exc),
            show_contact_form=True,
            contact={"name": name, "email": email, "phone": phone},
        )
    return _respond(request, locale, session)


@require_POST
def bot_restart_view(request: HttpRequest) -> HttpResponse:
    locale = _locale_from_post(request)
    request.session.pop(SESSION_KEY, None)
    return _respond(request, locale, None)
