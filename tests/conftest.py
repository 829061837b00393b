from __future__ import annotations

import pytest
from django.test import Client

from aftersales.core.models import User
from aftersales.core.roles import Role
from aftersales.core.services import api_token_create

from .factories import UserFactory


@pytest.fixture(autouse=True)
def _isolated_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "uploads"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def agent(db) -> User:
    return UserFactory(role=Role.AGENT)


@pytest.fixture
def admin_user(db) -> User:
    return UserFactory(role=Role.ADMIN, is_staff=True, is_superuser=True)


class ApiClient:
    """A test client that speaks JSON with a bearer token."""

    def __init__(self, user: User):
        _token, raw = api_token_create(user=user, name="test")
        self.user = user
        self.client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")

    def _call(self, method: str, path: str, data=None, headers=None, raw_body: bytes | None = None):
        kwargs = {"headers": headers or {}}
        if raw_body is not None:
            return getattr(self.client, method)(
                path, data=raw_body, content_type="application/json", **kwargs
            )
        if method in ("post", "patch", "put") and data is not None:
            return getattr(self.client, method)(path, data=data, content_type="application/json", **kwargs)
        return getattr(self.client, method)(path, data=data, **kwargs)

    def get(self, path, data=None, headers=None):
        return self._call("get", path, data, headers)

    def post(self, path, data=None, headers=None, raw_body=None):
        return self._call("post", path, data, headers, raw_body)

    def patch(self, path, data=None, headers=None, raw_body=None):
        return self._call("patch", path, data, headers, raw_body)


@pytest.fixture
def api_as():
    return ApiClient


@pytest.fixture(autouse=True)
def _restore_shipped_configuration(request, django_db_blocker):
    """A transactional test empties the database when it ends; put back what the data migrations
    ship (business calendars, SLA policies and rules) so later tests on this worker see it.

    Autouse, so it is set up before and torn down after the database fixtures, i.e. after the
    flush. (Serialized rollback would do this too, but collides with content types re-created by
    the flush of a live-server test.)"""
    yield
    marker = request.node.get_closest_marker("django_db")
    transactional = "transactional_db" in request.fixturenames or bool(
        marker and (marker.kwargs.get("transaction") or (len(marker.args) > 0 and marker.args[0]))
    )
    if not transactional:
        return
    with django_db_blocker.unblock():
        # The flush leaves the cache table alone: forget this test's rate-limit counts too.
        from django.core.cache import cache

        cache.clear()
        install_shipped_configuration()


def install_shipped_configuration() -> None:
    """What the data migrations ship: business calendars, SLA policies and rules (idempotent)."""
    import importlib

    from django.apps import apps

    from aftersales.sla.defaults import install_defaults

    calendars = importlib.import_module("aftersales.core.migrations.0004_default_calendars")
    calendars.create_calendars(apps, None)
    install_defaults(
        apps.get_model("sla", "SlaPolicy"),
        apps.get_model("sla", "SlaEscalationRule"),
        apps.get_model("core", "BusinessCalendar"),
    )


# Browser fixtures (module-scoped Chromium, a page per context) for every test package.
from tests.browser_support import browser, open_page  # noqa: E402, F401
