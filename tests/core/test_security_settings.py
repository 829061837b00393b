"""Production switches read from the environment when a process starts, and the file modes of
the embedded database. Each case starts a fresh interpreter: settings are read once."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps({
    "session_secure": settings.SESSION_COOKIE_SECURE,
    "csrf_secure": settings.CSRF_COOKIE_SECURE,
    "hsts": settings.SECURE_HSTS_SECONDS,
    "hsts_subdomains": settings.SECURE_HSTS_INCLUDE_SUBDOMAINS,
    "redirect": settings.SECURE_SSL_REDIRECT,
    "proxy": list(settings.SECURE_PROXY_SSL_HEADER or []),
}))
"""


def probe(tmp_path: Path, **env: str) -> dict:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("AFTERSALES_") and key != "DJANGO_SETTINGS_MODULE"
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="aftersales.settings", AFTERSALES_DATA_DIR=str(tmp_path / "data")
    )
    environment.update(env)
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", PROBE], env=environment, capture_output=True, text=True, check=True, timeout=60
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_https_switches_are_on_by_default_for_an_https_public_url_without_debug(tmp_path):
    values = probe(tmp_path, AFTERSALES_PUBLIC_URL="https://service.example.com")
    assert values == {
        "session_secure": True,
        "csrf_secure": True,
        "hsts": 31_536_000,
        "hsts_subdomains": True,
        "redirect": True,
        "proxy": ["HTTP_X_FORWARDED_PROTO", "https"],
    }


@pytest.mark.parametrize(
    "env",
    [
        {"AFTERSALES_PUBLIC_URL": "http://127.0.0.1:8000"},
        {"AFTERSALES_PUBLIC_URL": "https://service.example.com", "AFTERSALES_DEBUG": "1"},
        {},
    ],
)
def test_https_switches_are_off_by_default_otherwise(tmp_path, env):
    values = probe(tmp_path, **env)
    assert values == {
        "session_secure": False,
        "csrf_secure": False,
        "hsts": 0,
        "hsts_subdomains": False,
        "redirect": False,
        "proxy": [],
    }


def test_each_https_switch_has_its_own_variable(tmp_path):
    values = probe(
        tmp_path,
        AFTERSALES_PUBLIC_URL="https://service.example.com",
        AFTERSALES_SECURE_COOKIES="1",
        AFTERSALES_HSTS_SECONDS="300",
        AFTERSALES_HSTS_INCLUDE_SUBDOMAINS="0",
        AFTERSALES_SSL_REDIRECT="0",
        AFTERSALES_PROXY_SSL_HEADER="X-Forwarded-Scheme",
    )
    assert values == {
        "session_secure": True,
        "csrf_secure": True,
        "hsts": 300,
        "hsts_subdomains": False,
        "redirect": False,
        "proxy": ["HTTP_X_FORWARDED_SCHEME", "https"],
    }
    assert (
        probe(tmp_path, AFTERSALES_PUBLIC_URL="https://x.example", AFTERSALES_PROXY_SSL_HEADER="off")["proxy"]
        == []
    )


def test_the_sqlite_file_and_the_data_directory_are_private(tmp_path):
    data = tmp_path / "data"
    # While the connection is open, the -wal and -shm files exist: report their modes too.
    script = (
        "import django, os, stat, json; django.setup(); from django.db import connection;"
        "cursor = connection.cursor(); cursor.execute('create table t (x int)');"
        "cursor.execute('insert into t values (1)');"
        "name = connection.settings_dict['NAME'];"
        "print(json.dumps({suffix: oct(stat.S_IMODE(os.stat(name + suffix).st_mode))"
        " for suffix in ('', '-wal', '-shm')}))"
    )
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AFTERSALES_")}
    environment.update(DJANGO_SETTINGS_MODULE="aftersales.settings", AFTERSALES_DATA_DIR=str(data))
    result = subprocess.run(  # noqa: S603
        ["/bin/sh", "-c", 'umask 022 && exec "$0" -c "$1"', sys.executable, script],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {
        "": "0o600",
        "-wal": "0o600",
        "-shm": "0o600",
    }
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
