"""Two-step verification for staff (RFC 6238 codes, enrolment, the second sign-in step, admin reset)
and the password-reset flow by e-mail through a real SMTP server."""

from __future__ import annotations

import re
from email import message_from_bytes, policy

import pytest
import time_machine
from django.test import Client

from aftersales.core import totp
from aftersales.core.models import AuditEvent, TotpDevice
from aftersales.core.roles import Role
from aftersales.core.two_factor import totp_enrolment_confirm, totp_enrolment_start
from tests.factories import PASSWORD, UserFactory
from tests.mail.conftest import Recorder, SmtpServer, free_port

pytestmark = pytest.mark.django_db

NOW = "2026-12-02 04:03:07Z"


def _code(secret: str, at: str) -> str:
    import datetime as dt

    return totp.totp(secret, dt.datetime.fromisoformat(at.replace("Z", "+00:00")).timestamp())


# --------------------------------------------------------------------------------- RFC 6238


@pytest.mark.parametrize(
    ("unix_time", "expected"),
    [(59, "94287082"), (1111111109, "07081804"), (1234567890, "89005924"), (20000000000, "65353130")],
)
def test_the_codes_match_the_rfc_6238_test_vectors(unix_time, expected):
    secret = totp.base64.b32encode(b"12345678901234567890").decode()
    assert totp.hotp(secret, unix_time // 30, digits=8) == expected


def test_a_code_is_accepted_one_step_either_side_and_not_further():
    secret = totp.new_secret()
    now = 1_800_000_000.0
    assert totp.matching_step(secret, totp.totp(secret, now - 30), at=now) == totp.time_step(now) - 1
    assert totp.matching_step(secret, totp.totp(secret, now + 30), at=now) == totp.time_step(now) + 1
    assert totp.matching_step(secret, totp.totp(secret, now - 90), at=now) is None
    assert totp.matching_step(secret, "12345", at=now) is None


def test_the_provisioning_uri_names_the_account_and_issuer():
    uri = totp.provisioning_uri(secret="JBSWY3DPEHPK3PXP", account="li@example.com", issuer="aftersales")
    assert uri == (
        "otpauth://totp/aftersales:li@example.com?secret=JBSWY3DPEHPK3PXP&issuer=aftersales"
        "&algorithm=SHA1&digits=6&period=30"
    )


# ------------------------------------------------------------------------- enrol and sign in


def test_a_staff_member_enrols_then_signs_in_with_a_code():
    user = UserFactory(role=Role.AGENT)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    with time_machine.travel(NOW, tick=False):
        assert "Set up two-step verification" in client.get("/account/two-step/").content.decode()
        client.post("/account/two-step/", {"action": "start"})
        page = client.get("/account/two-step/").content.decode()
        secret = TotpDevice.objects.get(user=user).secret
        assert f"otpauth://totp/aftersales:{user.username}?secret={secret}" in page
        wrong = client.post("/account/two-step/", {"action": "confirm", "code": "000000"}, follow=True)
        assert "not right" in wrong.content.decode()
        client.post("/account/two-step/", {"action": "confirm", "code": _code(secret, NOW)})
    assert TotpDevice.objects.get(user=user).is_confirmed
    client.post("/logout/")

    later = "2026-12-02 05:00:00Z"
    with time_machine.travel(later, tick=False):
        response = client.post("/login/", {"username": user.username, "password": PASSWORD})
        assert response.status_code == 302 and response["Location"] == "/login/code/"
        assert "_auth_user_id" not in client.session  # the password alone does not sign in
        assert "Verify and sign in" in client.get("/login/code/").content.decode()
        refused = client.post("/login/code/", {"code": "123456"})
        assert "not right" in refused.content.decode() and "_auth_user_id" not in client.session
        accepted = client.post("/login/code/", {"code": _code(secret, later)})
    assert accepted.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)
    assert AuditEvent.objects.filter(action="two_factor.enable", actor=user).count() == 1


def test_a_code_cannot_be_used_twice():
    user = UserFactory(role=Role.AGENT)
    with time_machine.travel(NOW, tick=False):
        device = totp_enrolment_start(user=user)
        totp_enrolment_confirm(user=user, code=_code(device.secret, NOW))
    later = "2026-12-02 05:00:00Z"
    with time_machine.travel(later, tick=False):
        first, second = Client(HTTP_ACCEPT_LANGUAGE="en"), Client(HTTP_ACCEPT_LANGUAGE="en")
        for client in (first, second):
            client.post("/login/", {"username": user.username, "password": PASSWORD})
        code = _code(device.secret, later)
        assert first.post("/login/code/", {"code": code}).status_code == 302
        assert "not right" in second.post("/login/code/", {"code": code}).content.decode()
    assert "_auth_user_id" not in second.session


def test_guessing_codes_locks_the_account_like_guessing_passwords():
    user = UserFactory(role=Role.AGENT)
    with time_machine.travel(NOW, tick=False):
        device = totp_enrolment_start(user=user)
        totp_enrolment_confirm(user=user, code=_code(device.secret, NOW))
    later = "2026-12-02 05:00:00Z"
    with time_machine.travel(later, tick=False):
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.post("/login/", {"username": user.username, "password": PASSWORD})
        # The right password was attempt 1 of the 5 the account has in the window; 4 wrong codes
        # use up the rest, and the fourth says so.
        for guess in range(4):
            response = client.post("/login/code/", {"code": f"{guess:06d}"})
        assert "Too many failed sign-in attempts" in response.content.decode()
        assert client.get("/login/code/")["Location"] == "/login/"
        # The right password and the right code are both refused until the window ends.
        again = client.post("/login/", {"username": user.username, "password": PASSWORD})
        assert "Too many failed sign-in attempts" in again.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_code_step_expires():
    user = UserFactory(role=Role.AGENT)
    with time_machine.travel(NOW, tick=False):
        device = totp_enrolment_start(user=user)
        totp_enrolment_confirm(user=user, code=_code(device.secret, NOW))
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.post("/login/", {"username": user.username, "password": PASSWORD})
    late = "2026-12-02 04:09:00Z"
    with time_machine.travel(late, tick=False):
        response = client.post("/login/code/", {"code": _code(device.secret, late)})
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert "_auth_user_id" not in client.session


