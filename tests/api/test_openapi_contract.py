"""The published OpenAPI document says what the endpoints accept.

(a) One component name is one schema class: django-ninja names a component after its class, so two
classes of one name publish one of them for both (the ticket merge body once read
``{source_id}``, the customers' one, while the endpoint needs ``{into}``).
(b) For every operation, a real request the endpoint accepts (the table ``EXAMPLES`` below; an
operation without an example fails) validates against the published parameters and request
body, and a request built from the published schema (its properties and required fields, filled
from the example) is accepted by the endpoint.
"""

from __future__ import annotations

import enum
import json
import typing
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from urllib.parse import urlencode

import jsonschema_rs
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from pydantic import BaseModel

from aftersales.api.api import api
from aftersales.channels.chat.services import conversation_start
from aftersales.channels.webhooks import signing
from aftersales.channels.webhooks.models import WebhookDelivery
from aftersales.core.roles import Role
from aftersales.core.services import api_token_create
from aftersales.knowledge import services as kb
from aftersales.macros.services import macro_create
from aftersales.tickets.models import Ticket
from aftersales.tickets.services import attachment_add, ticket_open
from tests.chat.factories import ChatChannelFactory
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    InstalledProductFactory,
    ProductModelFactory,
    UserFactory,
)
from tests.knowledge.core_factories import draft_article, new_revision, published_article
from tests.mail.test_intake import mail
from tests.phone.factories import CtiSourceFactory
from tests.webhooks.factories import WebhookEndpointFactory

PREFIX = "/api/v1/"
DOCUMENT = api.get_openapi_schema(path_prefix=PREFIX)
COMPONENTS = DOCUMENT["components"]["schemas"]
OPERATIONS = sorted(f"{method.upper()} {path}" for path, item in DOCUMENT["paths"].items() for method in item)


# --- (a) one name, one class ---------------------------------------------------------------------


def _named_types(annotation: Any, found: dict[str, set[type]]) -> None:
    """Every model and enum class reachable from ``annotation`` (through fields, unions, lists)."""
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        found[annotation.__name__].add(annotation)
        return
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation in found[annotation.__name__]:
            return
        found[annotation.__name__].add(annotation)
        for model_field in annotation.model_fields.values():
            _named_types(model_field.annotation, found)
        return
    for argument in typing.get_args(annotation):
        _named_types(argument, found)


def _operation_types() -> dict[str, set[type]]:
    found: dict[str, set[type]] = defaultdict(set)
    for _prefix, router in api._routers:
        for path_view in router.path_operations.values():
            for operation in path_view.operations:
                # ninja's own wrappers (BodyParams, NinjaResponseSchema…) are inlined; their fields
                # hold the classes that become components.
                for wrapper in [*operation.models, *operation.response_models.values()]:
                    for model_field in wrapper.model_fields.values():
                        _named_types(model_field.annotation, found)
    return found


def test_every_component_name_is_published_by_one_schema_class():
    found = _operation_types()
    published = {name: classes for name, classes in found.items() if name in COMPONENTS}
    clashes = {
        name: sorted(f"{c.__module__}.{c.__qualname__}" for c in classes)
        for name, classes in published.items()
        if len(classes) > 1
    }
    assert clashes == {}
    # Every component came from a class the walk found, so nothing escaped the check.
    assert set(COMPONENTS) <= set(published)


