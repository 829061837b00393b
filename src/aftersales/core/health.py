from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _database_ok() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        return str(exc)[:200]
    return None


def _broker_ok() -> str | None:
    from aftersales.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:  # noqa: BLE001
        return str(exc)[:200]
    return None


@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    problems = {
        name: error for name, error in (("database", _database_ok()), ("broker", _broker_ok())) if error
    }
    body = {
        "status": "ok" if not problems else "unavailable",
        "database": connection.vendor,
        "broker": settings.CELERY_BROKER_URL.split("://", 1)[0],
        "problems": problems,
    }
    return JsonResponse(body, status=200 if not problems else 503)
