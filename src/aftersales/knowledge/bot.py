"""The answer bot: answers from published public articles, asks when unsure, hands over to a person.

One question goes through :func:`bot_ask`:

1. A customer asking for a person ("转人工", "human", …) is handed over at once (kind ``handover``).
2. Otherwise the question is searched (``article_search``, published public articles in the session's
   language). Each of the top hits gets a **term coverage**: the share of the question's own content
   words (tokenised like the index, stop words removed) found in the article's title, summary and
   body. (The search's BM25 score says which article ranks first; coverage says whether the
   article is really about what was asked — the score alone cannot tell "no answer" from "an answer".)
3. **Hand over** when none of the first three hits covers ``MIN_COVERAGE`` of the question: the
   help centre has nothing on it.
4. **Answer** when the first hit covers at least ``ANSWER_MIN_COVERAGE`` of the question and the
   second scores below ``CLARIFY_RATIO`` × the first: a short extract — the article's paragraph or
   list of steps sharing most words with the question — and a link to the source.
5. Otherwise **clarify**: the first three hits scoring at least ``OPTION_FLOOR`` × the first are
   offered ("which of these is closest?"); the customer picks one by title or number.

The thresholds were chosen on the demo manual's evaluation questions (``bench/bot_eval.py``; the
figures per language and database are in docs/help-centre.md): few confident answers are wrong,
and when the bot asks, the right article is usually among the options.

``bot_resolve(solved=True)`` records a deflection (solved without a ticket, confirmed by the
customer); :func:`bot_hand_over` opens a ticket carrying the transcript (portal, help centre) or links
the chat's ticket, and records which articles the bot showed (``TicketArticleUse`` via ``bot``).
The channels call these functions directly; their names and meaning are a contract.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from aftersales.core.errors import Conflict, ValidationFailed
from aftersales.core.models import User
from aftersales.core.services import audit_record
from aftersales.customers.models import Contact, Customer
from aftersales.tickets.models import Channel, Ticket, TicketMessage
from aftersales.tickets.selectors import customer_id_for
from aftersales.tickets.services import ticket_add_message, ticket_open

from . import llm
from .models import (
    Article,
    ArticleVersion,
    BotChannel,
    BotOutcome,
    BotSession,
    Locale,
    SearchSource,
    UseVia,
)
from .search import SearchHit, article_search, tokenize
from .services import search_log, ticket_article_use
from .text import synonym_rules

__all__ = [
    "BotReply",
    "BotSource",
    "asks_for_person",
    "bot_ask",
    "bot_hand_over",
    "bot_resolve",
    "bot_session_start",
    "normalize_locale",
]

MAX_QUESTION_CHARS = 1000
MAX_TURNS = 200
SEARCH_LIMIT = 5
# Confidence rules (see the module docstring); tests pin each branch.
MIN_COVERAGE = 0.34
ANSWER_MIN_COVERAGE = 0.66
CLARIFY_RATIO = 0.9  # a second hit scoring ≥ 0.9 × the first makes the first not clear enough
OPTION_FLOOR = 0.3  # clarifying options score at least 0.3 × the first
MAX_OPTIONS = 3
EXTRACT_MAX_CHARS = 600

KIND_ANSWER = "answer"
KIND_CLARIFY = "clarify"
KIND_HANDOVER = "handover"


@dataclass(frozen=True)
class BotSource:
    article_id: int
    title: str
    url: str


@dataclass(frozen=True)
class BotReply:
    kind: str  # "answer" | "clarify" | "handover"
    text: str  # already in the session's language
    sources: list[BotSource]
    options: list[str]  # clarifying choices for kind == "clarify"


# --- asking for a person ---------------------------------------------------------------------------

_PERSON_ZH = ("转人工", "人工", "客服", "真人", "活人", "找人", "工作人员", "接线员", "坐席", "人工服务")
_PERSON_EN = re.compile(
    r"\b(human|humans|agent|agents|person|people|operator|representative|rep|someone|somebody|staff)\b",
    re.IGNORECASE,
)


def asks_for_person(text: str) -> bool:
    """Whether the customer asks to talk to a person (Chinese or English)."""
    return any(word in text for word in _PERSON_ZH) or bool(_PERSON_EN.search(text))


# --- language ----------------------------------------------------------------------------------------


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(text: str) -> str:
    """Text without control characters (PostgreSQL refuses NUL; none of them means anything here)."""
    return _CONTROL.sub("", text)


def normalize_locale(value: str | None) -> str:
    """ "zh-Hans", "zh_CN", "zh" → "zh-hans"; anything else → "en"."""
    value = (value or "").strip().lower().replace("_", "-")
    return Locale.ZH_HANS if value.startswith("zh") else Locale.EN


# --- relevance -----------------------------------------------------------------------------------

_STOP_ZH = (
    "的 了 吗 呢 吧 啊 呀 么 嘛 怎么 怎么办 怎么样 怎样 如何 什么 为什么 为何 我 我们 我的 你 你们 您 他 她 它 是 在 有 "
    "和 与 及 或 要 会 能 能否 可以 可不可以 请问 请 一下 这个 那个 这 那 哪里 哪儿 哪 多少 几 不 没有 没 就 都 也 还 该 "
    "应该 时候 需要 想 想要 一直 总是 老是 出现 问题 办 做 弄 给 让 把 被 对 从 到 上 下 中 里 后 前 时 个 吧 嗯 谢谢 你好 您好"
)
_STOP_EN = (
    "a an the i i'm im my me we our you your he she it its they them is are was were be been being do does "
    "did doing done how what why when where which who whom can could should would will shall may might must "
    "to of in on for with this that these those and or not no yes please help at from by as have has had "
    "there here get got any some about into out up down just so if then than too very also again still keep "
    "keeps kept thing things something problem issue hi hello thanks thank"
)


@cache
def _stop_tokens(locale: str) -> frozenset[str]:
    words = _STOP_ZH.split() if locale == Locale.ZH_HANS else _STOP_EN.split()
    tokens: set[str] = set()
    for word in words:
        tokens.update(tokenize(word, locale))
    tokens.update(words)
    return frozenset(tokens)


def content_terms(text: str, locale: str) -> list[str]:
    """The question's content terms as the index sees them, stop words and punctuation removed."""
    stop = _stop_tokens(locale) | _stop_tokens(Locale.EN)
    seen: list[str] = []
    for token in tokenize(text, locale):
        token = token.strip().lower()
        if not token or token in stop or not any(ch.isalnum() for ch in token) or token in seen:
            continue
        seen.append(token)
    return seen


