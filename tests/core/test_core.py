from __future__ import annotations

import io
import threading

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client

from aftersales.core.errors import NotAuthenticated
from aftersales.core.models import ApiToken, AuditEvent
from aftersales.core.roles import ROLE_CAPABILITIES, Capability, Role
from aftersales.core.services import api_token_authenticate, api_token_create, api_token_revoke, next_number
from aftersales.core.text import text_problem
from tests.factories import CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_tokens_are_stored_hashed_and_resolve_to_their_user():
    user = UserFactory(role=Role.AGENT)
    token, raw = api_token_create(user=user, name="erp")
    assert raw.startswith("as_") and raw not in token.key_hash
    assert api_token_authenticate(raw=raw) == user
    api_token_revoke(token=token, actor=user)
    with pytest.raises(NotAuthenticated):
        api_token_authenticate(raw=raw)


def test_an_inactive_users_token_is_refused():
    user = UserFactory(role=Role.AGENT, is_active=False)
    _token, raw = api_token_create(user=user)
    with pytest.raises(NotAuthenticated):
        api_token_authenticate(raw=raw)


def test_create_token_prints_the_token_on_its_last_line():
    UserFactory(username="ops@example.com", role=Role.ADMIN)
    out = io.StringIO()
    call_command("create_token", "ops@example.com", stdout=out)
    raw = out.getvalue().strip().splitlines()[-1]
    assert api_token_authenticate(raw=raw).username == "ops@example.com"
    assert ApiToken.objects.count() == 1


def test_createsuperuser_accepts_an_email_as_username(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "boss@example.com")
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "boss@example.com")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "Passw0rd-long")
    call_command("createsuperuser", "--noinput", stdout=io.StringIO())
    client = Client()
    assert client.login(username="boss@example.com", password="Passw0rd-long")


def test_audit_events_are_append_only():
    customer = CustomerFactory()
    from aftersales.core.services import audit_record

    event = audit_record(actor=None, obj=customer, action="test", before={"a": 1}, after={"a": 2})
    event.action = "rewritten"
    with pytest.raises(ValueError, match="append-only"):
        event.save()
    with pytest.raises(ValueError, match="append-only"):
        event.delete()
    assert AuditEvent.objects.get(pk=event.pk).action == "test"


def test_roles_grant_what_the_organisation_expects():
    assert Capability.CONFIGURE in ROLE_CAPABILITIES[Role.ADMIN]
    assert Capability.TICKET_VIEW_ALL not in ROLE_CAPABILITIES[Role.TECHNICIAN]
    assert ROLE_CAPABILITIES[Role.CUSTOMER] == frozenset()
    assert Capability.AUDIT_VIEW in ROLE_CAPABILITIES[Role.SUPERVISOR]
    assert Capability.AUDIT_VIEW not in ROLE_CAPABILITIES[Role.AGENT]


def test_numbers_increase_without_repeats():
    values = [next_number(sequence="ticket") for _ in range(5)]
    assert values == sorted(values) and len(set(values)) == 5


@pytest.mark.django_db(transaction=True)
def test_numbers_stay_unique_under_concurrent_writers():
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith("file:memorydb"):
        pytest.skip("an in-memory SQLite database is private to one connection")
    results: list[int] = []
    lock = threading.Lock()

    def take(count: int) -> None:
        try:
            for _ in range(count):
                value = next_number(sequence="customer")
                with lock:
                    results.append(value)
        finally:
            connection.close()

    threads = [threading.Thread(target=take, args=(20,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 80 and len(set(results)) == 80


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("正常文本\n第二行", None),
        ("nul\x00", "control character"),
        ("bell\x07", "control character"),
        ("\ud800", "lone surrogate"),
    ],
)
def test_text_problems_are_found(text, problem):
    assert text_problem(text) == problem


def test_health_and_readiness():
    client = Client()
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["problems"] == {}


def test_readiness_fails_when_the_broker_is_unreachable(settings):
    from aftersales.celery import app

    original = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    try:
        response = Client().get("/readyz")
    finally:
        app.conf.broker_url = original
    assert response.status_code == 503
    assert "broker" in response.json()["problems"]


def test_old_idempotency_records_are_purged_by_the_task(time_machine):
    from aftersales.core.models import IdempotencyRecord
    from aftersales.core.tasks import purge_idempotency_records

    user = UserFactory(role=Role.AGENT)
    time_machine.move_to("2026-06-01 08:00:00+00:00", tick=False)
    IdempotencyRecord.objects.create(
        user=user, scope="s", key="old", request_hash="h", response_status=201, response_body={}
    )
    time_machine.move_to("2026-06-03 09:00:00+00:00", tick=False)
    IdempotencyRecord.objects.create(
        user=user, scope="s", key="new", request_hash="h", response_status=201, response_body={}
    )
    assert purge_idempotency_records.apply().get() == 1
    assert purge_idempotency_records.apply().get() == 0
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]


def test_staff_read_teams_and_regions_customers_may_not(api_as):
    from tests.factories import RegionFactory, TeamFactory, customer_user

    east = RegionFactory(code="east", name="华东", level="area")
    RegionFactory(code="shanghai", name="上海", parent=east)
    agent = UserFactory(role=Role.AGENT)
    team = TeamFactory(code="cs", lead=agent)
    team.members.add(agent)
    staff = api_as(agent)
    assert staff.get("/api/v1/teams").json() == [
        {
            "id": team.pk,
            "code": "cs",
            "name": team.name,
            "name_en": team.name_en,
            "kind": "customer_service",
            "lead_id": agent.pk,
            "member_ids": [agent.pk],
        }
    ]
    regions = staff.get("/api/v1/regions").json()
    assert [(r["code"], r["parent_id"]) for r in regions] == [("east", None), ("shanghai", east.pk)]
    assert staff.get("/api/v1/me").json()["role"] == "agent"
    portal = api_as(customer_user())
    assert portal.get("/api/v1/teams").status_code == 403
    assert portal.get("/api/v1/regions").status_code == 403