def test_the_merge_bodies_publish_what_their_endpoints_need():
    def body(path: str) -> dict[str, Any]:
        ref = DOCUMENT["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        return COMPONENTS[ref.rsplit("/", 1)[1]]

    assert body(f"{PREFIX}tickets/{{number}}/merge")["required"] == ["into"]
    assert body(f"{PREFIX}customers/{{customer_id}}/merge")["required"] == ["source_id"]


# --- (b) real requests against the published schema ----------------------------------------------


@dataclass
class Example:
    """A request the endpoint accepts. ``body`` is JSON; ``raw`` / ``files`` for other bodies."""

    path: dict[str, Any] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    body: dict[str, Any] | None = None
    raw: bytes | None = None
    content_type: str = "application/json"
    files: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    signed_by: Any = None  # a CTI source: signed, no bearer token
    expect: tuple[int, ...] = (200, 201, 202, 204)


class World:
    """What the examples act on, made on first use (an administrator does everything)."""

    def __init__(self) -> None:
        self.admin = UserFactory(role=Role.ADMIN, is_staff=True, is_superuser=True)
        _token, raw = api_token_create(user=self.admin, name="contract")
        self.bearer = f"Bearer {raw}"

    @cached_property
    def customer(self):
        customer = CustomerFactory(name="王先生", phone="13800000001", email="wang@example.com")
        ContactFactory(customer=customer)
        return customer

    @cached_property
    def duplicate(self):
        return CustomerFactory(name="王先生", phone="13800000001")

    @cached_property
    def ticket(self) -> Ticket:
        return ticket_open(actor=self.admin, customer=self.customer, subject="热水器漏水")

    @cached_property
    def other_ticket(self) -> Ticket:
        return ticket_open(actor=self.admin, customer=self.customer, subject="热水器还是漏水")

    @cached_property
    def product(self):
        return InstalledProductFactory(customer=self.customer)

    @cached_property
    def writer(self):
        return UserFactory(role=Role.AGENT)

    @cached_property
    def reviewer(self):
        return UserFactory(role=Role.SUPERVISOR)

    @cached_property
    def article(self):
        """Published as version 1, with version 2 in review."""
        article, _v = published_article(actor=self.writer, approver=self.reviewer)
        version = kb.version_save_draft(
            actor=self.writer, article=article, title="Reset the filter", body="Turn off the water first."
        )
        kb.version_submit(actor=self.writer, version=version)
        return article

    @cached_property
    def revised_article(self):
        """Version 2 published over version 1."""
        article, _v = published_article(actor=self.writer, approver=self.reviewer, key="flush-valve")
        new_revision(
            article=article,
            actor=self.writer,
            approver=self.reviewer,
            title="Flush valve",
            body="Replace it.",
        )
        return article

    @cached_property
    def draft(self):
        return draft_article(actor=self.writer, key="descale")

    @cached_property
    def manual(self):
        manual = kb.manual_create(
            actor=self.writer, slug="handbook", title_zh="手册", title_en="Handbook", locale="en"
        )
        kb.manual_section_add(actor=self.writer, manual=manual, title="Care", article=self.article)
        return manual

    @cached_property
    def edition(self):
        return kb.manual_publish_edition(actor=self.admin, manual=self.manual)

    @cached_property
    def conversation(self):
        conversation, _token = conversation_start(channel=ChatChannelFactory(), body="马桶一直漏水")
        return conversation

    @cached_property
    def failed_delivery(self) -> WebhookDelivery:
        WebhookEndpointFactory(name="金蝶 ERP")
        _ = self.ticket
        delivery = WebhookDelivery.objects.order_by("id").first()
        assert delivery is not None
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status="failed", attempts=6, next_attempt_at=None
        )
        return delivery

    @cached_property
    def macro(self):
        return macro_create(
            actor=self.admin,
            name="受理回复",
            scope="global",
            body_zh="{{ customer_name }}您好，工单 {{ ticket_number }} 已受理。",
            body_en="Dear {{ customer_name }}, ticket {{ ticket_number }} is in hand.",
        )

    @cached_property
    def attachment(self):
        upload = SimpleUploadedFile("photo.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 64, content_type="image/png")
        return attachment_add(ticket=self.ticket, actor=self.admin, upload=upload)


E = Example
KB = "/api/v1/kb"
EXAMPLES: dict[str, Callable[[World], Example]] = {
    "GET /api/v1/me": lambda w: E(),
    "GET /api/v1/regions": lambda w: E(),
    "GET /api/v1/teams": lambda w: E(),
    # customers
    "GET /api/v1/customers": lambda w: E(query={"q": w.customer.name, "limit": 10}),
    "POST /api/v1/customers": lambda w: E(
        body={"name": "李女士", "kind": "person", "phone": "139 1234 5678", "email": "li@example.com"}
    ),
    "GET /api/v1/customers/{customer_id}": lambda w: E(path={"customer_id": w.customer.pk}),
    "PATCH /api/v1/customers/{customer_id}": lambda w: E(
        path={"customer_id": w.customer.pk}, body={"notes": "只在工作日联系"}
    ),
    "GET /api/v1/customers/{customer_id}/duplicates": lambda w: E(path={"customer_id": w.customer.pk}),
    "GET /api/v1/customers/{customer_id}/history": lambda w: E(
        path={"customer_id": w.ticket.customer_id}, query={"limit": 5}
    ),
    "POST /api/v1/customers/{customer_id}/merge": lambda w: E(
        path={"customer_id": w.customer.pk}, body={"source_id": w.duplicate.pk}
    ),
    # installed products
    "GET /api/v1/installed-products": lambda w: E(query={"customer": w.product.customer_id}),
    "POST /api/v1/installed-products": lambda w: E(
        body={
            "serial_number": "SN-2026-0001",
            "product_model": ProductModelFactory().code,
            "customer": w.customer.pk,
            "purchased_on": "2026-01-15",
        }
    ),
    "GET /api/v1/installed-products/{product_id}": lambda w: E(path={"product_id": w.product.pk}),
    # canned replies
    "GET /api/v1/macros": lambda w: E(query={"ticket": w.ticket.number, "q": w.macro.name, "limit": 10}),
    "POST /api/v1/macros/{macro_id}/apply": lambda w: E(
        path={"macro_id": w.macro.pk},
        body={"ticket": w.ticket.number, "version": w.ticket.version, "body": "王先生您好，已安排。"},
    ),
    # tickets
    "GET /api/v1/tickets": lambda w: E(
        query={"status": ["new"], "customer": w.ticket.customer_id, "q": w.ticket.subject, "limit": 5}
    ),
    "POST /api/v1/tickets": lambda w: E(
        body={"customer": w.customer.pk, "subject": "马桶水箱不停进水", "type": "repair", "priority": "high"},
        headers={"Idempotency-Key": "contract-1"},
    ),
    "GET /api/v1/tickets/{number}": lambda w: E(path={"number": w.ticket.number}),
    "POST /api/v1/tickets/bulk": lambda w: E(
        body={"numbers": [w.ticket.number, w.other_ticket.number], "action": "stage", "to": "accepted"}
    ),
    "PATCH /api/v1/tickets/{number}": lambda w: E(
        path={"number": w.ticket.number},
        body={"priority": "urgent"},
        headers={"If-Match": str(w.ticket.version)},
    ),
    "POST /api/v1/tickets/{number}/attachments": lambda w: E(
        path={"number": w.ticket.number},
        files={"file": SimpleUploadedFile("note.txt", "水管接口处渗水".encode(), content_type="text/plain")},
        content_type="multipart/form-data",
    ),
    "GET /api/v1/tickets/{number}/attachments/{attachment_id}": lambda w: E(
        path={"number": w.attachment.ticket.number, "attachment_id": w.attachment.pk}
    ),
    "GET /api/v1/tickets/{number}/audit": lambda w: E(path={"number": w.ticket.number}),
    "POST /api/v1/tickets/{number}/links": lambda w: E(
        path={"number": w.ticket.number}, body={"other": w.other_ticket.number}
    ),
    "POST /api/v1/tickets/{number}/merge": lambda w: E(
        path={"number": w.other_ticket.number}, body={"into": w.ticket.number}
    ),
    "GET /api/v1/tickets/{number}/messages": lambda w: E(
        path={"number": w.ticket.number}, query={"limit": 5}
    ),
    "POST /api/v1/tickets/{number}/messages": lambda w: E(
        path={"number": w.ticket.number}, body={"body": "师傅明天上午上门。", "kind": "reply"}
    ),
    "GET /api/v1/tickets/{number}/sla": lambda w: E(path={"number": w.ticket.number}),
    "GET /api/v1/tickets/{number}/timeline": lambda w: E(path={"number": w.ticket.number}),
    "POST /api/v1/tickets/{number}/transition": lambda w: E(
        path={"number": w.ticket.number}, body={"to": "accepted", "note": "已受理"}
    ),
    # SLA and reports
    "GET /api/v1/sla/at-risk": lambda w: E(query={"state": "on_track", "limit": 5}),
    "GET /api/v1/sla/report": lambda w: E(
        query={"group_by": "type", "from": "2026-01-01T00:00:00+08:00", "to": "2026-02-01T00:00:00+08:00"}
    ),
    "GET /api/v1/reports/first-response": lambda w: E(
        query={"since": "2026-01-01T00:00:00+08:00", "until": "2026-02-01T00:00:00+08:00"}
    ),
    # knowledge base
    "GET /api/v1/kb/articles": lambda w: E(query={"status": "published", "locale": "en", "q": "filter"}),
    "POST /api/v1/kb/articles": lambda w: E(
        body={
            "locale": "en",
            "key": "clean-nozzle",
            "title": "Clean the nozzle",
            "body": "Soak it.",
            "tags": ["care"],
        }
    ),
    "GET /api/v1/kb/articles/by-key/{locale}/{key}": lambda w: E(
        path={"locale": w.article.locale, "key": w.article.key}
    ),
    "GET /api/v1/kb/articles/{article_id}": lambda w: E(path={"article_id": w.article.pk}),
    "PATCH /api/v1/kb/articles/{article_id}": lambda w: E(
        path={"article_id": w.article.pk}, body={"tags": ["filter", "care"]}
    ),
    "GET /api/v1/kb/articles/{article_id}/diff": lambda w: E(
        path={"article_id": w.article.pk}, query={"from": 1, "to": 2}
    ),
    "PUT /api/v1/kb/articles/{article_id}/draft": lambda w: E(
        path={"article_id": w.draft.pk}, body={"title": "Descale the kettle", "body": "Use citric acid."}
    ),
    "POST /api/v1/kb/articles/{article_id}/feedback": lambda w: E(
        path={"article_id": w.article.pk}, body={"helpful": True, "comment": "清楚"}
    ),
    "POST /api/v1/kb/articles/{article_id}/rollback": lambda w: E(
        path={"article_id": w.revised_article.pk}, body={"to_version": 1}
    ),
    "POST /api/v1/kb/articles/{article_id}/unpublish": lambda w: E(path={"article_id": w.article.pk}),
    "GET /api/v1/kb/articles/{article_id}/versions": lambda w: E(path={"article_id": w.article.pk}),
    "GET /api/v1/kb/articles/{article_id}/versions/{number}": lambda w: E(
        path={"article_id": w.article.pk, "number": 1}
    ),
    "POST /api/v1/kb/articles/{article_id}/versions/{number}/publish": lambda w: E(
        path={"article_id": w.article.pk, "number": 2}, body={}
    ),
    "POST /api/v1/kb/articles/{article_id}/versions/{number}/reject": lambda w: E(
        path={"article_id": w.article.pk, "number": 2}, body={"note": "请补充图片"}
    ),
    "POST /api/v1/kb/articles/{article_id}/versions/{number}/submit": lambda w: E(
        path={"article_id": w.draft.pk, "number": 1}
    ),
    "GET /api/v1/kb/categories": lambda w: E(),
    "GET /api/v1/kb/editions/{edition_id}/html": lambda w: E(path={"edition_id": w.edition.pk}),
    "GET /api/v1/kb/editions/{edition_id}/pdf": lambda w: E(path={"edition_id": w.edition.pk}),
    "GET /api/v1/kb/manuals": lambda w: E(),
    "GET /api/v1/kb/manuals/{slug}": lambda w: E(path={"slug": w.manual.slug}),
    "GET /api/v1/kb/manuals/{slug}/editions": lambda w: E(path={"slug": w.manual.slug}),
    "POST /api/v1/kb/manuals/{slug}/editions": lambda w: E(
        path={"slug": w.manual.slug}, body={"label": "2026.1"}
    ),
    # channels
    "GET /api/v1/chat/conversations": lambda w: E(query={"status": "waiting", "limit": 5}),
    "GET /api/v1/chat/conversations/{conversation_id}": lambda w: E(
        path={"conversation_id": w.conversation.pk}
    ),
    "POST /api/v1/mail/inbound": lambda w: E(raw=mail(), content_type="message/rfc822"),
    "GET /api/v1/mail/quarantine": lambda w: E(query={"limit": 5}),
    "GET /api/v1/phone/calls": lambda w: E(query={"ticket": w.ticket.number, "limit": 5}),
    "POST /api/v1/phone/cti/events": lambda w: E(
        body={"event": "ringing", "call_id": "CALL-1", "direction": "inbound", "caller": "+86 138 0000 0001"},
        signed_by=CtiSourceFactory(),
    ),
    "GET /api/v1/webhooks/deliveries": lambda w: E(query={"status": "failed", "limit": 5}),
    "GET /api/v1/webhooks/deliveries/{delivery_id}": lambda w: E(path={"delivery_id": w.failed_delivery.pk}),
    "POST /api/v1/webhooks/deliveries/{delivery_id}/retry": lambda w: E(
        path={"delivery_id": w.failed_delivery.pk}
    ),
    "GET /api/v1/webhooks/endpoints": lambda w: E(),
}


def _validate(instance: Any, schema: dict[str, Any], where: str) -> None:
    # jsonschema-rs comes with schemathesis; OpenAPI 3.1 schemas are JSON Schema 2020-12.
    validator = jsonschema_rs.Draft202012Validator(
        {**schema, "components": DOCUMENT["components"]}, validate_formats=True
    )
    errors = [f"{where}: {e.message}" for e in validator.iter_errors(instance)]
    assert errors == []


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    return COMPONENTS[ref.rsplit("/", 1)[1]] if ref else schema


def _synthesise(schema: dict[str, Any]) -> Any:
    """A value of the published type, for a field the published schema requires and the example
    lacks (so a published field the endpoint does not know is sent, and refused)."""
    schema = _resolve(schema)
    for key in ("const", "default"):
        if key in schema:
            return schema[key]
    if "enum" in schema:
        return schema["enum"][0]
    if "anyOf" in schema:
        return _synthesise(schema["anyOf"][0])
    kind = schema.get("type")
    if kind == "integer":
        return 1
    if kind == "number":
        return 1.0
    if kind == "boolean":
        return True
    if kind == "array":
        return []
    if kind == "object":
        return {
            name: _synthesise(sub)
            for name, sub in schema.get("properties", {}).items()
            if name in schema.get("required", [])
        }
    return "x"


def _from_published(schema: dict[str, Any], example: dict[str, Any]) -> dict[str, Any]:
    """The published properties: the example's values where it has them, a made-up value for a
    required one it lacks; what is not published is not sent."""
    schema = _resolve(schema)
    properties = schema.get("properties", {})
    built = {name: value for name, value in example.items() if name in properties}
    for name in schema.get("required", []):
        if name not in built:
            built[name] = _synthesise(properties.get(name, {}))
    return built


def _send(example: Example, world: World, method: str, path: str, query: dict, body: Any):
    url = PREFIX + path.removeprefix(PREFIX).format(**example.path)
    if query:
        url += "?" + urlencode(query, doseq=True)
    headers = dict(example.headers)
    client = Client()
    if example.signed_by is not None:
        payload = json.dumps(body).encode()
        headers |= {
            "X-Aftersales-Source": example.signed_by.key,
            signing.SIGNATURE_HEADER: signing.sign(example.signed_by.secret, payload),
        }
        return client.generic(method, url, payload, content_type="application/json", headers=headers)
    headers["Authorization"] = world.bearer
    if example.files is not None:
        return client.post(url, data={**(body or {}), **example.files}, headers=headers)
    if example.raw is not None:
        return client.generic(method, url, example.raw, content_type=example.content_type, headers=headers)
    data = b"" if body is None else json.dumps(body).encode()
    return client.generic(method, url, data, content_type="application/json", headers=headers)


def test_every_operation_has_an_example():
    assert sorted(set(OPERATIONS) - set(EXAMPLES)) == []
    assert sorted(set(EXAMPLES) - set(OPERATIONS)) == []


@pytest.mark.django_db
@pytest.mark.parametrize("operation", OPERATIONS)
def test_a_real_request_matches_the_published_schema_and_is_accepted(operation, settings):
    settings.AFTERSALES_CHAT_BOT = False
    method, path = operation.split(" ", 1)
    published = DOCUMENT["paths"][path][method.lower()]
    if operation not in EXAMPLES:
        pytest.fail(f"{operation} has no example request in EXAMPLES")
    world = World()
    example = EXAMPLES[operation](world)

    # The real request validates against what is published.
    parameters = {(p["in"], p["name"]): p for p in published.get("parameters", [])}
    for where, values in (("path", example.path), ("query", example.query)):
        for name, value in values.items():
            assert (where, name) in parameters, f"{where} parameter {name!r} is not published"
            _validate(value, parameters[(where, name)]["schema"], f"{where} {name}")
    assert {n for (w, n) in parameters if w == "path"} == set(example.path)
    content = published.get("requestBody", {}).get("content", {})
    body: Any = None
    if example.body is not None or example.files is not None or example.raw is not None:
        assert example.content_type in content, f"{example.content_type} is not a published body type"
        schema = content[example.content_type]["schema"]
        if example.body is not None:
            _validate(example.body, schema, "body")
            body = _from_published(schema, example.body)
        elif example.files is not None:
            assert set(example.files) <= set(_resolve(schema)["properties"])
    else:
        assert not published.get("requestBody", {}).get("required"), "the body is required"

    # A request built from the published schema is accepted.
    query = {
        name: example.query[name] if name in example.query else _synthesise(p["schema"])
        for (where, name), p in parameters.items()
        if where == "query" and (name in example.query or p.get("required"))
    }
    response = _send(example, world, method, path, query, body)
    assert response.status_code in example.expect, (response.status_code, response.content[:500])
