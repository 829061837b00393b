"""The authorisation matrix: every API operation (from the OpenAPI document) and every page (from the
URL resolver), for every role and an anonymous visitor, against what ``docs/roles.md`` says.

An endpoint or page without an entry here fails ``test_every_endpoint_and_page_has_an_entry``, so a
new one cannot ship without deciding who may use it. Each case names who may use it (``allowed``)
and who can see its target (``seen``); the expected answer follows:

- anonymous: 401 on the API, the sign-in page for pages (unless the case is public);
- a role that cannot see the target: 404 (numbers and ids do not leak; docs/decisions.md), or 403
  when the role lacks the right anyway (either refusal is then accepted);
- a role that sees it but may not use it: 403;
- a role that may: anything but 401/403/404, never a 5xx.

Every refused write must change nothing: the row count, the latest ``updated_at`` and the sum of
``version`` of every table (the audit log included) are compared before and after. Each role
builds the organisation once; each request runs in a savepoint that is rolled back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.db.models import Count, Max, Sum
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from aftersales.api.api import api as ninja_api
from aftersales.core.roles import Role
from aftersales.core.services import api_token_create

from .authorisation_world import ANONYMOUS, PNG, ROLES, World, build_world, values

A, S, G, T, P, C = (Role.ADMIN, Role.SUPERVISOR, Role.AGENT, Role.TECHNICIAN, Role.PARTS_CLERK, Role.CUSTOMER)
STAFF = frozenset({A, S, G, T, P})
EVERYONE = STAFF | {C}
DESK = frozenset({A, S, G})  # opens tickets for customers, answers the phone and the chat
WORKERS = DESK | {T}  # reply to customers and move tickets
EDITORS = DESK  # kb.edit
LEADS = frozenset({A, S})  # report.view, audit.view, kb.review, customer merge
# Who sees the objects in 上海 (outside the supervisor's regions, not the technician's jobs, not
# the customer's own): those whose scope is everything.
SEES_EVERYTHING = frozenset({A, G, P})

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
PUBLIC = "public"  # a page for anybody: answers every role, anonymous included, alike
LOGIN = "login"  # redirect to the sign-in page
CONSOLE = "console"  # staff visiting the portal are sent to the console


@dataclass(frozen=True)
class Case:
    method: str
    route: str  # the OpenAPI path or the URL pattern: the key the coverage test compares
    path: str  # formatted with ``values``
    allowed: frozenset[str] = frozenset()
    seen: frozenset[str] = EVERYONE
    data: dict[str, Any] | None = None
    body: bytes | None = None  # a raw body (mail intake)
    content_type: str = "application/json"
    multipart: bool = False
    refused_as: str | None = None  # a role that sees it but may not use it gets this, not 403
    anonymous: str | None = None  # overrides 401 / LOGIN
    label: str = ""
    extra: dict[str, int] = field(default_factory=dict)
    own_session: bool = False  # signs the user out: run on a session of its own
    logged_refusal: str = ""  # the one table a refusal may write to (a log of refusals)


def scoped(case: Case, seen_outside: frozenset[str] = SEES_EVERYTHING) -> list[Case]:
    """The case on an object in scope for every role, and on one outside the narrow scopes."""
    return [
        case,
        Case(**{**case.__dict__, "seen": seen_outside, "label": "outside"}),  # type: ignore[arg-type]
    ]


def endpoint(method: str, route: str, allowed: frozenset[str], **kwargs: Any) -> Case:
    return Case(method=method, route=route, path="/api/v1" + route, allowed=allowed, **kwargs)


# --- the API ------------------------------------------------------------------------------------

TICKET = "/tickets/{number}"
API_CASES: list[Case] = [
    *scoped(endpoint("POST", "/tickets", DESK | {C}, data={"subject": "漏水", "customer": "{customer}"})),
    endpoint("GET", "/tickets", EVERYONE),
    *scoped(endpoint("GET", TICKET, EVERYONE)),
    *scoped(endpoint("PATCH", TICKET, DESK, data={"priority": "high"})),
    *scoped(endpoint("POST", TICKET + "/transition", WORKERS, data={"to": "diagnosing"})),
    *scoped(endpoint("GET", TICKET + "/messages", EVERYONE)),
    *scoped(endpoint("POST", TICKET + "/messages", WORKERS | {C}, data={"body": "您好", "kind": "reply"})),
    *scoped(
        endpoint("POST", TICKET + "/messages", STAFF, data={"body": "备件已订", "kind": "note"}, label="note")
    ),
    *scoped(endpoint("GET", TICKET + "/timeline", EVERYONE)),
    *scoped(endpoint("GET", TICKET + "/audit", LEADS)),
    *scoped(endpoint("POST", TICKET + "/attachments", WORKERS | {C}, multipart=True, data={})),
    *scoped(
        endpoint(
            "POST",
            TICKET + "/attachments",
            EVERYONE,
            multipart=True,
            data={"internal": "true"},
            label="internal",
        )
    ),
    *scoped(endpoint("GET", TICKET + "/attachments/{attachment_id}", EVERYONE)),
    *scoped(endpoint("POST", TICKET + "/merge", DESK, data={"into": "{other_ticket}"})),
    *scoped(endpoint("POST", TICKET + "/links", DESK, data={"other": "{other_ticket}"})),
    *scoped(endpoint("GET", TICKET + "/sla", STAFF)),
    # Bulk: staff get one outcome per ticket, refusals included (a ticket out of scope is
    # "not_found" inside a 200, tests/tickets/test_bulk.py); customers may not bulk at all.
    endpoint(
        "POST",
        "/tickets/bulk",
        STAFF,
        data={"numbers": ["{ticket}"], "action": "priority", "priority": "high"},
    ),
    endpoint("GET", "/customers", EVERYONE),
    endpoint("POST", "/customers", DESK, data={"name": "新客户"}),
    *scoped(endpoint("GET", "/customers/{customer_id}", EVERYONE)),
    *scoped(endpoint("PATCH", "/customers/{customer_id}", DESK, data={"notes": "改过"})),
    *scoped(endpoint("GET", "/customers/{customer_id}/duplicates", STAFF)),
    *scoped(endpoint("POST", "/customers/{customer_id}/merge", LEADS, data={"source_id": "{duplicate}"})),
    *scoped(endpoint("GET", "/customers/{customer_id}/history", EVERYONE)),
    endpoint("GET", "/reports/first-response", LEADS),
    endpoint("GET", "/sla/report", LEADS),
    endpoint("GET", "/sla/at-risk", STAFF),
    endpoint("GET", "/installed-products", EVERYONE),
    *scoped(
        endpoint(
            "POST",
            "/installed-products",
            WORKERS,
            data={"customer": "{customer}", "product_model": "{product_model}", "serial_number": "SN-NEW-1"},
        )
    ),
    *scoped(endpoint("GET", "/installed-products/{product_id}", EVERYONE)),
    endpoint("GET", "/macros", STAFF),
    *scoped(endpoint("POST", "/macros/{macro_id}/apply", WORKERS, data={"ticket": "{ticket}"})),
    endpoint("GET", "/me", EVERYONE),
    endpoint("GET", "/teams", STAFF),
    endpoint("GET", "/regions", STAFF),
    endpoint(
        "POST",
        "/mail/inbound",
        frozenset({A}),
        body=b"From: zhang@example.cn\r\nTo: service@corp.example\r\nSubject: matrix\r\n"
        b"Message-ID: <matrix-1@example.cn>\r\n\r\nhello\r\n",
        content_type="message/rfc822",
    ),
    endpoint("GET", "/mail/quarantine", frozenset({A})),
    endpoint("GET", "/chat/conversations", DESK),
    endpoint("GET", "/chat/conversations/{conversation_id}", DESK),
    # The telephony system signs its events; a user's token is not a signature.
    endpoint("POST", "/phone/cti/events", frozenset(), data={}, refused_as="401"),
    endpoint("GET", "/phone/calls", STAFF),
    endpoint("GET", "/webhooks/endpoints", frozenset({A})),
    endpoint("GET", "/webhooks/deliveries", frozenset({A})),
    endpoint("GET", "/webhooks/deliveries/{delivery_id}", frozenset({A})),
    endpoint("POST", "/webhooks/deliveries/{delivery_id}/retry", frozenset({A})),
    endpoint("GET", "/kb/categories", EVERYONE),
    endpoint("GET", "/kb/articles", EVERYONE),
    endpoint(
        "POST", "/kb/articles", EDITORS, data={"locale": "en", "key": "new-one", "title": "New", "body": "x"}
    ),
    endpoint("GET", "/kb/articles/by-key/{locale}/{key}", EVERYONE),
    endpoint("GET", "/kb/articles/by-key/{locale}/{key}", STAFF, seen=STAFF, label="internal"),
    endpoint("GET", "/kb/articles/{article_id}", EVERYONE),
    endpoint("GET", "/kb/articles/{article_id}", STAFF, seen=STAFF, label="internal"),
    endpoint("GET", "/kb/articles/{article_id}", EDITORS, seen=EDITORS, label="draft"),
    endpoint("PATCH", "/kb/articles/{article_id}", EDITORS, data={"tags": ["滤网"]}),
    endpoint("GET", "/kb/articles/{article_id}/versions", EVERYONE),
    endpoint("GET", "/kb/articles/{article_id}/versions/{number}", EVERYONE),
    endpoint("PUT", "/kb/articles/{article_id}/draft", EDITORS, data={"title": "Reset", "body": "New text"}),
    endpoint("POST", "/kb/articles/{article_id}/versions/{number}/submit", EDITORS, seen=EDITORS),
    endpoint("POST", "/kb/articles/{article_id}/versions/{number}/publish", LEADS, seen=EDITORS),
    endpoint(
        "POST",
        "/kb/articles/{article_id}/versions/{number}/reject",
        LEADS,
        seen=EDITORS,
        data={"note": "再改"},
    ),
    endpoint("POST", "/kb/articles/{article_id}/rollback", LEADS, data={"to_version": 1}),
    endpoint("POST", "/kb/articles/{article_id}/unpublish", LEADS),
    endpoint("GET", "/kb/articles/{article_id}/diff", EVERYONE),  # between versions the reader may see
    endpoint("POST", "/kb/articles/{article_id}/feedback", EVERYONE, data={"helpful": True}),
    endpoint("GET", "/kb/manuals", EVERYONE),
    endpoint("GET", "/kb/manuals/{slug}", EVERYONE),
    endpoint("GET", "/kb/manuals/{slug}/editions", EVERYONE),
    endpoint("POST", "/kb/manuals/{slug}/editions", LEADS, data={"label": "v2"}),
    endpoint("GET", "/kb/editions/{edition_id}/html", EVERYONE),
    endpoint("GET", "/kb/editions/{edition_id}/pdf", EVERYONE),
]

# Path parameters of the OpenAPI document → the world's values (the draft and the article in
# review are the targets of the cases labelled so, and of submit / publish / reject).
API_PARAMETERS = {
    "{number}": "{ticket}",
    "{attachment_id}": "{attachment}",
    "{customer_id}": "{customer}",
    "{product_id}": "{product}",
    "{conversation_id}": "{conversation}",
    "{delivery_id}": "{delivery}",
    "{locale}": "en",
    "{slug}": "{manual}",
    "{edition_id}": "{edition}",
    "{macro_id}": "{macro}",
}


def _api_path(case: Case) -> str:
    path = case.path
    article = {"internal": "{internal_article}", "draft": "{draft}"}.get(case.label, "{article}")
    key = "{internal_article_key}" if case.label == "internal" else "{article_key}"
    if case.route.endswith(("/submit",)):
        article = "{draft}"
    if case.route.endswith(("/publish", "/reject")):
        article = "{in_review}"
    path = path.replace("{article_id}", article).replace("{key}", key)
    if "/versions/{number}" in case.route:
        path = path.replace("/versions/{number}", "/versions/1")
    for name, value in API_PARAMETERS.items():
        path = path.replace(name, value)
    if case.route.endswith("/diff"):
        path += "?from=1&to=1"
    return path


# --- the pages ----------------------------------------------------------------------------------


def page(method: str, route: str, allowed: frozenset[str] | str, **kwargs: Any) -> Case:
    path = "/" + route
    if "manual" in route:
        path = path.replace("<slug:slug>", "{manual}")
    for name, value in PAGE_PARAMETERS.items():
        path = path.replace(name, value)
    if allowed == PUBLIC:
        return Case(method=method, route=route, path=path, allowed=EVERYONE, anonymous=PUBLIC, **kwargs)
    assert not isinstance(allowed, str)
    return Case(method=method, route=route, path=path, allowed=allowed, **kwargs)


PAGE_PARAMETERS = {
    "<str:number>": "{ticket}",
    "<str:code>": "{customer_code}",
    "<int:attachment_id>": "{attachment}",
    "<int:inbound_id>": "{inbound}",
    "<str:public_key>": "{chat_key}",
    "<int:conversation_id>": "{conversation}",
    "<str:key>": "{webhook_key}",
    "<int:delivery_id>": "{delivery}",
    "<kblocale:locale>": "en",
    "<slug:slug>": "{category_slug}",
    "<slug:key>": "{article_key}",
    "<int:article_id>": "{article}",
    "<int:number>": "1",
    "<int:edition_id>": "{edition}",
    "<int:macro_id>": "{macro}",
    "<slug:name>": "mine",
    "<uidb64>": "MQ",
    "<token>": "not-a-token",
    "<int:policy_id>": "{sla_policy}",
    "<int:calendar_id>": "{calendar}",
    "<int:team_id>": "{team}",
}

PORTAL = frozenset({C})
TICKET_PAGE = "console/tickets/<str:number>/"
EDIT_FORM = {
    "version": "{ticket_version}",
    "subject": "漏水",
    "type": "repair",
    "priority": "high",
    "channel": "phone",
    "team": "{team}",
    "assignee": "",
}
PAGE_CASES: list[Case] = [
    page("GET", "healthz", PUBLIC),
    page("GET", "readyz", PUBLIC),
    page("GET", "favicon.ico", PUBLIC),
    page("POST", "i18n/setlang/", PUBLIC, data={"language": "en"}),
    page("GET", "", EVERYONE),
    page("GET", "login/", PUBLIC),
    page("POST", "logout/", frozenset(), refused_as=LOGIN, own_session=True),  # signed out
    # The code step without a password just given sends everyone back to the sign-in page.
    page("GET", "login/code/", frozenset(), refused_as=LOGIN),
    page("GET", "password-reset/", PUBLIC),
    page("GET", "password-reset/sent/", PUBLIC),
    page("GET", "password-reset/<uidb64>/<token>/", PUBLIC),  # a link that is not valid
    page("GET", "password-reset/done/", PUBLIC),
    page("GET", "account/two-step/", STAFF),
    page("GET", "console/", STAFF),  # each role's own home
    page("GET", "console/home/agent/", DESK),
    page("GET", "console/home/supervisor/", LEADS),
    page("GET", "console/home/technician/", frozenset({A, T})),
    page("GET", "console/home/parts/", frozenset({A, P})),
    page("GET", "console/queue/<slug:name>/", STAFF),
    page("GET", "console/call/", DESK),
    page("GET", "console/call/lookup/", DESK, extra={"phone": 1}),
    page("GET", "console/reports/sla/", LEADS),
    page("GET", "console/reports/first-response/", LEADS),
    # The everyday settings (settings.edit): supervisors and administrators.
    page("GET", "console/settings/", LEADS),
    page("GET", "console/settings/sla/", LEADS),
    page("GET", "console/settings/sla/new/", LEADS),
    page(
        "POST",
        "console/settings/sla/new/",
        LEADS,
        data={"name": "矩阵", "precedence": 901, "resolution": "1 天"},
    ),
    page("GET", "console/settings/sla/<int:policy_id>/", LEADS),
    page("POST", "console/settings/sla/<int:policy_id>/", LEADS, data={"name": "", "precedence": 1}),
    page("GET", "console/settings/calendars/", LEADS),
    page("GET", "console/settings/calendars/<int:calendar_id>/", LEADS),
    page(
        "POST",
        "console/settings/calendars/<int:calendar_id>/",
        LEADS,
        data={"action": "override", "date": "2031-05-06", "is_working": "0"},
    ),
    page("GET", "console/settings/teams/", LEADS),
    page("GET", "console/settings/teams/<int:team_id>/", LEADS),
    page(
        "POST", "console/settings/teams/<int:team_id>/", LEADS, data={"action": "add", "user": "{agent_id}"}
    ),
    page("GET", "console/notifications/", STAFF),
    page("GET", "console/customers/", STAFF),
    page("GET", "console/queue/<slug:name>/export/", STAFF),
    # One outcome per ticket (out of scope: "not_found" in the page); customers may not bulk.
    page(
        "POST", "console/bulk/", STAFF, data={"number": "{ticket}", "action": "priority", "priority": "high"}
    ),
    page("POST", "console/views/", STAFF, data={"name": "矩阵", "queue": "all", "query": "priority=high"}),
    page("POST", "console/views/delete/", STAFF, data={"view": "1"}),
    *scoped(page("GET", "console/customers/<str:code>/", STAFF)),
    *scoped(
        page(
            "POST",
            "console/customers/<str:code>/edit/",
            DESK,
            data={"version": "{customer_version}", "name": "王先生", "kind": "person", "notes": "改过"},
        )
    ),
    *scoped(page("POST", "console/customers/<str:code>/contacts/", DESK, data={"name": "新联系人"})),
    *scoped(page("POST", "console/customers/<str:code>/addresses/", DESK, data={"line": "北京市东城区1号"})),
    *scoped(
        page(
            "POST",
            "console/customers/<str:code>/products/",
            WORKERS,
            data={"product_model": "{product_model_id}", "serial_number": "SN-MATRIX-1"},
        )
    ),
    # Canned replies: everyone on the staff keeps its own; supervisors and admins the shared ones.
    page("GET", "console/macros/", STAFF),
    page("GET", "console/macros/new/", STAFF),
    page(
        "POST",
        "console/macros/new/",
        STAFF,
        data={
            "name": "备注",
            "scope": "personal",
            "message_kind": "note",
            "body_zh": "已订",
            "body_en": "Ordered",
        },
    ),
    page("GET", "console/macros/<int:macro_id>/", LEADS),
    page(
        "POST",
        "console/macros/<int:macro_id>/",
        LEADS,
        data={"name": "受理", "message_kind": "reply", "body_zh": "您好", "body_en": "Hello", "version": 1},
    ),
    page("POST", "console/macros/<int:macro_id>/archive/", LEADS),
    *scoped(page("GET", "console/customers/<str:code>/merge/", LEADS, extra={"source": 1})),
    *scoped(page("POST", "console/customers/<str:code>/merge/", LEADS, data={"source": "{duplicate_code}"})),
    *scoped(page("GET", TICKET_PAGE, STAFF)),
    *scoped(page("POST", TICKET_PAGE + "reply/", WORKERS, data={"body": "您好", "kind": "reply"})),
    *scoped(page("POST", TICKET_PAGE + "reply/", STAFF, data={"body": "备件", "kind": "note"}, label="note")),
    *scoped(
        page(
            "POST",
            TICKET_PAGE + "transition/",
            WORKERS,
            data={"to_status": "diagnosing", "note": "", "version": "{ticket_version}"},
        )
    ),
    *scoped(page("POST", TICKET_PAGE + "edit/", DESK, data=EDIT_FORM)),
    *scoped(page("POST", TICKET_PAGE + "attachments/", WORKERS, multipart=True, data={})),
    *scoped(
        page(
            "POST",
            TICKET_PAGE + "attachments/",
            STAFF,
            multipart=True,
            data={"is_internal": "on"},
            label="internal",
        )
    ),
    *scoped(page("POST", TICKET_PAGE + "merge/", DESK, data={"number": "{other_ticket}"})),
    *scoped(page("POST", TICKET_PAGE + "link/", DESK, data={"number": "{other_ticket}"})),
    *scoped(page("GET", TICKET_PAGE + "macro/", STAFF, extra={"macro": 1})),
    *scoped(page("POST", TICKET_PAGE + "macro/", WORKERS, data={"macro": "{macro}"})),
    *scoped(page("GET", "attachments/<int:attachment_id>/", EVERYONE)),
    # The portal: customers only; staff are sent to the console.
    page("GET", "portal/", PORTAL, refused_as=CONSOLE),
    page("GET", "portal/new/", PORTAL, refused_as=CONSOLE),
    *scoped(page("GET", "portal/tickets/<str:number>/", PORTAL, refused_as=CONSOLE), seen_outside=STAFF),
    *scoped(
        page("POST", "portal/tickets/<str:number>/reply/", PORTAL, data={"body": "谢谢"}, refused_as=CONSOLE),
        seen_outside=STAFF,
    ),
    *scoped(
        page(
            "POST",
            "portal/tickets/<str:number>/transition/",
            PORTAL,
            data={"to_status": "cancelled", "version": "{ticket_version}"},
            refused_as=CONSOLE,
        ),
        seen_outside=STAFF,
    ),
    # A fragment of the portal's form: staff are sent to the console as on every portal page.
    page("GET", "portal/kb/suggest/", PORTAL, extra={"q": 1}, refused_as=CONSOLE),
    *scoped(page("GET", "console/kb/suggest/<str:number>/", STAFF)),
    *scoped(page("POST", "console/kb/suggest/<str:number>/use/", STAFF, data={"article": "{article}"})),
    # The mail quarantine, webhooks delivery log and phone call log.
    page("GET", "mail/quarantine/", frozenset({A})),
    page("GET", "mail/quarantine/<int:inbound_id>/raw/", frozenset({A})),
    page("POST", "mail/quarantine/<int:inbound_id>/reimport/", frozenset({A})),
    page("POST", "mail/quarantine/<int:inbound_id>/discard/", frozenset({A})),
    page("GET", "webhooks/", frozenset({A})),
    page("POST", "webhooks/deliveries/<int:delivery_id>/retry/", frozenset({A})),
    # Signed by the sender; a session is not a signature.
    page(
        "POST",
        "webhooks/in/<str:key>/",
        frozenset(),
        data={},
        refused_as="401",
        anonymous="401",
        logged_refusal="webhooks.inbounddelivery",  # refusals are logged, on purpose
    ),
    page("GET", "phone/calls/", STAFF),
    # The chat: the widget is public (its own tokens), the console is the desk's.
    page("GET", "chat/widget.js", PUBLIC),
    page("GET", "chat/demo/", PUBLIC),
    *[
        page(method, f"chat/w/<str:public_key>/{name}", PUBLIC, data={} if method == "POST" else None)
        for method, name in (
            ("GET", "config"),
            ("POST", "start"),
            ("GET", "conversation"),
            ("POST", "messages"),
            ("POST", "person"),
            ("POST", "feedback"),
            ("POST", "contact"),
            ("POST", "close"),
            ("POST", "leave-message"),
            ("GET", "stream"),
        )
    ],
    page("GET", "chat/console/", DESK),
    page("GET", "chat/console/stream", DESK),
    page("GET", "chat/console/presence", DESK),
    page("GET", "chat/console/<int:conversation_id>/", DESK),
    page("POST", "chat/console/<int:conversation_id>/accept", DESK),
    page("POST", "chat/console/<int:conversation_id>/messages", DESK, data={"body": "您好"}),
    page("POST", "chat/console/<int:conversation_id>/close", DESK),
    # The help centre and the bot are public.
    page("GET", "help/", PUBLIC),
    page("GET", "help/<kblocale:locale>/", PUBLIC),
    page("GET", "help/<kblocale:locale>/search/", PUBLIC),
    page("GET", "help/<kblocale:locale>/c/<slug:slug>/", PUBLIC),
    page("GET", "help/<kblocale:locale>/a/<slug:key>/", PUBLIC),
    page("POST", "help/<kblocale:locale>/a/<slug:key>/feedback/", PUBLIC, data={"helpful": "1"}),
    page("GET", "help/<kblocale:locale>/manual/", PUBLIC),
    page("GET", "help/<kblocale:locale>/manual/<slug:slug>/", PUBLIC),
    page("GET", "help/<kblocale:locale>/ask/", PUBLIC),
    page("POST", "help/bot/ask/", PUBLIC, data={"question": "怎么换滤网"}),
    page("POST", "help/bot/resolve/", PUBLIC, data={}),
    page("POST", "help/bot/hand-over/", PUBLIC, data={}),
    page("POST", "help/bot/restart/", PUBLIC, data={}),
    # The knowledge editor (kb.edit; reviewing kb.review) and its content reports (staff).
    page("GET", "console/kb/reports/", STAFF),
    page("GET", "console/kb/reports/top-problems/", STAFF),
    page("GET", "console/kb/reports/missing-articles/", STAFF),
    page("GET", "console/kb/reports/feedback/", STAFF),
    page("GET", "console/kb/reports/bot/", STAFF),
    page("GET", "console/kb/", EDITORS, refused_as="403 or help"),  # other staff read the help centre
    page("GET", "console/kb/new/", EDITORS),
    page(
        "POST",
        "console/kb/new/",
        EDITORS,
        data={"locale": "en", "key": "new-page", "title": "New", "body": "x"},
    ),
    page("POST", "console/kb/preview/", EDITORS, data={"body": "# x"}),
    page("GET", "console/kb/review/", LEADS),
    page("GET", "console/kb/articles/<int:article_id>/", EDITORS),
    page("POST", "console/kb/articles/<int:article_id>/action/", EDITORS, data={"action": "unpublish"}),
    page("GET", "console/kb/articles/<int:article_id>/diff/", EDITORS),
    page("GET", "console/kb/articles/<int:article_id>/v/<int:number>/", EDITORS),
    page("GET", "console/kb/manuals/", EDITORS),
    page("GET", "console/kb/manuals/<slug:slug>/", EDITORS),
    page("POST", "console/kb/manuals/<slug:slug>/action/", EDITORS, data={"action": "publish"}),
    # An edition of a public manual is a public download (of an internal one: staff only).
    page("GET", "console/kb/editions/<int:edition_id>/html/", PUBLIC),
    page("GET", "console/kb/editions/<int:edition_id>/pdf/", PUBLIC),
]


# --- running a case -----------------------------------------------------------------------------


def _format(value: Any, names: dict[str, Any]) -> Any:
    if isinstance(value, str) and "{" in value:
        formatted = value.format(**names)
        return (
            int(formatted)
            if value.startswith("{") and formatted.isdigit() and value.endswith("}")
            else formatted
        )
    if isinstance(value, dict):
        return {key: _format(item, names) for key, item in value.items()}
    if isinstance(value, list):
        return [_format(item, names) for item in value]
    return value


def database_fingerprint() -> dict[str, tuple[Any, ...]]:
    """Per table: rows, latest ``updated_at`` and the sum of ``version`` where the table has them."""
    fingerprint: dict[str, tuple[Any, ...]] = {}
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed or model._meta.label_lower == "sessions.session":
            continue
        names = {f.name for f in model._meta.concrete_fields}
        aggregates: dict[str, Any] = {"rows": Count("pk")}
        if "updated_at" in names:
            aggregates["updated"] = Max("updated_at")
        if "version" in names:
            aggregates["version"] = Sum("version")
        fingerprint[model._meta.label_lower] = tuple(model._default_manager.aggregate(**aggregates).values())
    return fingerprint


def _expected(case: Case, role: str, *, is_api: bool) -> str:
    if role == ANONYMOUS:
        if case.anonymous:
            return case.anonymous
        return "401" if is_api else LOGIN
    if case.anonymous == PUBLIC:
        return PUBLIC
    if role not in case.seen:
        return "404" if role in case.allowed else "refused"
    if role in case.allowed:
        return "ok"
    if case.refused_as:
        return case.refused_as
    return "403"


def _matches(expected: str, response: Any) -> bool:
    status = response.status_code
    location = response.headers.get("Location", "") if 300 <= status < 400 else ""
    if status >= 500:
        return False
    if expected == "ok":
        return status not in (401, 403, 404) and "/login/" not in location
    if expected == PUBLIC:
        return status not in (401, 403) and "/login/" not in location
    if expected == "refused":
        return status in (403, 404)
    if expected == LOGIN:
        return "/login/" in location
    if expected == "403 or help":
        return status == 403 or location.rstrip("/").endswith("/help")
    if expected == CONSOLE:
        return location.rstrip("/").endswith("/console")
    return str(status) == expected


def _request(client: Client, case: Case, names: dict[str, Any], *, is_api: bool) -> Any:
    path = _format(_api_path(case) if is_api else case.path, names)
    method = case.method.lower()
    if case.body is not None:
        return client.generic(case.method, path, data=case.body, content_type=case.content_type)
    data = _format(case.data, names) if case.data is not None else None
    if case.multipart:
        upload = SimpleUploadedFile("photo.png", PNG, content_type="image/png")
        return client.post(path, data={**(data or {}), "file": upload})
    if case.method == "GET":
        query = {name: names.get(name, "13800000000") for name in case.extra}
        if "source" in query:
            query["source"] = names["duplicate_code"]
        if "phone" in query:
            query["phone"] = "13800000000"
        if "q" in query:
            query["q"] = "filter"
        return client.get(path, data=query)
    if is_api:
        return getattr(client, method)(path, data=data or {}, content_type="application/json")
    return client.post(path, data=data or {})


def _client(world: World, role: str, *, is_api: bool) -> Client:
    if role == ANONYMOUS:
        return Client()
    user = world.users[role]
    if is_api:
        _token, raw = api_token_create(user=user, name="matrix")
        return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    client = Client()
    client.force_login(user)
    return client


def run_matrix(world: World, role: str, cases: list[Case], *, is_api: bool) -> list[str]:
    client = _client(world, role, is_api=is_api)
    failures: list[str] = []
    for case in cases:
        names = values(world, world.outside if case.label == "outside" else world.inside)
        expected = _expected(case, role, is_api=is_api)
        refused = expected not in ("ok", PUBLIC)
        check_writes = refused and case.method in WRITE_METHODS
        with transaction.atomic():
            before = database_fingerprint() if check_writes else None
            caller = _client(world, role, is_api=is_api) if case.own_session else client
            response = _request(caller, case, names, is_api=is_api)
            after = database_fingerprint() if check_writes else None
            if before is not None and after is not None and case.logged_refusal:
                before.pop(case.logged_refusal), after.pop(case.logged_refusal)
            transaction.set_rollback(True)
        where = f"{case.method} {case.route} [{case.label or 'inside'}]"
        if not _matches(expected, response):
            location = response.headers.get("Location", "")
            failures.append(f"{where}: expected {expected}, got {response.status_code} {location}".rstrip())
        if before != after:
            changed = sorted(name for name in before or {} if (before or {})[name] != (after or {}).get(name))
            failures.append(f"{where}: refused but changed {changed}")
    return failures


def _api_routes() -> set[tuple[str, str]]:
    schema = ninja_api.get_openapi_schema()
    return {
        (method.upper(), path.removeprefix("/api/v1"))
        for path, operations in schema["paths"].items()
        for method in operations
    }


def _page_routes() -> set[tuple[str, str]]:
    """Every URL pattern outside the API and Django's own admin."""

    def walk(patterns: list[Any], prefix: str) -> list[str]:
        found: list[str] = []
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                route = prefix + str(pattern.pattern)
                if route.startswith(("api/", "admin/")):
                    continue
                found += walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern):
                found.append(prefix + str(pattern.pattern))
        return found

    return set(walk(get_resolver().url_patterns, ""))  # type: ignore[arg-type]


def test_every_endpoint_and_page_has_an_entry():
    assert _api_routes() == {(case.method, case.route) for case in API_CASES}
    assert _page_routes() == {case.route for case in PAGE_CASES}


@pytest.fixture
def world(db, settings) -> World:
    settings.AFTERSALES_API_RATE_PER_MINUTE = 0
    return build_world()


@pytest.mark.parametrize("role", ROLES)
def test_api_matrix(world, role):
    failures = run_matrix(world, role, API_CASES, is_api=True)
    assert failures == [], "\n".join(failures)


@pytest.mark.parametrize("role", ROLES)
def test_page_matrix(world, role):
    failures = run_matrix(world, role, PAGE_CASES, is_api=False)
    assert failures == [], "\n".join(failures)
