"""Real servers for the mail tests: a private dovecot (IMAP over TLS) and aiosmtpd (SMTP).

Dovecot runs per test session from a generated configuration in a temporary directory: it
listens on 127.0.0.1 on free ports, with a self-signed certificate made with the openssl CLI,
a passwd-file passdb (each test adds its own account, so every test has a fresh mailbox) and
maildirs under the temporary directory.
"""

from __future__ import annotations

import imaplib
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

DOVECOT = "/usr/sbin/dovecot"
CORPUS = Path(__file__).parent / "corpus"
PASSWORD = "imap-secret-9"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port}")


@dataclass
class Dovecot:
    directory: Path
    imaps_port: int
    imap_port: int
    ca_file: Path
    passwd: Path
    accounts: list[str] = field(default_factory=list)

    def add_account(self) -> str:
        """A fresh, empty mailbox (the accounts are written before dovecot starts)."""
        return self.accounts.pop()

    def client(self, username: str) -> imaplib.IMAP4_SSL:
        context = ssl.create_default_context(cafile=str(self.ca_file))
        client = imaplib.IMAP4_SSL("127.0.0.1", self.imaps_port, ssl_context=context)
        client.login(username, PASSWORD)
        return client

    def append(self, username: str, messages: list[bytes], folder: str = "INBOX") -> None:
        client = self.client(username)
        try:
            for raw in messages:
                typ, data = client.append(folder, "", imaplib.Time2Internaldate(time.time()), raw)
                assert typ == "OK", data
        finally:
            client.logout()


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    if not Path(DOVECOT).exists():
        pytest.fail("dovecot is not installed (apt-get install dovecot-imapd)")
    # Not under pytest's 0700 temporary root: dovecot's auth process (an unprivileged user when the
    # tests run as root) must reach the passwd file.
    directory = Path(tempfile.mkdtemp(prefix="aftersales-dovecot-"))
    directory.chmod(0o755)
    for sub in ("run", "state", "mail"):
        (directory / sub).mkdir()
    key, cert = directory / "key.pem", directory / "cert.pem"
    subprocess.run(  # noqa: S603
        [  # noqa: S607
            "/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
            str(cert), "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    passwd = directory / "passwd"
    accounts = [f"u{uuid.uuid4().hex[:10]}" for _ in range(200)]
    passwd.write_text("".join(f"{name}:{{PLAIN}}{PASSWORD}\n" for name in accounts))
    imaps_port, imap_port = free_port(), free_port()
    import grp
    import pwd

    uid, gid = os.getuid(), os.getgid()
    user, group = pwd.getpwuid(uid).pw_name, grp.getgrgid(gid).gr_name
    login_user, internal_user = user, user
    if uid == 0:
        # As root, dovecot's login processes must drop to an unprivileged user (Debian creates them).
        login_user, internal_user = "dovenull", "dovecot"
        group = grp.getgrgid(pwd.getpwnam("dovecot").pw_gid).gr_name
        # and mail is never stored as uid 0: the maildirs belong to the dovecot user.
        uid, gid = pwd.getpwnam("dovecot").pw_uid, pwd.getpwnam("dovecot").pw_gid
        os.chown(directory / "mail", uid, gid)
    config = directory / "dovecot.conf"
    config.write_text(
        f"""
instance_name = aftersales-test-{imaps_port}
base_dir = {directory}/run
state_dir = {directory}/state
log_path = {directory}/dovecot.log
info_log_path = {directory}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
default_login_user = {login_user}
default_internal_user = {internal_user}
default_internal_group = {group}
first_valid_uid = 0
first_valid_gid = 0
disable_plaintext_auth = no
auth_mechanisms = plain
mail_location = maildir:{directory}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {passwd}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={directory}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
service stats {{
  unix_listener stats-reader {{
    user = {internal_user}
  }}
  unix_listener stats-writer {{
    user = {internal_user}
  }}
}}
"""
    )
    check = subprocess.run(  # noqa: S603
        [DOVECOT, "-n", "-c", str(config)], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stderr
    process = subprocess.Popen(  # noqa: S603
        [DOVECOT, "-F", "-c", str(config)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        wait_for_port(imaps_port)
        wait_for_port(imap_port)
        yield Dovecot(
            directory=directory,
            imaps_port=imaps_port,
            imap_port=imap_port,
            ca_file=cert,
            passwd=passwd,
            accounts=accounts,
        )
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        if not os.environ.get("AFTERSALES_TEST_KEEP_DOVECOT"):
            shutil.rmtree(directory, ignore_errors=True)


@dataclass
class Recorder:
    messages: list[tuple[str, list[str], bytes]] = field(default_factory=list)
    # The client's (address, port) of each message: one per connection the sender opened.
    peers: list[tuple[str, int]] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.original_content)))
        self.peers.append(tuple(session.peer))
        return "250 OK"


@dataclass
class SmtpServer:
    port: int
    recorder: Recorder
    controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """An SMTP server on a free port, not started: call ``start()`` (a test may want it down first)."""
    server = SmtpServer(port=free_port(), recorder=Recorder())
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _mail_settings(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    settings.AFTERSALES_SMTP_URL = ""
    settings.AFTERSALES_MAIL_FROM = "service@lanquan.cn"
    settings.AFTERSALES_MAIL_DOMAIN = "lanquan.cn"
    settings.AFTERSALES_PUBLIC_URL = "https://service.lanquan.cn"
    settings.AFTERSALES_MAIL_SENDER_LIMIT = 30
    settings.AFTERSALES_MAIL_MAX_BYTES = 25 * 1024 * 1024
    settings.CELERY_TASK_ALWAYS_EAGER = False
    from aftersales.channels.mail.services import intake

    intake._own_cache = None


def corpus(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


def corpus_files() -> list[Path]:
    return sorted(CORPUS.glob("*.eml"))
