from __future__ import annotations

import pytest
from django.test import Client

from aftersales.core.models import User
from aftersales.core.roles import Role
from aftersales.core.services import api_token_create

from .factories import UserFactory


@pytest.fixture(autouse=True)
def _isolated_media(settings, tmp_path, django_db_serialized_rollback):
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


@pytest.fixture
def django_db_serialized_rollback() -> bool:
    """Every transactional test restores what the data migrations wrote (calendars, SLA policies),
    so tests that run after one on the same worker still see the shipped configuration."""
    return True
