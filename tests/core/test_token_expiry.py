"""API tokens may expire: the command takes --expires-in-days, an expired token answers 401."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from aftersales.core.errors import ValidationFailed
from aftersales.core.models import ApiToken
from aftersales.core.services import api_token_create
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_create_token_with_an_expiry_still_prints_the_token_on_its_last_line():
    user = UserFactory(username="ops@example.com")
    out = StringIO()
    with time_machine.travel("2026-12-02 04:00:00Z", tick=False):
        call_command("create_token", "ops@example.com", "--expires-in-days", "30", stdout=out)
    raw = out.getvalue().strip().splitlines()[-1]
    assert raw.startswith("as_")
    assert "expires 2027-01-01 04:00 UTC" in out.getvalue()
    token = ApiToken.objects.get(user=user)
    assert token.expires_at == dt.datetime(2027, 1, 1, 4, 0, tzinfo=dt.UTC)


def test_create_token_refuses_a_non_positive_expiry():
    UserFactory(username="ops@example.com")
    with pytest.raises(CommandError):
        call_command("create_token", "ops@example.com", "--expires-in-days", "0", stdout=StringIO())


def test_an_expired_token_answers_401_with_the_error_shape():
    user = UserFactory()
    with time_machine.travel("2026-12-02 04:00:00Z", tick=False):
        _token, raw = api_token_create(user=user, expires_at=dt.datetime(2026, 12, 3, 4, 0, tzinfo=dt.UTC))
        client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}", HTTP_ACCEPT_LANGUAGE="en")
        assert client.get("/api/v1/tickets").status_code == 200
    with time_machine.travel("2026-12-03 04:00:01Z", tick=False):
        response = client.get("/api/v1/tickets")
    assert response.status_code == 401
    assert response.json() == {
        "code": "token_expired",
        "message": "This API token has expired.",
        "details": {},
    }


def test_a_token_without_expiry_keeps_working():
    user = UserFactory()
    _token, raw = api_token_create(user=user)
    with time_machine.travel("2036-12-02 04:00:00Z", tick=False):
        assert Client(HTTP_AUTHORIZATION=f"Bearer {raw}").get("/api/v1/tickets").status_code == 200


def test_an_expiry_in_the_past_is_refused():
    with pytest.raises(ValidationFailed):
        api_token_create(user=UserFactory(), expires_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
