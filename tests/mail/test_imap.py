"""The IMAP poller against a real dovecot: TLS, restarts mid-mailbox, UIDVALIDITY, one poller per mailbox."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from aftersales.channels.mail.imap import mailbox_poll, mailboxes_poll
from aftersales.channels.mail.models import ImapSecurity, InboundEmail, InboundStatus, Mailbox
from aftersales.channels.mail.tasks import poll_mailboxes
from aftersales.tickets.models import Attachment, Ticket
from tests.mail.conftest import PASSWORD, corpus_files
from tests.mail.test_intake import mail

EXPECTED = {"imported": 15, "ignored": 4, "quarantined": 2}


@pytest.fixture
def tls(settings, dovecot):
    settings.AFTERSALES_MAIL_CA_FILE = str(dovecot.ca_file)
    return dovecot


def make_mailbox(dovecot, username: str, security: str = ImapSecurity.SSL, **kwargs) -> Mailbox:
    port = dovecot.imaps_port if security == ImapSecurity.SSL else dovecot.imap_port
    return Mailbox.objects.create(
        name=kwargs.pop("name", f"box-{username}"),
        address="service@lanquan.cn",
        host="127.0.0.1",
        port=port,
        security=security,
        username=username,
        password=kwargs.pop("password", PASSWORD),
        **kwargs,
    )


def load_corpus(dovecot) -> tuple[str, int]:
    username = dovecot.add_account()
    messages = [path.read_bytes() for path in corpus_files()]
    dovecot.append(username, messages)
    return username, len(messages)


@pytest.mark.django_db
def test_poller_imports_the_corpus_over_imaps(tls):
    username, count = load_corpus(tls)
    mailbox = make_mailbox(tls, username)

    result = mailbox_poll(mailbox=mailbox)

    assert result.error == ""
    assert (result.fetched, result.imported, result.ignored, result.quarantined) == (
        count,
        EXPECTED["imported"],
        EXPECTED["ignored"],
        EXPECTED["quarantined"],
    )
    assert InboundEmail.objects.count() == count
    assert InboundEmail.objects.filter(mailbox=mailbox).count() == count
    mailbox.refresh_from_db()
    assert mailbox.last_uid == count and mailbox.uidvalidity and mailbox.last_error == ""
    assert mailbox.lease_owner == "" and mailbox.last_polled_at is not None
    big5 = InboundEmail.objects.get(message_id="big5-0001@example.hk").ticket
    assert big5.subject == "馬桶沖水閥漏水"
    assert Attachment.objects.filter(original_name="发票.pdf").count() == 1

    again = mailbox_poll(mailbox=mailbox)
    assert (again.fetched, again.imported) == (0, 0)
    assert InboundEmail.objects.count() == count


@pytest.mark.django_db
def test_restarting_mid_mailbox_imports_nothing_twice_and_loses_nothing(tls):
    username, count = load_corpus(tls)
    mailbox = make_mailbox(tls, username)

    first = mailbox_poll(mailbox=mailbox, max_messages=5)  # the poller stops after five
    assert first.fetched == 5
    mailbox.refresh_from_db()
    assert mailbox.last_uid == 5
    second = mailbox_poll(mailbox=mailbox)
    assert second.fetched == count - 5

    # A crash after messages committed but before last_uid moved: they are read again, and skipped.
    Mailbox.objects.filter(pk=mailbox.pk).update(last_uid=3)
    mailbox.refresh_from_db()
    third = mailbox_poll(mailbox=mailbox)
    assert (third.fetched, third.duplicates, third.imported) == (count - 3, count - 3, 0)

    assert InboundEmail.objects.count() == count
    assert Ticket.objects.count() == EXPECTED["imported"]


@pytest.mark.django_db
def test_uidvalidity_change_rescans_and_relies_on_the_dedupe_key(tls):
    username, count = load_corpus(tls)
    mailbox = make_mailbox(tls, username)
    mailbox_poll(mailbox=mailbox)
    Mailbox.objects.filter(pk=mailbox.pk).update(uidvalidity=1)  # as if the server renumbered
    mailbox.refresh_from_db()
    tls.append(username, [mail(message_id="after-renumber@example.com")])

    result = mailbox_poll(mailbox=mailbox)

    assert (result.fetched, result.duplicates, result.imported) == (count + 1, count, 1)
    mailbox.refresh_from_db()
    assert mailbox.uidvalidity != 1 and mailbox.last_uid == count + 1


@pytest.mark.django_db
def test_a_raw_byte_in_a_message_id_never_blocks_the_mailbox(tls):
    username = tls.add_account()
    odd = mail(message_id="placeholder@x").replace(b"<placeholder@x>", b"<ab\xd6c@example.cn>")
    tls.append(username, [odd, mail(message_id="next@example.com", subject="next")])
    mailbox = make_mailbox(tls, username)

    result = mailbox_poll(mailbox=mailbox)

    assert (result.error, result.fetched, result.imported) == ("", 2, 2)
    mailbox.refresh_from_db()
    assert mailbox.last_uid == 2
    assert InboundEmail.objects.filter(message_id="ab%D6c@example.cn", status="imported").count() == 1


@pytest.mark.django_db
def test_a_message_that_fails_to_be_accepted_is_quarantined_and_the_poller_moves_on(tls, monkeypatch):
    from aftersales.channels.mail.services import intake

    real = intake.parse_message

    def parse(raw: bytes):
        parsed = real(raw)
        if parsed.subject == "poison":
            parsed.subject = "poison\udcd6"  # a value the database cannot store
        return parsed

    monkeypatch.setattr(intake, "parse_message", parse)
    username = tls.add_account()
    tls.append(
        username, [mail(message_id="p@x", subject="poison"), mail(message_id="fine@x", subject="fine")]
    )
    mailbox = make_mailbox(tls, username)

    result = mailbox_poll(mailbox=mailbox)

    assert (result.error, result.fetched, result.quarantined, result.imported) == ("", 2, 1, 1)
    mailbox.refresh_from_db()
    assert mailbox.last_uid == 2
    poisoned = InboundEmail.objects.get(status=InboundStatus.QUARANTINED)
    assert poisoned.reason.startswith("accept failed") and poisoned.subject == "poison"
    assert mailbox_poll(mailbox=mailbox).fetched == 0


@pytest.mark.django_db
def test_plain_and_starttls_connections(tls):
    username = tls.add_account()
    tls.append(username, [mail(message_id="plain@x"), mail(message_id="starttls@x", subject="two")])
    plain = make_mailbox(tls, username, security=ImapSecurity.NONE, name="plain")
    assert mailbox_poll(mailbox=plain, max_messages=1).imported == 1
    starttls = make_mailbox(tls, username, security=ImapSecurity.STARTTLS, name="starttls")
    result = mailbox_poll(mailbox=starttls)
    assert (result.imported, result.duplicates, result.error) == (1, 1, "")


@pytest.mark.django_db
def test_a_mailbox_held_by_another_poller_is_skipped(tls):
    username, _count = load_corpus(tls)
    mailbox = make_mailbox(tls, username)
    Mailbox.objects.filter(pk=mailbox.pk).update(
        lease_owner="other-worker", lease_until=timezone.now() + dt.timedelta(minutes=3)
    )
    assert mailbox_poll(mailbox=mailbox).skipped
    assert InboundEmail.objects.count() == 0
    # An expired lease (a crashed worker) does not block for ever.
    Mailbox.objects.filter(pk=mailbox.pk).update(lease_until=timezone.now() - dt.timedelta(seconds=1))
    assert not mailbox_poll(mailbox=mailbox).skipped


@pytest.mark.django_db
def test_a_wrong_password_is_recorded_not_raised(tls):
    username = tls.add_account()
    mailbox = make_mailbox(tls, username, password="wrong")
    result = mailbox_poll(mailbox=mailbox)
    assert "AUTHENTICATIONFAILED" in result.error or "failed" in result.error.lower()
    mailbox.refresh_from_db()
    assert mailbox.last_error and mailbox.lease_owner == ""


@pytest.mark.django_db
def test_an_untrusted_certificate_is_refused(settings, dovecot):
    settings.AFTERSALES_MAIL_CA_FILE = ""
    username = dovecot.add_account()
    result = mailbox_poll(mailbox=make_mailbox(dovecot, username))
    assert "CERTIFICATE_VERIFY_FAILED" in result.error


@pytest.mark.django_db
def test_cli_and_celery_task_poll(tls, capsys):
    username = tls.add_account()
    tls.append(username, [mail(message_id="cli1@x"), mail(message_id="cli2@x", subject="b")])
    make_mailbox(tls, username, name="cli-box")

    call_command("mail_poll", "--mailbox", "cli-box", "--max-messages", "1")
    assert "cli-box: fetched 1, imported 1" in capsys.readouterr().out
    assert poll_mailboxes.apply().get()["imported"] == 1
    assert InboundEmail.objects.filter(status=InboundStatus.IMPORTED).count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_pollers_at_once_import_each_message_once(tls):
    username = tls.add_account()
    tls.append(username, [mail(message_id=f"race{i}@x", subject=f"s{i}") for i in range(12)])
    make_mailbox(tls, username, name="race")
    errors: list[BaseException] = []

    def worker():
        try:
            mailboxes_poll()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert InboundEmail.objects.count() == 12
    assert Ticket.objects.count() == 12


def _database_url() -> str:
    settings_dict = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings_dict['NAME']}"
    password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
    return (
        f"postgres://{settings_dict['USER']}{password}@{settings_dict['HOST'] or '127.0.0.1'}:"
        f"{settings_dict['PORT'] or 5432}/{settings_dict['NAME']}"
    )


@pytest.mark.django_db(transaction=True)
def test_killing_the_poller_process_mid_mailbox_then_restarting(tls, tmp_path):
    """A real ``aftersales mail_poll`` process is SIGKILLed after some messages; a restart finishes."""
    count = 150
    username = tls.add_account()
    tls.append(
        username,
        [mail(message_id=f"kill{i}@x", subject=f"k{i}", sender=f"c{i}@example.com") for i in range(count)],
    )
    make_mailbox(tls, username, name="kill-box")
    env = {
        **os.environ,
        "AFTERSALES_DATABASE_URL": _database_url(),
        # The same uploads directory as this process (tmp_path/uploads): the raw sources the child
        # accepted are processed here after the restart, as pollers of one deployment share storage.
        "AFTERSALES_DATA_DIR": str(tmp_path),
        "AFTERSALES_MAIL_CA_FILE": str(tls.ca_file),
        "AFTERSALES_MAIL_FROM": "service@lanquan.cn",
        "AFTERSALES_LOG_LEVEL": "WARNING",
    }
    command = [str(Path(sys.executable).parent / "aftersales"), "mail_poll", "--mailbox", "kill-box"]
    child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # noqa: S603
    deadline = time.monotonic() + 60
    while InboundEmail.objects.count() < 10 and time.monotonic() < deadline and child.poll() is None:
        time.sleep(0.02)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    killed_at = InboundEmail.objects.count()
    assert 10 <= killed_at < count, child.stderr.read() if child.stderr else ""

    mailbox = Mailbox.objects.get(name="kill-box")
    assert mailbox.last_uid <= killed_at  # never ahead of what was committed
    Mailbox.objects.filter(pk=mailbox.pk).update(lease_until=None, lease_owner="")  # the lease ran out
    mailbox.refresh_from_db()
    result = mailbox_poll(mailbox=mailbox)

    assert result.error == ""
    assert result.imported == count - killed_at
    assert InboundEmail.objects.count() == count
    assert Ticket.objects.count() == count
    assert InboundEmail.objects.values("dedupe_key").distinct().count() == count
