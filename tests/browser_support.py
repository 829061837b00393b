"""Playwright in Debian's Chromium for the browser tests: one browser per module, a fresh context
per page, sign-in and screenshots. Test modules import the fixtures they use from here.

Screenshots go to ``test-artifacts/`` (gitignored) for a person to look at.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.factories import PASSWORD

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make between
# browser steps are plain synchronous code, so Django's async guard does not apply.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

playwright_sync = pytest.importorskip("playwright.sync_api")

CHROMIUM = "/usr/bin/chromium"
# The machine has no network: without these Chromium keeps trying to reach Google's services.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (make system-deps)")
    with playwright_sync.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def open_page(browser, live_server) -> Iterator[Callable[..., Any]]:
    """``open_page(language, width=, height=)``: a page in a new context on the live server."""
    contexts = []

    def make(language: str = "en", width: int = 1440, height: int = 900, timeout_ms: int = 15_000):
        context = browser.new_context(
            base_url=live_server.url,
            viewport={"width": width, "height": height},
            extra_http_headers={"Accept-Language": language},
            locale="zh-CN" if language.startswith("zh") else "en-US",
        )
        context.set_default_timeout(timeout_ms)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def sign_in(page: Any, username: str, *, wait: bool = False) -> None:
    page.goto("/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    if wait:
        page.wait_for_load_state()


def shoot(page: Any, name: str, *, full_page: bool = True) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)


# Elements of the page's own content (``main``) that reach past the right edge of the viewport.
# The shell's top bar is checked by the shell's own tests; a page's content must fit by itself.
MAIN_OVERFLOW_JS = """() => {
  const width = document.documentElement.clientWidth;
  const out = [];
  for (const el of document.querySelectorAll('main *')) {
    const box = el.getBoundingClientRect();
    if (box.width && box.right > width + 1 && getComputedStyle(el).position !== 'fixed') {
      out.push(`${el.tagName.toLowerCase()}#${el.id}.${el.className} ${Math.round(box.right)}`);
    }
  }
  return out.slice(0, 10);
}"""


def main_overflow(page: Any) -> list[str]:
    """What in ``main`` is wider than the screen (empty when the content fits)."""
    return page.evaluate(MAIN_OVERFLOW_JS)