def test_the_admin_sign_in_refuses_an_account_with_two_step_verification():
    admin = UserFactory(role=Role.ADMIN, is_staff=True, is_superuser=True)
    with time_machine.travel(NOW, tick=False):
        device = totp_enrolment_start(user=admin)
        totp_enrolment_confirm(user=admin, code=_code(device.secret, NOW))
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        response = client.post("/admin/login/", {"username": admin.username, "password": PASSWORD})
    assert "uses two-step verification" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_an_administrator_resets_a_lost_device():
    admin = UserFactory(role=Role.ADMIN, is_staff=True, is_superuser=True)
    user = UserFactory(role=Role.TECHNICIAN)
    with time_machine.travel(NOW, tick=False):
        device = totp_enrolment_start(user=user)
        totp_enrolment_confirm(user=user, code=_code(device.secret, NOW))
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(admin)
    response = client.post(
        "/admin/core/user/", {"action": "reset_two_factor", "_selected_action": [user.pk]}, follow=True
    )
    assert "Two-step verification reset for 1 user." in response.content.decode()
    assert not TotpDevice.objects.filter(user=user).exists()
    assert AuditEvent.objects.filter(action="two_factor.reset", object_id=str(user.pk), actor=admin).exists()
    # and the user signs in with the password alone again
    assert Client().post("/login/", {"username": user.username, "password": PASSWORD}).status_code == 302


def test_customers_cannot_enrol():
    from tests.factories import customer_user

    client = Client()
    client.force_login(customer_user())
    assert client.get("/account/two-step/").status_code == 403


# ------------------------------------------------------------------------------ password reset


@pytest.fixture
def smtp(settings, tmp_path):
    server = SmtpServer(port=free_port(), recorder=Recorder())
    server.start()
    # Django's test set-up swaps in its memory backend; put back the one the project ships.
    settings.EMAIL_BACKEND = "aftersales.channels.mail.account_mail.OutboundMailBackend"
    settings.AFTERSALES_SMTP_URL = server.url
    settings.AFTERSALES_MAIL_FROM = "service@lanquan.cn"
    settings.AFTERSALES_PUBLIC_URL = "https://service.lanquan.cn"
    settings.DATA_DIR = tmp_path
    yield server
    server.stop()


def test_a_forgotten_password_is_reset_by_e_mail_end_to_end(smtp):
    user = UserFactory(role=Role.AGENT, username="zhao@example.com", email="zhao@example.com")
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    # Locked out by guessing first: the reset lifts the account's lockout.
    for guess in range(5):
        client.post("/login/", {"username": user.username, "password": f"guess-{guess}"})
    response = client.post("/password-reset/", {"email": "ZHAO@example.com"})
    assert response.status_code == 302 and response["Location"] == "/password-reset/sent/"
    assert len(smtp.recorder.messages) == 1
    sender, recipients, raw = smtp.recorder.messages[0]
    assert (sender, recipients) == ("service@lanquan.cn", ["zhao@example.com"])
    mail = message_from_bytes(raw, policy=policy.default)
    assert mail["Subject"] == "重置售后服务平台的密码"
    assert mail["X-Loop"]
    body = mail.get_content()
    link = re.search(r"https://service\.lanquan\.cn(/password-reset/\S+/\S+/)", body)
    assert link, body
    set_password_page = client.get(link.group(1), follow=True)
    assert "设置新密码" in set_password_page.content.decode()
    form_url = set_password_page.redirect_chain[-1][0]
    done = client.post(form_url, {"new_password1": "a-new-Secret-42", "new_password2": "a-new-Secret-42"})
    assert done.status_code == 302 and done["Location"] == "/password-reset/done/"
    assert (
        client.post("/login/", {"username": user.username, "password": "a-new-Secret-42"}).status_code == 302
    )
    assert AuditEvent.objects.filter(action="password.reset", object_id=str(user.pk)).exists()
    # the link works once
    assert (
        "此链接已失效"
        in Client(HTTP_ACCEPT_LANGUAGE="zh-hans").get(link.group(1), follow=True).content.decode()
    )


def test_an_unknown_address_gets_the_same_answer_and_no_mail(smtp):
    response = Client().post("/password-reset/", {"email": "nobody@example.com"})
    assert response.status_code == 302 and response["Location"] == "/password-reset/sent/"
    assert smtp.recorder.messages == []


def test_reset_requests_are_throttled(smtp, settings):
    settings.AFTERSALES_PASSWORD_RESETS_PER_HOUR = 3
    UserFactory(role=Role.AGENT, username="qian@example.com", email="qian@example.com")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    with time_machine.travel("2026-12-02 04:20:00Z", tick=False):
        statuses = [
            client.post("/password-reset/", {"email": "qian@example.com"}).status_code for _ in range(5)
        ]
        refused = client.post("/password-reset/", {"email": "qian@example.com"})
    assert statuses == [302, 302, 302, 200, 200]
    assert "Too many password reset requests" in refused.content.decode()
    assert "13:00" in refused.content.decode()
    assert len(smtp.recorder.messages) == 3