def term_coverage(
    terms: list[str], text: str, locale: str, question_terms: Iterable[str] | None = None
) -> float:
    """Share of ``terms`` found in ``text`` (0 when there are no terms).

    A term counts when it is one of the text's tokens, a substring of it (a product code or a
    compound the tokenizer cut differently), or when a domain synonym rule (``dictionary/
    synonyms.txt``, the one the search expands queries with) that applies to the question
    (``question_terms``, default ``terms``) maps it to words the text has: "厕所" is covered by an
    article about "马桶", "tap" by one about the "faucet".
    """
    if not terms:
        return 0.0
    tokens = {token.lower() for token in tokenize(text, locale)}
    lowered = text.lower()
    covered = {term for term in terms if term in tokens or (len(term) >= 2 and term in lowered)}
    missing = set(terms) - covered
    if missing:
        asked = set(question_terms if question_terms is not None else terms) | set(terms)
        for rule in synonym_rules():
            applies = rule.source & missing and rule.source <= asked
            if applies and any(all(term in tokens for term in group) for group in rule.targets):
                covered |= rule.source & missing
                missing -= rule.source
    groups = term_groups(terms)
    return sum(1 for group in groups if group & covered) / len(groups)


def _is_cjk(term: str) -> bool:
    return bool(term) and all("\u3400" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff" for char in term)


def term_groups(terms: list[str]) -> list[set[str]]:
    """The question's words: jieba's search mode cuts "停不下来" into 停不下来, 停不下, 不下, 下来 —
    one word, not four. A Chinese term inside a longer Chinese term joins that term's group; a group
    counts as covered when any of its members is."""
    groups: list[tuple[str, set[str]]] = []
    for term in sorted(terms, key=len, reverse=True):
        head = next((h for h, _members in groups if _is_cjk(term) and _is_cjk(h) and term in h), None)
        if head is None:
            groups.append((term, {term}))
        else:
            next(members for h, members in groups if h == head).add(term)
    return [members for _head, members in groups]


def _version_text(version: ArticleVersion) -> str:
    return f"{version.title}\n{version.summary}\n{version.body}"


# --- extracts ------------------------------------------------------------------------------------

_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)、])\s+")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_EMPHASIS = re.compile(r"(\*\*|__|`)")


def _blocks(body: str) -> list[str]:
    """Paragraphs and lists of the Markdown body; a heading or a line ending in ':' joins what follows."""
    raw = [block.strip("\n") for block in re.split(r"\n\s*\n", body.replace("\r\n", "\n")) if block.strip()]
    blocks: list[str] = []
    carry = ""
    for block in raw:
        lines = block.split("\n")
        is_heading_only = len(lines) == 1 and bool(_HEADING.match(lines[0]))
        if is_heading_only:
            carry = f"{carry}\n{block}".strip("\n")
            continue
        is_list = all(_LIST_ITEM.match(line) or line.startswith(("  ", "\t")) for line in lines)
        if is_list and blocks and blocks[-1].rstrip().endswith((":", "：")) and not carry:
            blocks[-1] = f"{blocks[-1]}\n{block}"
            continue
        blocks.append(f"{carry}\n{block}".strip("\n") if carry else block)
        carry = ""
    if carry:
        blocks.append(carry)
    return blocks


def plain_text(markdown_text: str) -> str:
    """Markdown to readable plain text: headings, emphasis and link targets dropped, lists kept."""
    lines = []
    for line in markdown_text.split("\n"):
        line = _HEADING.sub("", line)
        line = _LINK.sub(r"\1", line)
        line = _EMPHASIS.sub("", line)
        lines.append(line.rstrip())
    return "\n".join(lines).strip()


def _shorten(text: str, limit: int = EXTRACT_MAX_CHARS) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit]
    newline = cut.rfind("\n")
    if newline > limit // 2:
        cut = cut[:newline]
    return cut.rstrip() + " …"


def _has_steps(block: str) -> bool:
    return any(_LIST_ITEM.match(line) for line in block.split("\n"))


def article_extract(version: ArticleVersion, question: str, locale: str) -> str:
    """The paragraph or list of steps of the article most about the question, as plain text.

    The block sharing most terms with the question wins (steps get a small bonus, an earlier block
    wins a tie); a paragraph that introduces a list of steps brings the steps along.
    """
    terms = content_terms(question, locale)
    blocks = _blocks(version.body)
    best_index, best_score = -1, 0.0
    for index, block in enumerate(blocks):
        score = term_coverage(terms, block, locale)
        if _has_steps(block):
            score += 0.05  # steps answer "how do I" better than prose with the same words
        score -= index * 0.001
        if score > best_score:
            best_index, best_score = index, score
    if best_index < 0:
        return _shorten(plain_text(version.summary or (blocks or [version.title])[0]))
    best = blocks[best_index]
    if not _has_steps(best) and best_index + 1 < len(blocks) and _has_steps(blocks[best_index + 1]):
        best = f"{best}\n\n{blocks[best_index + 1]}"
    return _shorten(plain_text(best))


# --- sessions ------------------------------------------------------------------------------------


def article_url(article: Article) -> str:
    return reverse("knowledge:help-article", kwargs={"locale": article.locale, "key": article.key})


def _now_iso() -> str:
    return timezone.now().isoformat()


@transaction.atomic
def bot_session_start(
    *, channel: str, locale: str, customer: Customer | None = None, user: User | None = None
) -> BotSession:
    if channel not in BotChannel.values:
        raise ValidationFailed(details={"channel": _("Unknown channel.")})
    if user is not None and not user.is_authenticated:
        user = None
    if customer is None and user is not None and user.is_customer:
        customer_id = customer_id_for(user)
        customer = Customer.objects.filter(pk=customer_id).first() if customer_id else None
    session = BotSession.objects.create(
        channel=channel, locale=normalize_locale(locale), customer=customer, user=user
    )
    audit_record(
        actor=user, obj=session, action="kb.bot.start", after={"channel": channel, "locale": session.locale}
    )
    return session


def _locked(session: BotSession) -> BotSession:
    return BotSession.objects.select_for_update().get(pk=session.pk)


def _sync(target: BotSession, source: BotSession) -> BotSession:
    for field in ("transcript", "outcome", "ticket_id", "customer_id", "updated_at"):
        setattr(target, field, getattr(source, field))
    return target


def _offered_options(session: BotSession) -> list[int]:
    """Article ids of the options the bot's last turn offered, if it was a clarifying question."""
    for turn in reversed(session.transcript):
        if turn.get("role") == "bot":
            return list(turn.get("sources") or []) if turn.get("kind") == KIND_CLARIFY else []
    return []


def _clarified_question(session: BotSession) -> str:
    """The customer's question the last clarifying question was about."""
    turns = session.transcript
    for index in range(len(turns) - 1, 0, -1):
        if turns[index].get("role") == "bot":
            previous = turns[index - 1]
            return str(previous.get("text", "")) if previous.get("role") == "customer" else ""
    return ""


def _chosen_option(question: str, options: list[int], locale: str) -> int | None:
    text = question.strip().rstrip(".。").strip()
    if text.isdigit() and 1 <= int(text) <= len(options):
        return options[int(text) - 1]
    titles = dict(
        Article.objects.filter(pk__in=options, published_version__isnull=False).values_list(
            "pk", "published_version__title"
        )
    )
    for article_id in options:
        title = titles.get(article_id)
        if title and title.strip().casefold() == text.casefold():
            return article_id
    return None


def _live_versions(article_ids: list[int], locale: str) -> dict[int, tuple[Article, ArticleVersion]]:
    articles = Article.objects.filter(
        pk__in=article_ids,
        locale=locale,
        audience="public",
        published_version__isnull=False,
    ).select_related("published_version")
    return {a.pk: (a, a.published_version) for a in articles if a.published_version is not None}


def _source(article: Article, version: ArticleVersion) -> BotSource:
    return BotSource(article_id=article.pk, title=version.title, url=article_url(article))


def _answer(article: Article, version: ArticleVersion, question: str, locale: str) -> BotReply:
    extract = article_extract(version, question, locale)
    text = _("From our help centre, “%(title)s”:") % {"title": version.title} + "\n\n" + extract
    return BotReply(kind=KIND_ANSWER, text=text, sources=[_source(article, version)], options=[])


def _llm_answer(
    question: str, candidates: list[tuple[Article, ArticleVersion]], locale: str
) -> BotReply | None:
    extracts = [
        llm.LlmExtract(article_id=a.pk, title=v.title, text=article_extract(v, question, locale))
        for a, v in candidates
    ]
    result = llm.llm_answer(question=question, extracts=extracts, locale=locale)
    if result is None:
        return None
    by_id = {a.pk: (a, v) for a, v in candidates}
    sources = [_source(*by_id[article_id]) for article_id in result.cited_article_ids]
    return BotReply(kind=KIND_ANSWER, text=result.text, sources=sources, options=[])


def _handover_reply(asked: bool) -> BotReply:
    text = (
        _("Of course — I am passing you to a person from our service team.")
        if asked
        else _("I could not find an answer to that in our help centre. I am passing you to a person.")
    )
    return BotReply(kind=KIND_HANDOVER, text=text, sources=[], options=[])


def _decide(question: str, locale: str, user: User | None) -> BotReply:
    result = article_search(query=question, locale=locale, audience="public", limit=SEARCH_LIMIT)
    search_log(
        query=question[:300],
        locale=locale,
        audience="public",
        results=result.total,
        source=SearchSource.BOT,
        user=user,
    )
    live = _live_versions([hit.article_id for hit in result.hits], locale)
    hits: list[SearchHit] = [hit for hit in result.hits if hit.article_id in live]
    if not hits:
        return _handover_reply(asked=False)
    terms = content_terms(question, locale)
    asked = tokenize(question, locale)
    coverage = {
        hit.article_id: term_coverage(terms, _version_text(live[hit.article_id][1]), locale, asked)
        for hit in hits[:MAX_OPTIONS]
    }
    if max(coverage.values()) < MIN_COVERAGE:
        return _handover_reply(asked=False)
    top = hits[0]
    ratio = hits[1].score / top.score if len(hits) > 1 and top.score > 0 else 0.0
    options = [hit for hit in hits[:MAX_OPTIONS] if hit.score >= top.score * OPTION_FLOOR]
    if (coverage[top.article_id] < ANSWER_MIN_COVERAGE or ratio >= CLARIFY_RATIO) and len(options) > 1:
        sources = [_source(*live[hit.article_id]) for hit in options]
        return BotReply(
            kind=KIND_CLARIFY,
            text=_("Which of these is closest to your question?"),
            sources=sources,
            options=[source.title for source in sources],
        )
    if coverage[top.article_id] < MIN_COVERAGE:
        return _handover_reply(asked=False)
    article, version = live[top.article_id]
    if llm.llm_enabled():
        candidates = [live[hit.article_id] for hit in hits[:MAX_OPTIONS]]
        worded = _llm_answer(question, candidates, locale)
        if worded is not None:
            return worded
    return _answer(article, version, question, locale)


def _turn(role: str, text: str, *, kind: str = "", sources: list[int] | None = None) -> dict[str, object]:
    turn: dict[str, object] = {"role": role, "text": text, "sources": sources or [], "at": _now_iso()}
    if kind:
        turn["kind"] = kind
    return turn


@transaction.atomic
def bot_ask(*, session: BotSession, question: str) -> BotReply:
    """Answer one question; both turns are recorded in the session's transcript."""
    question = clean_text(question or "").strip()
    if not question:
        raise ValidationFailed(details={"question": _("Ask a question.")})
    if len(question) > MAX_QUESTION_CHARS:
        raise ValidationFailed(
            details={"question": _("A question is at most %(n)d characters.") % {"n": MAX_QUESTION_CHARS}}
        )
    locked = _locked(session)
    if locked.outcome == BotOutcome.HANDED_OVER:
        raise Conflict(_("This conversation was handed over to a person."), code="bot_handed_over")
    if len(locked.transcript) >= MAX_TURNS:
        raise Conflict(_("This conversation is too long; start a new one."), code="bot_too_long")
    locale = normalize_locale(locked.locale)
    with translation.override(locale):
        if asks_for_person(question):
            reply = _handover_reply(asked=True)
        else:
            options = _offered_options(locked)
            chosen = _chosen_option(question, options, locale) if options else None
            live = _live_versions([chosen], locale) if chosen else {}
            if chosen and chosen in live:
                article, version = live[chosen]
                # The extract answers what was asked, not the option's title.
                reply = _answer(article, version, f"{_clarified_question(locked)} {question}", locale)
            else:
                reply = _decide(question, locale, locked.user)
    locked.transcript = [
        *locked.transcript,
        _turn("customer", question),
        _turn("bot", reply.text, kind=reply.kind, sources=[s.article_id for s in reply.sources]),
    ]
    locked.updated_at = timezone.now()
    locked.save(update_fields=["transcript", "updated_at"])
    _sync(session, locked)
    return reply


@transaction.atomic
def bot_resolve(*, session: BotSession, solved: bool) -> BotSession:
    """The customer says the answer solved it (→ deflected) or not (the conversation stays open)."""
    locked = _locked(session)
    if locked.outcome == BotOutcome.HANDED_OVER:
        raise Conflict(_("This conversation was handed over to a person."), code="bot_handed_over")
    if not any(turn.get("role") == "bot" and turn.get("kind") == KIND_ANSWER for turn in locked.transcript):
        raise Conflict(_("The assistant has not answered anything yet."), code="bot_nothing_answered")
    before = locked.outcome
    with translation.override(normalize_locale(locked.locale)):
        if solved:
            locked.outcome = BotOutcome.DEFLECTED
            note = _("The customer confirmed this solved the problem.")
        else:
            locked.outcome = BotOutcome.OPEN
            note = _("The customer said this did not solve the problem.")
    locked.transcript = [
        *locked.transcript,
        _turn("customer", note, kind="resolved" if solved else "unsolved"),
    ]
    locked.updated_at = timezone.now()
    locked.save(update_fields=["outcome", "transcript", "updated_at"])
    audit_record(
        actor=locked.user,
        obj=locked,
        action="kb.bot.resolve",
        before={"outcome": before},
        after={"outcome": locked.outcome},
    )
    return _sync(session, locked)


def transcript_text(session: BotSession) -> str:
    """The conversation as plain text for a ticket, in the session's language."""
    with translation.override(normalize_locale(session.locale)):
        names = {"customer": _("Customer"), "bot": _("Assistant"), "agent": _("Agent")}
        lines = [_("Conversation with the answer bot:"), ""]
        for turn in session.transcript:
            at = str(turn.get("at", ""))[:16].replace("T", " ")
            role = names.get(str(turn.get("role")), str(turn.get("role")))
            lines.append(f"[{at}] {role}: {turn.get('text', '')}")
            sources = turn.get("sources") or []
            if sources and turn.get("role") == "bot":
                urls = {a.pk: article_url(a) for a in Article.objects.filter(pk__in=sources)}
                lines.extend(f"    → {urls[s]}" for s in sources if s in urls)
        return "\n".join(lines)


def _first_question(session: BotSession) -> str:
    for turn in session.transcript:
        if turn.get("role") == "customer" and not turn.get("kind"):
            return str(turn.get("text", ""))
    return ""


def _shown_articles(session: BotSession) -> list[int]:
    shown: list[int] = []
    for turn in session.transcript:
        if turn.get("role") == "bot" and turn.get("kind") == KIND_ANSWER:
            shown.extend(int(s) for s in turn.get("sources") or [] if int(s) not in shown)
    return shown


@transaction.atomic
def bot_hand_over(
    *,
    session: BotSession,
    actor: User | None = None,
    customer: Customer | None = None,
    ticket: Ticket | None = None,
    subject: str = "",
    contact: Contact | None = None,
) -> BotSession:
    """Hand the conversation to a person.

    With ``ticket`` (the chat's own ticket) the session is linked to it and the transcript is added
    as an internal note. Otherwise a ticket is opened on the web channel for the customer (the
    signed-in customer ``actor``, or ``customer`` identified by the caller for an anonymous
    visitor — ``actor=None``) with the transcript as its description. Either way the articles the
    bot answered with are recorded on the ticket (via ``bot``). Handing over twice returns the
    session unchanged.
    """
    locked = _locked(session)
    if locked.outcome == BotOutcome.HANDED_OVER and locked.ticket_id is not None:
        return _sync(session, locked)
    locale = normalize_locale(locked.locale)
    with translation.override(locale):
        if ticket is None:
            if customer is None and actor is not None and actor.is_customer:
                customer_id = customer_id_for(actor)
                customer = Customer.objects.filter(pk=customer_id).first() if customer_id else None
            customer = customer or locked.customer
            if customer is None:
                raise ValidationFailed(
                    details={"contact": _("Sign in or leave your contact details so that we can reach you.")}
                )
            question = _first_question(locked)
            subject = clean_text(subject or "").strip() or (
                _("Help request: %(question)s") % {"question": question[:80]}
                if question
                else _("Help request from the answer bot")
            )
            ticket = ticket_open(
                actor=actor if actor is not None and actor.is_customer else None,
                customer=customer,
                contact=contact,
                subject=subject[:200],
                description=transcript_text(locked),
                channel=Channel.CHAT if locked.channel == BotChannel.CHAT else Channel.WEB,
            )
        else:
            customer = customer or ticket.customer
            if locked.transcript:
                ticket_add_message(
                    ticket=ticket, actor=None, body=transcript_text(locked), kind=TicketMessage.Kind.NOTE
                )
        for article in Article.objects.filter(pk__in=_shown_articles(locked)):
            ticket_article_use(ticket=ticket, article=article, actor=None, via=UseVia.BOT)
        before = locked.outcome
        locked.outcome = BotOutcome.HANDED_OVER
        locked.ticket = ticket
        locked.customer = locked.customer or customer
        locked.transcript = [
            *locked.transcript,
            _turn(
                "bot",
                _("Your request %(number)s was passed to our service team.") % {"number": ticket.number},
                kind="handed_over",
            ),
        ]
        locked.updated_at = timezone.now()
        locked.save(update_fields=["outcome", "ticket", "customer", "transcript", "updated_at"])
    audit_record(
        actor=actor,
        obj=locked,
        action="kb.bot.hand_over",
        before={"outcome": before},
        after={"outcome": locked.outcome, "ticket": ticket.number},
    )
    return _sync(session, locked)


BOT_SESSION_IDLE = dt.timedelta(hours=24)


@transaction.atomic
def bot_sessions_abandon_idle(*, idle: dt.timedelta = BOT_SESSION_IDLE, batch: int = 500) -> int:
    """Open conversations nobody touched for ``idle`` end as abandoned: neither solved nor handed
    over, so the deflection rate counts them honestly. Idempotent; only open sessions change."""
    cutoff = timezone.now() - idle
    sessions = list(
        BotSession.objects.select_for_update(skip_locked=True)
        .filter(outcome=BotOutcome.OPEN, updated_at__lt=cutoff)
        .order_by("updated_at")[:batch]
    )
    now = timezone.now()
    BotSession.objects.filter(pk__in=[s.pk for s in sessions]).update(
        outcome=BotOutcome.ABANDONED, updated_at=now
    )
    for session in sessions:
        audit_record(
            actor=None,
            obj=session,
            action="knowledge.bot.abandon_idle",
            before={"outcome": BotOutcome.OPEN},
            after={"outcome": BotOutcome.ABANDONED, "idle_since": session.updated_at.isoformat()},
        )
    return len(sessions)
