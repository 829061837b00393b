"""The base of e-mailed tracking links: AFTERSALES_PUBLIC_URL, else the address ``serve`` listens on."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command

from aftersales.channels.mail import conf
from aftersales.core.management.commands import serve


@pytest.fixture
def no_public_url(settings, monkeypatch):
    if hasattr(settings, "AFTERSALES_PUBLIC_URL"):
        del settings.AFTERSALES_PUBLIC_URL
    monkeypatch.delenv("AFTERSALES_PUBLIC_URL", raising=False)
    monkeypatch.delenv("AFTERSALES_SERVE_URL", raising=False)


def test_without_any_setting_links_point_at_the_embedded_default(no_public_url):
    assert conf.public_url() == "http://127.0.0.1:8000"


def test_links_follow_the_address_served(no_public_url, monkeypatch):
    monkeypatch.setenv("AFTERSALES_SERVE_URL", "http://127.0.0.1:8123/")
    assert conf.public_url() == "http://127.0.0.1:8123"


def test_the_configured_public_url_wins_over_the_address_served(no_public_url, monkeypatch):
    monkeypatch.setenv("AFTERSALES_SERVE_URL", "http://127.0.0.1:8123")
    monkeypatch.setenv("AFTERSALES_PUBLIC_URL", "https://service.lanquan.cn/")
    assert conf.public_url() == "https://service.lanquan.cn"


@pytest.mark.parametrize(
    ("host", "port", "expected"),
    [
        ("127.0.0.1", 8123, "http://127.0.0.1:8123"),
        ("service.local", 80, "http://service.local:80"),
        ("::1", 9000, "http://[::1]:9000"),
    ],
)
def test_serve_url_names_the_address_a_browser_uses(host, port, expected):
    assert serve.serve_url(host, port) == expected


def test_serve_url_of_every_interface_is_this_machines_name(monkeypatch):
    monkeypatch.setattr(serve.socket, "gethostname", lambda: "desk-01")
    assert serve.serve_url("0.0.0.0", 8000) == "http://desk-01:8000"  # noqa: S104


class _Finished:
    returncode = 0

    def poll(self) -> int:
        return 0

    def terminate(self) -> None:
        pass

    def wait(self, timeout: float | None = None) -> int:
        return 0


def test_serve_passes_its_address_to_the_web_server_and_the_worker(monkeypatch, no_public_url):
    started: list[dict[str, Any]] = []

    def popen(command: list[str], env: dict[str, str]) -> _Finished:
        started.append(env)
        return _Finished()

    monkeypatch.setattr(serve.subprocess, "Popen", popen)
    monkeypatch.setattr(serve.signal, "signal", lambda *_args: None)

    call_command("serve", "--host", "127.0.0.1", "--port", "8123", stdout=None)

    assert len(started) == 2  # gunicorn, and the worker that sends the mail
    assert {env["AFTERSALES_SERVE_URL"] for env in started} == {"http://127.0.0.1:8123"}
