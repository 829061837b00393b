"""Sign-in guessing is throttled on every door (console, portal, Django admin), locked-out
attempts are refused before the password is checked, and lockouts are explained, logged, audited."""

from __future__ import annotations

import logging

import pytest
import time_machine
from django.test import Client

from aftersales.core.models import AuditEvent
from aftersales.core.roles import Role
from tests.factories import PASSWORD, UserFactory, customer_user

pytestmark = pytest.mark.django_db

NOW = "2026-12-02 04:03:00Z"  # 12:03 in Shanghai; the 15-minute window ends at 12:15


def _sign_in(client: Client, path: str, username: str, password: str):
    return client.post(path, {"username": username, "password": password, "next": ""})


def _signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


@pytest.mark.parametrize(
    ("door", "path", "make_user"),
    [
        ("console", "/login/", lambda: UserFactory(role=Role.AGENT)),
        ("portal", "/login/", lambda: customer_user()),
        ("admin", "/admin/login/", lambda: UserFactory(role=Role.ADMIN, is_staff=True, is_superuser=True)),
    ],
)
def test_forty_wrong_passwords_then_the_right_one_is_refused(door, path, make_user):
    user = make_user()
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    with time_machine.travel(NOW, tick=False):
        statuses = [_sign_in(client, path, user.username, f"guess-{i}").status_code for i in range(40)]
        response = _sign_in(client, path, user.username, PASSWORD)
    assert set(statuses) == {200}
    assert response.status_code == 200
    assert not _signed_in(client)
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert "try again after 12:15" in response.content.decode()


def test_the_right_password_works_after_the_lockout_ends():
    user = UserFactory(role=Role.AGENT)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    with time_machine.travel(NOW, tick=False):
        for i in range(5):
            _sign_in(client, "/login/", user.username, f"guess-{i}")
        assert (
            not _signed_in(client) and _sign_in(client, "/login/", user.username, PASSWORD).status_code == 200
        )
    with time_machine.travel("2026-12-02 04:15:01Z", tick=False):
        assert _sign_in(client, "/login/", user.username, PASSWORD).status_code == 302
    assert _signed_in(client)


def test_the_lockout_message_is_translated_and_says_when():
    user = UserFactory(role=Role.AGENT)
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    with time_machine.travel(NOW, tick=False):
        for i in range(5):
            response = _sign_in(client, "/login/", user.username, f"guess-{i}")
    text = response.content.decode()
    assert "登录失败次数过多" in text
    assert "12:15" in text and "12 分钟" in text


def test_four_failures_then_the_right_password_signs_in_and_clears_the_count():
    user = UserFactory(role=Role.AGENT)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    with time_machine.travel(NOW, tick=False):
        for i in range(4):
            _sign_in(client, "/login/", user.username, f"guess-{i}")
        assert _sign_in(client, "/login/", user.username, PASSWORD).status_code == 302
        client.post("/logout/")
        # The count started again: four more failures do not lock the account.
        for i in range(4):
            _sign_in(client, "/login/", user.username, f"again-{i}")
        assert _sign_in(client, "/login/", user.username, PASSWORD).status_code == 302


def test_case_and_spaces_do_not_make_a_new_account_to_guess_at():
    user = UserFactory(role=Role.AGENT, username="wang.li@example.com", email="wang.li@example.com")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    with time_machine.travel(NOW, tick=False):
        for spelling in [
            "Wang.Li@example.com",
            " wang.li@example.com",
            "WANG.LI@EXAMPLE.COM",
            "wang.li@Example.com",
        ]:
            _sign_in(client, "/login/", spelling, "wrong")
        _sign_in(client, "/login/", user.username, "wrong")
        response = _sign_in(client, "/login/", user.username, PASSWORD)
    assert "Too many failed sign-in attempts" in response.content.decode()


