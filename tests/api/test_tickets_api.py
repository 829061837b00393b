"""The ticket endpoints of the public contract, their authorisation and their bad-input handling."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from aftersales.core.models import AuditEvent, IdempotencyRecord
from aftersales.core.roles import Role
from aftersales.tickets.models import Ticket, TicketMessage
from aftersales.tickets.services import ticket_add_message, ticket_open, ticket_transition
from tests.factories import (
    CustomerFactory,
    InstalledProductFactory,
    TeamFactory,
    UserFactory,
    customer_user,
)

pytestmark = pytest.mark.django_db


def snapshot():
    """Everything a refused request must leave untouched."""
    return (
        list(Ticket.objects.order_by("id").values_list("id", "status", "version", "subject", "priority")),
        TicketMessage.objects.count(),
        AuditEvent.objects.count(),
    )


@pytest.fixture
def customer():
    return CustomerFactory(name="上海浦东王先生")


@pytest.fixture
def agent_api(agent, api_as):
    return api_as(agent)


def open_ticket(agent, customer, **kwargs):
    return ticket_open(
        actor=agent, customer=customer, subject=kwargs.pop("subject", "智能马桶漏水"), **kwargs
    )


def test_create_returns_the_ticket_with_a_number(agent_api, customer):
    product = InstalledProductFactory(customer=customer)
    response = agent_api.post(
        "/api/v1/tickets",
        {
            "subject": "智能马桶不出热水",
            "description": "加热功能失效",
            "type": "repair",
            "priority": "high",
            "channel": "phone",
            "customer": customer.pk,
            "installed_product": product.pk,
            "tags": ["加热", "智能马桶"],
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["number"].startswith("T") and body["status"] == "new" and body["version"] == 1
    assert body["customer"]["name"] == "上海浦东王先生"
    assert body["installed_product"]["serial_number"] == product.serial_number
    assert body["installed_product"]["warranty_status"] in {"in_warranty", "expired"}
    assert body["tags"] == ["加热", "智能马桶"]
    assert "accepted" in body["allowed_transitions"]
    assert agent_api.get(f"/api/v1/tickets/{body['number']}").json() == body
    ticket = Ticket.objects.get(number=body["number"])
    assert AuditEvent.objects.filter(
        object_type="tickets.ticket", object_id=str(ticket.pk), action="ticket.open"
    ).exists()


def test_a_retried_create_with_the_same_idempotency_key_creates_one_ticket(agent_api, customer):
    payload = {"subject": "预约安装浴缸", "type": "installation", "customer": customer.pk}
    first = agent_api.post("/api/v1/tickets", payload, headers={"Idempotency-Key": "order-778-install"})
    second = agent_api.post("/api/v1/tickets", payload, headers={"Idempotency-Key": "order-778-install"})
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["number"] == second.json()["number"]
    assert Ticket.objects.filter(subject="预约安装浴缸").count() == 1
    assert IdempotencyRecord.objects.count() == 1


def test_an_idempotency_key_reused_for_another_request_is_refused(agent_api, customer):
    agent_api.post(
        "/api/v1/tickets", {"subject": "A", "customer": customer.pk}, headers={"Idempotency-Key": "k-1"}
    )
    before = snapshot()
    response = agent_api.post(
        "/api/v1/tickets", {"subject": "B", "customer": customer.pk}, headers={"Idempotency-Key": "k-1"}
    )
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert snapshot() == before


def test_a_failed_create_does_not_burn_the_idempotency_key(agent_api, customer):
    bad = agent_api.post(
        "/api/v1/tickets",
        {"subject": "A", "customer": customer.pk, "assignee": 999999},
        headers={"Idempotency-Key": "k-2"},
    )
    assert bad.status_code == 422
    good = agent_api.post(
        "/api/v1/tickets", {"subject": "A", "customer": customer.pk}, headers={"Idempotency-Key": "k-2"}
    )
    assert good.status_code == 201


def test_list_pages_with_a_cursor_without_gaps_or_repeats(agent, agent_api, customer):
    numbers = {open_ticket(agent, customer, subject=f"工单{i}").number for i in range(7)}
    seen, cursor = [], None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        body = agent_api.get("/api/v1/tickets", params).json()
        assert set(body) == {"items", "next_cursor", "total", "total_is_capped"}  # total: searches only
        assert body["total"] is None
        seen += [item["number"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 7 and set(seen) == numbers
    assert seen == sorted(seen, reverse=True)


def test_list_filters_by_status_type_priority_team_assignee_customer_and_text(agent, agent_api, customer):
    team = TeamFactory()
    technician = UserFactory(role=Role.TECHNICIAN)
    wanted = open_ticket(
        agent,
        customer,
        subject="热水器漏电",
        type="complaint",
        priority="urgent",
        team=team,
        assignee=technician,
    )
    ticket_transition(ticket=wanted, actor=agent, to_status="accepted")
    open_ticket(agent, customer, subject="热水器咨询", type="consultation")
    open_ticket(
        agent, CustomerFactory(), subject="别人的工单", type="complaint", priority="urgent", team=team
    )
    query = {
        "status": "accepted",
        "type": "complaint",
        "priority": "urgent",
        "team": team.pk,
        "assignee": technician.pk,
        "customer": customer.pk,
        "q": "漏电",
    }
    body = agent_api.get("/api/v1/tickets", query).json()
    assert [item["number"] for item in body["items"]] == [wanted.number]
    several = agent_api.get(f"/api/v1/tickets?status=new&status=accepted&customer={customer.pk}").json()
    assert len(several["items"]) == 2


def test_the_queue_page_costs_a_fixed_number_of_queries(
    agent, agent_api, customer, django_assert_max_num_queries
):
    team = TeamFactory()
    for i in range(30):
        open_ticket(agent, CustomerFactory(), subject=f"批量{i}", team=team, assignee=agent)
    with django_assert_max_num_queries(4):
        response = agent_api.get("/api/v1/tickets", {"limit": 25, "team": team.pk})
    assert len(response.json()["items"]) == 25


def test_patch_with_a_stale_if_match_is_refused_and_changes_nothing(agent, agent_api, customer):
    ticket = open_ticket(agent, customer)
    ticket_transition(ticket=ticket, actor=agent, to_status="accepted")
    before = snapshot()
    response = agent_api.patch(
        f"/api/v1/tickets/{ticket.number}", {"priority": "urgent"}, headers={"If-Match": '"1"'}
    )
    assert response.status_code == 409
    assert response.json()["code"] == "stale_version"
    assert response.json()["details"]["current_version"] == 2
    assert snapshot() == before


def test_patch_with_the_current_version_applies_and_audits(agent, agent_api, customer):
    ticket = open_ticket(agent, customer)
    team = TeamFactory()
    response = agent_api.patch(
        f"/api/v1/tickets/{ticket.number}",
        {"priority": "urgent", "team": team.pk, "assignee": agent.pk},
        headers={"If-Match": '"1"'},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["priority"], body["team"]["id"], body["assignee"]["id"], body["version"]) == (
        "urgent",
        team.pk,
        agent.pk,
        2,
    )
    assert response["ETag"] == '"2"'
    event = AuditEvent.objects.filter(action="ticket.update").get()
    assert event.before == {"priority": "normal", "team": None, "assignee": None}
    assert event.after == {"priority": "urgent", "team": team.pk, "assignee": agent.pk}


def test_transition_endpoint_moves_and_refuses_illegal_steps(agent, agent_api, customer):
    ticket = open_ticket(agent, customer)
    ok = agent_api.post(f"/api/v1/tickets/{ticket.number}/transition", {"to": "accepted", "note": "已受理"})
    assert ok.status_code == 200 and ok.json()["status"] == "accepted"
    before = snapshot()
    refused = agent_api.post(f"/api/v1/tickets/{ticket.number}/transition", {"to": "closed"})
    assert refused.status_code == 409
    assert refused.json()["code"] == "invalid_transition"
    assert snapshot() == before
    timeline = agent_api.get(f"/api/v1/tickets/{ticket.number}/timeline").json()["items"]
    assert [(c["from_status"], c["to_status"]) for c in timeline] == [("", "new"), ("new", "accepted")]


def test_error_messages_follow_the_users_language(agent, agent_api, customer):
    ticket = open_ticket(agent, customer)
    response = agent_api.post(
        f"/api/v1/tickets/{ticket.number}/transition",
        {"to": "closed"},
        headers={"Accept-Language": "zh-Hans"},
    )
    assert response.json()["message"] == "工单不能从“新建”变更为“已关闭”。"
    english = agent_api.post(
        f"/api/v1/tickets/{ticket.number}/transition", {"to": "closed"}, headers={"Accept-Language": "en"}
    )
    assert english.json()["message"] == "A ticket cannot move from “New” to “Closed”."


def test_messages_replies_and_internal_notes(agent, agent_api, customer, api_as):
    ticket = open_ticket(agent, customer)
    reply = agent_api.post(f"/api/v1/tickets/{ticket.number}/messages", {"body": "您好，师傅明天上门"})
    note = agent_api.post(
        f"/api/v1/tickets/{ticket.number}/messages", {"body": "客户情绪激动", "kind": "note"}
    )
    assert (reply.status_code, note.status_code) == (201, 201)
    staff_view = agent_api.get(f"/api/v1/tickets/{ticket.number}/messages").json()["items"]
    assert [m["kind"] for m in staff_view] == ["reply", "note"]
    customer_api = api_as(customer_user(customer))
    customer_view = customer_api.get(f"/api/v1/tickets/{ticket.number}/messages").json()["items"]
    assert [m["body"] for m in customer_view] == ["您好，师傅明天上门"]
    before = snapshot()
    refused = customer_api.post(f"/api/v1/tickets/{ticket.number}/messages", {"body": "偷看", "kind": "note"})
    assert refused.status_code == 403
    assert snapshot() == before


# --- authorisation matrix ---------------------------------------------------------------------


def test_without_a_token_every_endpoint_answers_401(agent, customer):
    ticket = open_ticket(agent, customer)
    anonymous = Client()
    for method, path in [
        ("get", "/api/v1/tickets"),
        ("get", f"/api/v1/tickets/{ticket.number}"),
        ("post", "/api/v1/tickets"),
        ("patch", f"/api/v1/tickets/{ticket.number}"),
    ]:
        if method == "get":
            response = anonymous.get(path)
        else:
            response = getattr(anonymous, method)(path, data="{}", content_type="application/json")
        assert response.status_code == 401, path
        assert response.json()["code"] == "not_authenticated"
    bad_token = Client(HTTP_AUTHORIZATION="Bearer as_not-a-real-token")
    assert bad_token.get("/api/v1/tickets").status_code == 401


def test_a_customer_sees_only_its_own_tickets(agent, api_as, customer):
    mine = open_ticket(agent, customer, subject="我的工单")
    theirs = open_ticket(agent, CustomerFactory(), subject="别人的工单")
    customer_api = api_as(customer_user(customer))
    listed = customer_api.get("/api/v1/tickets").json()["items"]
    assert [item["number"] for item in listed] == [mine.number]
    assert customer_api.get(f"/api/v1/tickets/{mine.number}").status_code == 200
    other = customer_api.get(f"/api/v1/tickets/{theirs.number}")
    assert other.status_code == 404 and other.json()["code"] == "not_found"
    before = snapshot()
    assert customer_api.post(f"/api/v1/tickets/{theirs.number}/messages", {"body": "hi"}).status_code == 404
    assert (
        customer_api.post(f"/api/v1/tickets/{theirs.number}/transition", {"to": "cancelled"}).status_code
        == 404
    )
    assert customer_api.patch(f"/api/v1/tickets/{theirs.number}", {"subject": "x"}).status_code == 404
    assert snapshot() == before


def test_a_customer_opens_tickets_only_for_itself(api_as, customer):
    customer_api = api_as(customer_user(customer))
    created = customer_api.post(
        "/api/v1/tickets", {"subject": "龙头漏水", "priority": "urgent", "assignee": None}
    )
    assert created.status_code == 201
    # Customers do not route their own tickets: priority stays normal.
    assert created.json()["customer"]["id"] == customer.pk and created.json()["priority"] == "normal"
    before = snapshot()
    other = CustomerFactory()
    refused = customer_api.post("/api/v1/tickets", {"subject": "冒名", "customer": other.pk})
    assert refused.status_code == 404
    assert snapshot() == before


def test_a_customer_cannot_edit_fields(agent, api_as, customer):
    ticket = open_ticket(agent, customer)
    customer_api = api_as(customer_user(customer))
    before = snapshot()
    response = customer_api.patch(f"/api/v1/tickets/{ticket.number}", {"priority": "urgent"})
    assert response.status_code == 403
    assert snapshot() == before


def test_a_technician_sees_only_assigned_jobs(agent, api_as, customer):
    technician = UserFactory(role=Role.TECHNICIAN)
    assigned = open_ticket(agent, customer, subject="上门维修", assignee=technician)
    other = open_ticket(agent, customer, subject="不是我的")
    technician_api = api_as(technician)
    listed = technician_api.get("/api/v1/tickets").json()["items"]
    assert [item["number"] for item in listed] == [assigned.number]
    assert technician_api.get(f"/api/v1/tickets/{other.number}").status_code == 404
    assert technician_api.get(f"/api/v1/tickets/{assigned.number}").status_code == 200


def test_a_supervisor_sees_its_teams_and_regions(agent, api_as, customer):
    from tests.factories import RegionFactory

    east = RegionFactory(code="east", level="area")
    shanghai = RegionFactory(code="shanghai", parent=east)
    team = TeamFactory()
    supervisor = UserFactory(role=Role.SUPERVISOR)
    supervisor.regions.add(east)
    team.members.add(supervisor)
    in_team = open_ticket(agent, customer, subject="组内", team=team)
    in_region = open_ticket(agent, customer, subject="区域内", region=shanghai)
    outside = open_ticket(agent, customer, subject="别处", region=RegionFactory(code="west"))
    listed = {item["number"] for item in api_as(supervisor).get("/api/v1/tickets").json()["items"]}
    assert listed == {in_team.number, in_region.number}
    assert outside.number not in listed


# --- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        ({"subject": 42, "customer": "x"}, 422),
        ({"subject": ""}, 422),
        ({"subject": "a" * 201}, 422),
        ({"subject": "ok", "bogus_field": True}, 422),
        ({"subject": "ok", "type": "teleport"}, 422),
        ({"subject": "nul\u0000byte"}, 422),
        ({"subject": "ok", "customer": 10**30}, 422),
        ({"subject": "ok", "customer": -1}, 422),
        ({"subject": "ok", "tags": ["x" * 41]}, 422),
        ({"subject": "ok", "tags": "not-a-list"}, 422),
        (["a", "list"], 422),
        ({"subject": "ok", "customer": 987654}, 404),
    ],
)
def test_bad_create_input_gets_a_4xx_json_error_and_creates_nothing(agent_api, customer, payload, status):
    if isinstance(payload, dict) and "customer" not in payload:
        payload = {**payload, "customer": customer.pk}
    before = snapshot()
    response = agent_api.post("/api/v1/tickets", payload)
    assert response.status_code == status, response.content
    body = response.json()
    assert {"code", "message", "details"} <= set(body)
    assert snapshot() == before


@pytest.mark.parametrize(
    "raw",
    [
        b'{"subject": ',
        b"\xff\xfe\xfa not utf-8",
        b'{"subject": "\xed\xa0\x80"}',
        b'{"subject": "\\ud800 lone surrogate", "customer": 1}',
        b"null",
        b"[" * 5000 + b"]" * 5000,
    ],
)
def test_broken_bodies_get_a_4xx_json_error(agent_api, raw):
    before = snapshot()
    response = agent_api.post("/api/v1/tickets", raw_body=raw)
    assert 400 <= response.status_code < 500, response.content
    assert {"code", "message"} <= set(response.json())
    assert snapshot() == before


def test_an_oversized_body_gets_413(agent_api, settings, customer):
    settings.AFTERSALES_MAX_REQUEST_BYTES = 10_000
    before = snapshot()
    response = agent_api.post(
        "/api/v1/tickets", {"subject": "big", "customer": customer.pk, "description": "长" * 20_000}
    )
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert snapshot() == before


@pytest.mark.parametrize(
    "query",
    [
        "status=flying",
        "limit=0",
        "limit=101",
        "team=abc",
        "cursor=%%%",
        "cursor=aWQ6LTU",
        "q=%00",
        "assignee=99999999999999999999",
    ],
)
def test_bad_list_parameters_get_422(agent_api, query):
    response = agent_api.get(f"/api/v1/tickets?{query}")
    assert response.status_code == 422, (query, response.content)
    assert response.json()["code"] == "validation_error"


def test_bad_if_match_and_unknown_ticket(agent, agent_api, customer):
    ticket = open_ticket(agent, customer)
    assert (
        agent_api.patch(
            f"/api/v1/tickets/{ticket.number}", {"priority": "low"}, headers={"If-Match": "yesterday"}
        ).status_code
        == 422
    )
    assert agent_api.get("/api/v1/tickets/T9999999").status_code == 404
    assert agent_api.patch(f"/api/v1/tickets/{ticket.number}", {"subject": None}).status_code == 422
    assert Ticket.objects.get(pk=ticket.pk).version == 1


# --- attachments --------------------------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_attachments_are_checked_stored_and_served_only_to_those_who_may_see_them(
    agent, agent_api, customer, api_as
):
    ticket = open_ticket(agent, customer)
    upload = agent_api.client.post(
        f"/api/v1/tickets/{ticket.number}/attachments",
        {"file": SimpleUploadedFile("漏水照片.png", PNG, content_type="image/png")},
    )
    assert upload.status_code == 201, upload.content
    url = upload.json()["url"]
    download = agent_api.client.get(url)
    assert download.status_code == 200 and b"".join(download.streaming_content) == PNG
    assert api_as(customer_user(customer)).get(url).status_code == 200
    assert api_as(customer_user(CustomerFactory())).get(url).status_code == 404


def test_a_disguised_or_oversized_upload_is_refused(agent, agent_api, customer, settings):
    ticket = open_ticket(agent, customer)
    fake = agent_api.client.post(
        f"/api/v1/tickets/{ticket.number}/attachments",
        {"file": SimpleUploadedFile("photo.png", b"MZ\x90\x00 executable", content_type="image/png")},
    )
    assert fake.status_code == 415
    exe = agent_api.client.post(
        f"/api/v1/tickets/{ticket.number}/attachments",
        {"file": SimpleUploadedFile("setup.exe", b"MZ\x90\x00", content_type="application/x-msdownload")},
    )
    assert exe.status_code == 415
    settings.AFTERSALES_ATTACHMENT_MAX_BYTES = 32
    big = agent_api.client.post(
        f"/api/v1/tickets/{ticket.number}/attachments",
        {"file": SimpleUploadedFile("big.png", PNG, content_type="image/png")},
    )
    assert big.status_code == 413
    assert ticket.attachments.count() == 0


# --- merge and link -----------------------------------------------------------------------------


def test_merge_closes_the_duplicate_and_moves_its_conversation(agent, agent_api, customer):
    target = open_ticket(agent, customer, subject="马桶漏水")
    duplicate = open_ticket(agent, customer, subject="马桶漏水（重复来电）", channel="phone")
    ticket_add_message(ticket=duplicate, actor=agent, body="客户再次来电")
    response = agent_api.post(f"/api/v1/tickets/{duplicate.number}/merge", {"into": target.number})
    assert response.status_code == 200
    duplicate.refresh_from_db()
    assert (duplicate.status, duplicate.close_reason, duplicate.merged_into_id) == (
        "closed",
        "merged",
        target.pk,
    )
    bodies = list(target.messages.values_list("body", flat=True))
    assert "客户再次来电" in bodies and any("马桶漏水（重复来电）" in b for b in bodies)
    again = agent_api.post(f"/api/v1/tickets/{duplicate.number}/merge", {"into": target.number})
    assert again.status_code == 409


def test_merge_across_customers_is_refused(agent, agent_api, customer):
    one = open_ticket(agent, customer)
    other = open_ticket(agent, CustomerFactory())
    before = snapshot()
    response = agent_api.post(f"/api/v1/tickets/{one.number}/merge", {"into": other.number})
    assert response.status_code == 422
    assert snapshot() == before


def test_openapi_and_docs_are_served(agent_api):
    schema = agent_api.client.get("/api/v1/openapi.json")
    assert schema.status_code == 200
    paths = json.loads(schema.content)["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/tickets"])
    assert {"get", "patch"} <= set(paths["/api/v1/tickets/{number}"])
    assert agent_api.client.get("/api/v1/docs").status_code == 200


def test_the_audit_trail_of_a_ticket_is_visible_to_supervisors_only(agent, api_as, customer):
    ticket = open_ticket(agent, customer)
    ticket_transition(ticket=ticket, actor=agent, to_status="accepted")
    supervisor = UserFactory(role=Role.SUPERVISOR)
    trail = api_as(supervisor).get(f"/api/v1/tickets/{ticket.number}/audit")
    assert trail.status_code == 200
    ticket_actions = [e["action"] for e in trail.json()["items"] if e["action"].startswith("ticket.")]
    assert ticket_actions == ["ticket.transition", "ticket.open"]
    transition = next(e for e in trail.json()["items"] if e["action"] == "ticket.transition")
    assert transition["before"] == {"status": "new"}
    assert transition["actor"]["id"] == agent.pk
    assert api_as(agent).get(f"/api/v1/tickets/{ticket.number}/audit").status_code == 403


def test_a_token_over_its_rate_gets_429(agent_api, settings):
    from django.core.cache import cache

    cache.clear()
    settings.AFTERSALES_API_RATE_PER_MINUTE = 3
    codes = [agent_api.get("/api/v1/tickets").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert agent_api.get("/api/v1/tickets").json()["code"] == "throttled"
    cache.clear()
