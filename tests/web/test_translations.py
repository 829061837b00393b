"""The shipped Chinese catalogue is complete: every msgid has a msgstr, nothing is fuzzy."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.utils import translation

import aftersales

LOCALE_DIR = Path(aftersales.__file__).parent / "locale" / "zh_Hans" / "LC_MESSAGES"
FIELD = re.compile(r'^(msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?) "(.*)"$')


def parse_po(text: str) -> list[dict[str, str]]:
    """Entries of a .po file as {"flags": ..., "msgid": ..., "msgstr": ...}; plain Python, no polib."""
    entries: list[dict[str, str]] = []
    current: dict[str, str] = {}
    key = ""

    def finish() -> None:
        nonlocal current
        if "msgid" in current:
            entries.append(current)
        current = {}

    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            finish()
            continue
        if line.startswith("#~"):
            continue  # obsolete entries are not shipped
        if line.startswith("#,"):
            if any(k.startswith("msgstr") for k in current):
                finish()
            current["flags"] = current.get("flags", "") + line[2:]
            continue
        if line.startswith("#"):
            if any(k.startswith("msgstr") for k in current):
                finish()
            continue
        match = FIELD.match(line)
        if match:
            if match.group(1) in ("msgid", "msgctxt") and any(k.startswith("msgstr") for k in current):
                finish()
            key = match.group(1)
            current[key] = match.group(2)
            continue
        if line.startswith('"') and key:
            current[key] += line[1:-1]
            continue
        raise AssertionError(f"unparsable line in the catalogue: {raw!r}")
    finish()
    return entries


CATALOGUES = sorted(Path(aftersales.__file__).parent.glob("**/locale/zh_Hans/LC_MESSAGES/django.po"))


def test_the_main_catalogue_is_substantial():
    entries = parse_po((LOCALE_DIR / "django.po").read_text(encoding="utf-8"))
    assert len([e for e in entries if e["msgid"]]) > 300


@pytest.mark.parametrize("catalogue", CATALOGUES, ids=lambda p: p.parents[3].name)
def test_every_msgid_has_a_chinese_translation(catalogue):
    """Every catalogue (the project's and each app's own) is complete and compiled."""
    entries = parse_po(catalogue.read_text(encoding="utf-8"))
    messages = [e for e in entries if e["msgid"]]
    assert catalogue.with_suffix(".mo").exists()
    untranslated = [e["msgid"] for e in messages if not (e.get("msgstr") or e.get("msgstr[0]"))]
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e.get("flags", "")]
    assert untranslated == []
    assert fuzzy == []


def test_compiled_catalogue_is_shipped():
    """CI must not need gettext: the .mo is committed beside the .po."""
    mo = LOCALE_DIR / "django.mo"
    assert mo.exists()
    assert mo.stat().st_size > 10_000


@pytest.mark.parametrize(
    ("english", "chinese"),
    [
        ("Waiting on customer", "待客户回复"),
        ("Internal note", "内部备注"),
        ("Return / exchange", "退换货"),
        ("High value", "高价值"),
        ("Log a phone call", "登记来电"),
    ],
)
def test_key_service_desk_terms_are_translated(english, chinese):
    with translation.override("zh-hans"):
        assert translation.gettext(english) == chinese
