"""Canned replies: placeholders checked at save and filled in the customer's language, scopes,
applying through the ticket services in one transaction, usage counted, the API and the pages."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone, translation

from aftersales.core.errors import NotFound, PermissionDenied, ValidationFailed
from aftersales.core.models import AuditEvent
from aftersales.core.roles import Role
from aftersales.macros import placeholders
from aftersales.macros.models import Macro
from aftersales.macros.selectors import macro_preview, macros_usable_by
from aftersales.macros.services import macro_apply, macro_archive, macro_create, macro_update
from aftersales.tickets.models import Ticket, TicketMessage
from aftersales.tickets.services import ticket_transition
from tests.factories import (
    CustomerFactory,
    InstalledProductFactory,
    TeamFactory,
    TicketFactory,
    UserFactory,
    customer_user,
)

pytestmark = pytest.mark.django_db

ZH = "{{ customer_name }}您好，工单 {{ticket_number}} 的{{ product }}已受理；上门时间：{{ visit_window }}。"
EN = "Dear {{ customer_name }}, ticket {{ ticket_number }} about your {{ product }} is in hand; visit: {{ visit_window }}."


def login(user, language="en"):
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


@pytest.fixture
def supervisor(db):
    return UserFactory(role=Role.SUPERVISOR, display_name="刘主管")


@pytest.fixture
def ticket(db):
    customer = CustomerFactory(name="王芳", language="zh-hans")
    product = InstalledProductFactory(
        customer=customer, product_model__name="恒温花洒", product_model__name_en="Thermostatic shower"
    )
    return TicketFactory(customer=customer, installed_product=product, subject="花洒漏水")


@pytest.fixture
def macro(supervisor):
    return macro_create(actor=supervisor, name="受理回复", scope="global", body_zh=ZH, body_en=EN)


def test_the_reply_follows_the_customers_language_with_placeholders_filled(macro, ticket, agent):
    zh = macro_preview(macro=macro, ticket=ticket, actor=agent)
    assert zh.language == "zh-hans"
    assert zh.body == f"王芳您好，工单 {ticket.number} 的恒温花洒已受理；上门时间：尚未预约。"
    ticket.customer.language = "en"
    with translation.override("zh-hans"):  # the agent's own language does not matter
        en = macro_preview(macro=macro, ticket=ticket, actor=agent)
    assert en.body == (
        f"Dear 王芳, ticket {ticket.number} about your Thermostatic shower is in hand; visit: not scheduled yet."
    )


def test_a_registered_visit_window_fills_the_placeholder(macro, ticket, agent):
    start = timezone.make_aware(dt.datetime(2026, 12, 3, 14, 0), timezone.get_fixed_timezone(480))

    def source(t):
        return (start, start + dt.timedelta(hours=2)) if t.pk == ticket.pk else None

    placeholders.register_visit_window_source(source)
    try:
        body = macro_preview(macro=macro, ticket=ticket, actor=agent).body
    finally:
        placeholders.unregister_visit_window_source(source)
    assert "上门时间：2026-12-03 14:00–16:00。" in body


def test_without_a_product_the_placeholder_says_so(macro, agent):
    ticket = TicketFactory(customer=CustomerFactory(name="赵磊", language="en"))
    body = macro_preview(macro=macro, ticket=ticket, actor=agent).body
    assert (
        body == f"Dear 赵磊, ticket {ticket.number} about your product is in hand; visit: not scheduled yet."
    )
    ticket.customer.language = "zh-hans"
    assert "的产品已受理；上门时间：尚未预约。" in macro_preview(macro=macro, ticket=ticket, actor=agent).body


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "Unknown placeholder(s): {{ customer_nmae }}."),
        ("zh-hans", "未知的占位符：{{ customer_nmae }}。"),
    ],
)
def test_unknown_placeholders_are_refused_at_save_with_a_translated_error(supervisor, language, expected):
    with translation.override(language), pytest.raises(ValidationFailed) as refused:
        macro_create(
            actor=supervisor, name="x", scope="global", body_zh="{{ customer_nmae }}您好", body_en="Hello"
        )
    assert expected in refused.value.details["body_zh"]
    assert Macro.objects.count() == 0


def test_an_unclosed_placeholder_and_a_missing_language_are_refused(supervisor):
    with pytest.raises(ValidationFailed) as refused:
        macro_create(actor=supervisor, name="x", scope="global", body_zh="{{ customer_name", body_en="Hi")
    assert "body_zh" in refused.value.details
    with pytest.raises(ValidationFailed) as one_language:
        macro_create(actor=supervisor, name="x", scope="global", body_zh="您好")
    assert set(one_language.value.details) == {"body_en"}


def test_scopes_decide_who_may_write_and_use(supervisor, agent):
    team = TeamFactory()
    team.members.add(agent)
    other_team = TeamFactory()
    with pytest.raises(PermissionDenied):
        macro_create(actor=agent, name="全局", scope="global", body_zh="您好", body_en="Hi")
    with pytest.raises(PermissionDenied):
        macro_create(actor=agent, name="团队", scope="team", team=team, body_zh="您好", body_en="Hi")
    mine = macro_create(actor=agent, name="我的", scope="personal", body_zh="您好", body_en="Hi")
    ours = macro_create(actor=supervisor, name="团队", scope="team", team=team, body_zh="您好", body_en="Hi")
    theirs = macro_create(
        actor=supervisor, name="别队", scope="team", team=other_team, body_zh="您好", body_en="Hi"
    )
    colleague = UserFactory(role=Role.AGENT)
    assert set(macros_usable_by(agent)) == {mine, ours}
    assert set(macros_usable_by(colleague)) == set()
    assert theirs not in macros_usable_by(agent)
    with pytest.raises(NotFound):  # another person's reply does not exist for it
        macro_update(macro=mine, actor=colleague, changes={"name": "偷改"})
    assert macros_usable_by(customer_user()).count() == 0


def test_applying_sets_fields_replies_and_moves_the_stage_in_one_audited_transaction(
    supervisor, agent, ticket
):
    team = TeamFactory()
    macro = macro_create(
        actor=supervisor,
        name="等待客户照片",
        scope="global",
        body_zh="{{ customer_name }}您好，请拍一张{{ product }}的照片。",
        body_en="Hello {{ customer_name }}, please send a photo of the {{ product }}.",
        set_priority="high",
        add_tags=["需照片", "漏水"],
        set_team=team,
        set_status="waiting_on_customer",
    )
    ticket = ticket_transition(ticket=ticket, actor=agent, to_status="accepted")
    applied = macro_apply(macro=macro, ticket=ticket, actor=agent)
    ticket.refresh_from_db()
    assert (ticket.priority, ticket.team_id, ticket.status) == ("high", team.pk, "waiting_on_customer")
    assert sorted(t.name for t in ticket.tags.all()) == ["漏水", "需照片"]
    assert applied.message.body == "王芳您好，请拍一张恒温花洒的照片。"
    assert applied.message.kind == TicketMessage.Kind.REPLY
    assert applied.changed == ["priority", "team", "tags", "status"]
    macro.refresh_from_db()
    assert macro.usage_count == 1 and macro.last_used_at is not None
    actions = list(AuditEvent.objects.filter(object_id=str(ticket.pk)).values_list("action", flat=True))
    assert {"ticket.update", "ticket.transition", "macro.apply"} <= set(actions)


def test_a_refused_step_undoes_the_whole_macro(supervisor, ticket):
    macro = macro_create(
        actor=supervisor,
        name="加急",
        scope="global",
        body_zh="已加急。",
        body_en="Escalated.",
        set_priority="urgent",
    )
    technician = UserFactory(role=Role.TECHNICIAN)
    Ticket.objects.filter(pk=ticket.pk).update(assignee=technician)
    ticket.refresh_from_db()
    messages_before = TicketMessage.objects.count()
    with pytest.raises(PermissionDenied):  # a technician may reply on its job, not edit fields
        macro_apply(macro=macro, ticket=ticket, actor=technician)
    ticket.refresh_from_db()
    assert ticket.priority == "normal"
    assert TicketMessage.objects.count() == messages_before
    macro.refresh_from_db()
    assert macro.usage_count == 0


def test_an_archived_macro_is_not_offered_nor_applied(macro, agent, ticket, supervisor):
    macro_archive(macro=macro, actor=supervisor)
    assert macro not in macros_usable_by(agent)
    macro_update(macro=macro, actor=supervisor, changes={"is_active": True})
    assert macro in macros_usable_by(agent)


# --- the API --------------------------------------------------------------------------------------


def test_api_lists_with_preview_and_applies(api_as, agent, macro, ticket):
    client = api_as(agent)
    listed = client.get("/api/v1/macros", {"ticket": ticket.number})
    assert listed.status_code == 200, listed.content
    item = listed.json()["items"][0]
    assert item["id"] == macro.pk and item["preview_language"] == "zh-hans"
    assert item["preview"].startswith("王芳您好")
    applied = client.post(f"/api/v1/macros/{macro.pk}/apply", {"ticket": ticket.number})
    assert applied.status_code == 200, applied.content
    assert applied.json()["usage_count"] == 1 and applied.json()["message_id"]
    stale = client.post(f"/api/v1/macros/{macro.pk}/apply", {"ticket": ticket.number, "version": 99})
    assert stale.status_code == 409


def test_api_refuses_customers_and_hides_other_peoples_macros(api_as, agent, ticket):
    colleague = UserFactory(role=Role.AGENT)
    private = macro_create(actor=colleague, name="私人", scope="personal", body_zh="您好", body_en="Hi")
    assert api_as(customer_user()).get("/api/v1/macros").status_code == 403
    refused = api_as(agent).post(f"/api/v1/macros/{private.pk}/apply", {"ticket": ticket.number})
    assert refused.status_code == 404
    assert not TicketMessage.objects.filter(ticket=ticket).exists()


def test_macro_list_query_count_is_pinned(api_as, agent, supervisor, ticket, django_assert_max_num_queries):
    for index in range(12):
        macro_create(actor=supervisor, name=f"回复{index}", scope="global", body_zh="您好", body_en="Hi")
    client = api_as(agent)
    # token, user (throttle counter), the ticket, the page
    with django_assert_max_num_queries(6):
        response = client.get("/api/v1/macros", {"ticket": ticket.number})
    assert len(response.json()["items"]) == 12


# --- the pages ------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_supervisor_creates_a_team_macro_and_sees_a_translated_placeholder_error(supervisor, language):
    team = TeamFactory()
    client = login(supervisor, language)
    assert client.get("/console/macros/new/").status_code == 200
    bad = client.post(
        "/console/macros/new/",
        {"name": "坏", "scope": "global", "message_kind": "reply", "body_zh": "{{ 姓名 }}", "body_en": "Hi"},
    )
    assert bad.status_code == 200
    expected = "未知的占位符" if language == "zh-hans" else "Unknown placeholder"
    assert expected in bad.content.decode()
    ok = client.post(
        "/console/macros/new/",
        {
            "name": "团队问候",
            "scope": "team",
            "team": team.pk,
            "message_kind": "reply",
            "body_zh": "{{ customer_name }}您好",
            "body_en": "Hello {{ customer_name }}",
            "add_tags": "问候，首响",
        },
    )
    assert ok.status_code == 302
    macro = Macro.objects.get(name="团队问候")
    assert (macro.scope, macro.team_id, macro.add_tags) == ("team", team.pk, ["问候", "首响"])
    listing = client.get("/console/macros/").content.decode()
    assert "团队问候" in listing


def test_agent_may_keep_personal_macros_only(agent):
    client = login(agent)
    page = client.get("/console/macros/new/").content.decode()
    assert 'value="personal"' in page and 'value="global"' not in page
    refused = client.post(
        "/console/macros/new/",
        {"name": "x", "scope": "global", "message_kind": "reply", "body_zh": "您好", "body_en": "Hi"},
    )
    assert refused.status_code == 200 and not Macro.objects.exists()  # not a choice the form offers
    assert login(customer_user()).get("/console/macros/").status_code == 403


def test_picker_inserts_the_filled_text_and_sending_counts_the_use(agent, macro, ticket):
    client = login(agent)
    page = client.get(f"/console/tickets/{ticket.number}/").content.decode()
    assert 'id="macro-picker"' in page and "受理回复" in page
    inserted = client.get(
        f"/console/tickets/{ticket.number}/macro/", {"macro": macro.pk}, headers={"HX-Request": "true"}
    ).content.decode()
    assert "王芳您好" in inserted and "<html" not in inserted
    assert f'name="macro" value="{macro.pk}"' in inserted
    sent = client.post(
        f"/console/tickets/{ticket.number}/reply/",
        {"body": "王芳您好，已改过。", "kind": "reply", "macro": macro.pk},
    )
    assert sent.status_code == 302
    macro.refresh_from_db()
    assert macro.usage_count == 1
    assert TicketMessage.objects.filter(ticket=ticket, body="王芳您好，已改过。").exists()


def test_picker_applies_the_whole_macro(agent, supervisor, ticket):
    macro = macro_create(
        actor=supervisor,
        name="加急",
        scope="global",
        body_zh="已加急。",
        body_en="Escalated.",
        set_priority="urgent",
    )
    response = login(agent).post(
        f"/console/tickets/{ticket.number}/macro/", {"macro": macro.pk, "version": ticket.version}
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.priority == "urgent"
    assert TicketMessage.objects.filter(ticket=ticket, body="已加急。").exists()
