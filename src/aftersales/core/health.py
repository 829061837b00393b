"""``/healthz`` (the process runs) and ``/readyz`` (it can do its work: give it traffic).

Ready means the database answers **and accepts writes** (not a read-only file, a read-only
session or a standby), the broker is reachable, and the folders the process writes to (the data
directory, uploads, the filesystem broker's folders) accept a new file.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _sqlite_writable() -> str | None:
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA query_only")
        row = cursor.fetchone()
    if row and int(row[0]):
        return "the database connection is read-only (PRAGMA query_only)"
    # Without writing (a write would queue for the lock behind real work): can this process open
    # the file for writing, as SQLite will, and create the -wal/-journal files beside it?
    name = str(connection.settings_dict["NAME"])
    if name == ":memory:" or name.startswith("file:"):
        return None
    try:
        os.close(os.open(name, os.O_RDWR))
    except OSError as exc:
        return f"the database file is not writable: {exc.strerror}"
    return _folder_problem(Path(name).parent)


def _postgresql_writable() -> str | None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_is_in_recovery(), current_setting('transaction_read_only'),"
            " current_setting('default_transaction_read_only')"
        )
        row = cursor.fetchone()
    if row is None:
        return None
    in_recovery, transaction_read_only, default_read_only = row
    if in_recovery:
        return "the database is a standby (read-only)"
    if "on" in (transaction_read_only, default_read_only):
        return "the database session is read-only (default_transaction_read_only)"
    return None


def _database_problem() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        if connection.vendor == "sqlite":
            return _sqlite_writable()
        if connection.vendor == "postgresql":
            return _postgresql_writable()
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        return str(exc)[:200]
    return None


def _broker_problem() -> str | None:
    from aftersales.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:  # noqa: BLE001
        return str(exc)[:200]
    return None


def _folder_problem(folder: Path) -> str | None:
    """Create and remove a file: the real test (permission bits say nothing to root, to ACLs, to
    a read-only mount or a full disk)."""
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".readyz-"):
            pass
    except OSError as exc:
        return f"{folder} is not writable: {exc.strerror}"
    return None


def _folders() -> dict[str, Path]:
    folders = {"data_directory": Path(settings.DATA_DIR)}
    media = Path(settings.MEDIA_ROOT)
    if media.exists():
        folders["uploads"] = media
    transport = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}) or {}
    if str(settings.CELERY_BROKER_URL).startswith("filesystem://"):
        for key in ("data_folder_in", "processed_folder", "control_folder"):
            if transport.get(key):
                folders[f"broker_{key.removesuffix('_folder').removeprefix('data_folder_')}"] = Path(
                    transport[key]
                )
    return folders


@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _database_problem(), "broker": _broker_problem()}
    checks.update({name: _folder_problem(folder) for name, folder in _folders().items()})
    problems = {name: error for name, error in checks.items() if error}
    body = {
        "status": "ok" if not problems else "unavailable",
        "database": connection.vendor,
        "broker": settings.CELERY_BROKER_URL.split("://", 1)[0],
        "problems": problems,
    }
    return JsonResponse(body, status=200 if not problems else 503)