def test_one_address_guessing_many_accounts_is_locked_out_but_others_are_not():
    victims = [UserFactory(role=Role.AGENT) for _ in range(5)]
    attacker = Client(HTTP_ACCEPT_LANGUAGE="en", REMOTE_ADDR="203.0.113.66")
    with time_machine.travel(NOW, tick=False):
        for i in range(20):
            _sign_in(attacker, "/login/", victims[i % 5].username, f"guess-{i}")
        refused = _sign_in(attacker, "/login/", victims[0].username, PASSWORD)
        # The accounts themselves were guessed 4 times each: from elsewhere they still work.
        colleague = Client(HTTP_ACCEPT_LANGUAGE="en", REMOTE_ADDR="198.51.100.20")
        accepted = _sign_in(colleague, "/login/", victims[0].username, PASSWORD)
    assert "Too many failed sign-in attempts" in refused.content.decode()
    assert accepted.status_code == 302


def test_a_spoofed_forwarded_for_does_not_escape_the_address_lockout(settings):
    settings.AFTERSALES_TRUSTED_PROXIES = ["10.0.0.0/8"]
    users = [UserFactory(role=Role.AGENT) for _ in range(5)]
    with time_machine.travel(NOW, tick=False):
        for i in range(20):
            client = Client(
                HTTP_ACCEPT_LANGUAGE="en", REMOTE_ADDR="203.0.113.66", HTTP_X_FORWARDED_FOR=f"198.51.100.{i}"
            )
            _sign_in(client, "/login/", users[i % 5].username, f"guess-{i}")
        client = Client(
            HTTP_ACCEPT_LANGUAGE="en", REMOTE_ADDR="203.0.113.66", HTTP_X_FORWARDED_FOR="192.0.2.1"
        )
        response = _sign_in(client, "/login/", users[0].username, PASSWORD)
        assert "Too many failed sign-in attempts" in response.content.decode()
        # Behind a trusted proxy, the forwarded address is the client: another client is fine.
        behind_proxy = Client(
            HTTP_ACCEPT_LANGUAGE="en", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="192.0.2.1"
        )
        assert _sign_in(behind_proxy, "/login/", users[0].username, PASSWORD).status_code == 302


def test_a_lockout_is_logged_and_audited_once(caplog):
    user = UserFactory(role=Role.AGENT)
    client = Client(HTTP_ACCEPT_LANGUAGE="en", REMOTE_ADDR="203.0.113.9")
    with caplog.at_level(logging.INFO, logger="aftersales.security"), time_machine.travel(NOW, tick=False):
        for i in range(8):
            _sign_in(client, "/login/", user.username, f"guess-{i}")
    events = list(AuditEvent.objects.filter(action="login.locked"))
    assert len(events) == 1
    assert (events[0].object_type, events[0].object_id) == ("core.user", str(user.pk))
    assert events[0].after["reason"] == "account" and events[0].after["address"] == "203.0.113.9"
    locked = [
        r for r in caplog.records if r.levelno == logging.WARNING and "sign-in locked" in r.getMessage()
    ]
    refused = [r for r in caplog.records if "refused while locked" in r.getMessage()]
    assert len(locked) == 1 and len(refused) == 3


def test_the_password_is_not_checked_during_a_lockout(settings, django_assert_max_num_queries):
    """Refused before the backend looks the user up: no password hashing, no user query."""
    user = UserFactory(role=Role.AGENT)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    with time_machine.travel(NOW, tick=False):
        for i in range(5):
            _sign_in(client, "/login/", user.username, f"guess-{i}")
        from django.contrib.auth import authenticate

        with django_assert_max_num_queries(2) as captured:  # the two counter reads
            assert authenticate(None, username=user.username, password=PASSWORD) is None
    assert not any("core_user" in query["sql"] for query in captured.captured_queries)


def test_attempts_are_counted_before_the_check_so_parallel_guesses_get_only_the_limit():
    from aftersales.core.login_throttle import login_attempt_begin

    with time_machine.travel(NOW, tick=False):
        # Ten guesses in flight at once, none of them failed yet: only five are let through.
        attempts = [login_attempt_begin(username="li@example.com", address="203.0.113.5") for _ in range(10)]
    assert [attempt.lockout is None for attempt in attempts] == [True] * 5 + [False] * 5
