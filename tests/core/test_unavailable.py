"""When the database or the disk cannot serve: the API answers 503 in its JSON error shape, pages
a plain translated 503 page, and /readyz says so. Real failures: a read-only SQLite connection or
file, SQLite's own "disk is full", a PostgreSQL session set read-only, folders that refuse files."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client

from aftersales.tickets.models import Ticket
from tests.factories import CustomerFactory, TicketFactory

pytestmark = pytest.mark.django_db(transaction=True)


@contextlib.contextmanager
def read_only_database() -> Iterator[None]:
    """This connection (the test client's too: same thread) refuses writes, as the database would
    on a read-only file or a standby."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET SESSION default_transaction_read_only = on")
        else:
            cursor.execute("PRAGMA query_only = ON")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("RESET default_transaction_read_only")
            else:
                cursor.execute("PRAGMA query_only = OFF")


@contextlib.contextmanager
def unwritable(path: Path) -> Iterator[None]:
    """Make a file or folder refuse writes, for root too (which ignores permission bits)."""
    mode = path.stat().st_mode
    path.chmod(0o444 if path.is_file() else 0o555)
    immutable = False
    if os.geteuid() == 0:
        chattr = shutil.which("chattr")
        if chattr is None or subprocess.run([chattr, "+i", str(path)], check=False).returncode != 0:  # noqa: S603
            path.chmod(mode)
            pytest.skip("running as root without chattr: cannot make a folder unwritable")
        immutable = True
    try:
        yield
    finally:
        if immutable:
            subprocess.run([shutil.which("chattr") or "chattr", "-i", str(path)], check=True)  # noqa: S603
        path.chmod(mode)


def ticket_payload(customer, **extra):
    return {"subject": "热水器不加热", "description": "早上没有热水", "customer": customer.pk, **extra}


def test_a_write_to_a_read_only_database_answers_json_503_on_the_api(api_as, agent):
    client = api_as(agent)
    customer = CustomerFactory()
    with read_only_database():
        response = client.post("/api/v1/tickets", ticket_payload(customer))
    assert response.status_code == 503, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == "unavailable"
    assert response["Retry-After"] == "30"
    assert not Ticket.objects.exists()


def test_a_full_sqlite_database_answers_json_503_on_the_api(api_as, agent):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's page limit stands in for a full disk")
    client = api_as(agent)
    customer = CustomerFactory()
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA page_count")
        pages = cursor.fetchone()[0]
        cursor.execute(f"PRAGMA max_page_count = {pages}")
    try:
        response = client.post("/api/v1/tickets", ticket_payload(customer, description="漏水" * 9_000))
    finally:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA max_page_count = 1073741823")
    assert response.status_code == 503, response.content
    assert response.json()["code"] == "unavailable"


def test_a_page_that_cannot_write_answers_a_plain_translated_503(agent):
    ticket = TicketFactory(assignee=agent)
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(agent)
    with read_only_database():
        response = client.post(f"/console/tickets/{ticket.number}/reply/", {"body": "您好", "kind": "reply"})
    assert response.status_code == 503
    page = response.content.decode()
    assert "暂时无法使用" in page
    assert "Traceback" not in page and "Server Error" not in page
    assert ticket.messages.filter(body="您好").count() == 0


def test_readiness_fails_when_the_database_is_read_only():
    assert Client().get("/readyz").status_code == 200
    with read_only_database():
        response = Client().get("/readyz")
    assert response.status_code == 503
    assert "read-only" in response.json()["problems"]["database"]


@pytest.mark.parametrize("folder", ["data_directory", "broker_in"])
def test_readiness_fails_when_a_folder_it_writes_to_is_unwritable(settings, tmp_path, folder):
    data = tmp_path / "data"
    broker_in = data / "broker" / "in"
    broker_in.mkdir(parents=True)
    settings.DATA_DIR = data
    settings.MEDIA_ROOT = data / "uploads"
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(broker_in),
        "data_folder_out": str(broker_in),
        "processed_folder": str(broker_in),
        "control_folder": str(broker_in),
    }
    assert Client().get("/readyz").json()["problems"] == {}
    target = data if folder == "data_directory" else broker_in
    with unwritable(target):
        response = Client().get("/readyz")
    assert response.status_code == 503
    assert folder in response.json()["problems"]


PROBE = """
import json, django
django.setup()
from django.test import Client
response = Client().get("/readyz")
print(json.dumps({"status": response.status_code, "problems": response.json()["problems"]}))
"""


@pytest.mark.django_db(transaction=False)
def test_readiness_fails_on_a_read_only_sqlite_file(tmp_path):
    data = tmp_path / "data"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AFTERSALES_")}
    environment.update(DJANGO_SETTINGS_MODULE="aftersales.settings", AFTERSALES_DATA_DIR=str(data))

    def probe() -> dict:
        result = subprocess.run(  # noqa: S603
            [sys.executable, "-c", PROBE],
            env=environment,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        return json.loads(result.stdout.strip().splitlines()[-1])

    assert probe() == {"status": 200, "problems": {}}
    with unwritable(data / "aftersales.sqlite3"):
        answer = probe()
    assert answer["status"] == 503
    assert "not writable" in answer["problems"]["database"]
