"""The small organisation the authorisation matrix runs against: two regions (北京 in a supervisor's
scope, 上海 outside it), a customer and its tickets in each, and one of every other kind of object
an endpoint or page can address. Built once per role; every request is rolled back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.files.base import ContentFile
from django.utils import timezone

from aftersales.channels.chat.models import Conversation
from aftersales.channels.mail.models import InboundEmail, InboundStatus
from aftersales.channels.webhooks.models import WebhookDelivery
from aftersales.core.models import Region, User
from aftersales.core.roles import Role
from aftersales.knowledge import manual_services
from aftersales.knowledge import services as kb_services
from aftersales.knowledge.models import Category
from aftersales.macros.services import macro_create
from aftersales.tickets.services import attachment_add, ticket_add_message, ticket_transition
from tests.chat.factories import ChatChannelFactory
from tests.factories import (
    CustomerFactory,
    InstalledProductFactory,
    RegionFactory,
    TeamFactory,
    TicketFactory,
    UserFactory,
    customer_user,
)
from tests.webhooks.factories import InboundSourceFactory, WebhookEndpointFactory

ANONYMOUS = "anonymous"
ROLES = (Role.ADMIN, Role.SUPERVISOR, Role.AGENT, Role.TECHNICIAN, Role.PARTS_CLERK, Role.CUSTOMER, ANONYMOUS)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@dataclass
class World:
    users: dict[str, User]
    inside: dict[str, Any]  # objects every role can address (in the scoped supervisor's region)
    outside: dict[str, Any]  # the same kinds of objects in 上海: outside the supervisor's,
    # the technician's and the customer's scope
    shared: dict[str, Any]  # objects with no scope (articles, manuals, deliveries, chats)


def _ticket(*, customer, region, team, assignee, agent: User) -> Any:
    ticket = TicketFactory(customer=customer, region=region, team=team, assignee=assignee)
    ticket = ticket_transition(ticket=ticket, actor=agent, to_status="accepted")
    ticket_add_message(ticket=ticket, actor=agent, body="我们已收到您的报修。")
    upload = ContentFile(PNG, name="photo.png")
    upload.content_type = "image/png"  # type: ignore[attr-defined]
    attachment = attachment_add(ticket=ticket, actor=agent, upload=upload)  # type: ignore[arg-type]
    ticket.refresh_from_db()
    return ticket, attachment


def build_world() -> World:
    beijing = RegionFactory(code="bj", name="北京", name_en="Beijing", level=Region.Level.CITY)
    shanghai = RegionFactory(code="sh", name="上海", name_en="Shanghai", level=Region.Level.CITY)
    team_bj = TeamFactory(code="bj-desk")
    team_sh = TeamFactory(code="sh-desk")

    admin = UserFactory(role=Role.ADMIN, is_staff=True, is_superuser=True, username="admin@corp.example")
    supervisor = UserFactory(role=Role.SUPERVISOR, username="supervisor@corp.example")
    supervisor.regions.set([beijing])
    team_bj.members.add(supervisor)
    agent = UserFactory(role=Role.AGENT, username="agent@corp.example")
    technician = UserFactory(role=Role.TECHNICIAN, username="technician@corp.example")
    parts_clerk = UserFactory(role=Role.PARTS_CLERK, username="parts@corp.example")

    customer_bj = CustomerFactory(name="王先生", region=beijing, value_tier="high_value")
    duplicate_bj = CustomerFactory(name="王先生", region=beijing, email=customer_bj.email)
    customer_bj_login = customer_user(customer_bj, username="wang@home.example")
    customer_sh = CustomerFactory(name="李女士", region=shanghai)
    duplicate_sh = CustomerFactory(name="李女士", region=shanghai, email=customer_sh.email)

    inside: dict[str, Any] = {"customer": customer_bj, "duplicate": duplicate_bj}
    outside: dict[str, Any] = {"customer": customer_sh, "duplicate": duplicate_sh}
    for scope, customer, region, team, assignee in (
        (inside, customer_bj, beijing, team_bj, technician),
        (outside, customer_sh, shanghai, team_sh, None),
    ):
        scope["ticket"], scope["attachment"] = _ticket(
            customer=customer, region=region, team=team, assignee=assignee, agent=agent
        )
        scope["other_ticket"], _attachment = _ticket(
            customer=customer, region=region, team=team, assignee=assignee, agent=agent
        )
        scope["product"] = InstalledProductFactory(customer=customer)

    # Knowledge: a public and an internal published article, a draft, one in review, a manual.
    category = Category.objects.create(slug="toilets", name_zh="智能马桶", name_en="Smart toilets")
    articles: dict[str, Any] = {}
    for name, audience in (("public", "public"), ("internal", "internal")):
        article = kb_services.article_create(
            actor=agent,
            locale="en",
            key=f"reset-filter-{name}",
            title="Reset the filter",
            body="Turn off the water.",
            audience=audience,
            category=category,
        )
        version = article.versions.get()
        kb_services.version_submit(actor=agent, version=version)
        kb_services.version_publish(actor=supervisor, version=version)
        article.refresh_from_db()
        articles[name] = article
    draft = kb_services.article_create(actor=agent, locale="en", key="draft-one", title="Draft", body="…")
    in_review = kb_services.article_create(
        actor=agent, locale="en", key="in-review", title="Review", body="…"
    )
    kb_services.version_submit(actor=agent, version=in_review.versions.get())
    manual = manual_services.manual_create(
        actor=agent, slug="user-manual", title_zh="用户手册", title_en="Manual"
    )
    manual_services.manual_section_add(actor=agent, manual=manual, article=articles["public"])
    edition = manual_services.manual_publish_edition(actor=supervisor, manual=manual, label="v1")

    chat_channel = ChatChannelFactory()
    conversation = Conversation.objects.create(
        channel=chat_channel, public_token="tok-matrix", visitor_name="访客", visitor_phone="13900000000"
    )
    endpoint = WebhookEndpointFactory()
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, event_type="ticket.opened", payload={}, status="failed", attempts=1
    )
    inbound = InboundEmail.objects.create(
        dedupe_key="matrix@example.cn",
        raw=ContentFile(b"From: a@example.cn\r\nSubject: x\r\n\r\nbody\r\n", name="matrix.eml"),
        sha256="0" * 64,
        from_address="a@example.cn",
        subject="x",
        status=InboundStatus.QUARANTINED,
        received_at=timezone.now(),
    )
    source = InboundSourceFactory()
    macro = macro_create(
        actor=supervisor, name="受理", scope="global", body_zh="{{ customer_name }}您好", body_en="Hello"
    )

    shared = {
        "category": category,
        "article": articles["public"],
        "internal_article": articles["internal"],
        "draft": draft,
        "in_review": in_review,
        "manual": manual,
        "edition": edition,
        "chat_channel": chat_channel,
        "conversation": conversation,
        "delivery": delivery,
        "inbound": inbound,
        "webhook_source": source,
        "macro": macro,
    }
    users = {
        Role.ADMIN: admin,
        Role.SUPERVISOR: supervisor,
        Role.AGENT: agent,
        Role.TECHNICIAN: technician,
        Role.PARTS_CLERK: parts_clerk,
        Role.CUSTOMER: customer_bj_login,
    }
    return World(users=users, inside=inside, outside=outside, shared=shared)


def values(world: World, scope: dict[str, Any]) -> dict[str, Any]:
    """What the paths and bodies of the matrix are formatted with, for one scope."""
    shared = world.shared
    return {
        "ticket": scope["ticket"].number,
        "ticket_version": scope["ticket"].version,
        "other_ticket": scope["other_ticket"].number,
        "attachment": scope["attachment"].pk,
        "customer": scope["customer"].pk,
        "customer_code": scope["customer"].code,
        "duplicate": scope["duplicate"].pk,
        "duplicate_code": scope["duplicate"].code,
        "product": scope["product"].pk,
        "product_model": scope["product"].product_model.code,
        "product_model_id": scope["product"].product_model_id,
        "customer_version": scope["customer"].version,
        "macro": shared["macro"].pk,
        "team": scope["ticket"].team_id,
        "article": shared["article"].pk,
        "article_key": shared["article"].key,
        "internal_article": shared["internal_article"].pk,
        "internal_article_key": shared["internal_article"].key,
        "draft": shared["draft"].pk,
        "in_review": shared["in_review"].pk,
        "category_slug": shared["category"].slug,
        "manual": shared["manual"].slug,
        "edition": shared["edition"].pk,
        "chat_key": shared["chat_channel"].public_key,
        "conversation": shared["conversation"].pk,
        "delivery": shared["delivery"].pk,
        "inbound": shared["inbound"].pk,
        "webhook_key": shared["webhook_source"].key,
        "sla_policy": _first_pk("sla", "SlaPolicy"),
        "calendar": _first_pk("core", "BusinessCalendar"),
        "agent_id": world.users[Role.AGENT].pk,
    }


def _first_pk(app_label: str, model: str) -> int:
    from django.apps import apps

    return int(apps.get_model(app_label, model).objects.order_by("pk").values_list("pk", flat=True)[0])
