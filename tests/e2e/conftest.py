"""Browser tests: Playwright driving Debian's Chromium (/usr/bin/chromium, no browser download)
against the app served by pytest-django's live server.

Outside CI a machine without Chromium skips these tests; under CI (CI=true) a missing browser
is an error, never a skip.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ROOT = Path(__file__).resolve().parents[2]


def screenshots_folder() -> Path:
    """Where the browser tests write their screenshots.

    An ordinary run writes to the ignored ``var/screenshots/``, so running the tests never
    changes tracked files; ``make screenshots`` sets ``JIANJIAN_REFRESH_SCREENSHOTS=1`` to
    refresh the documentation's ``docs/screenshots/``.
    """
    from jianjian.conf import env_bool

    if env_bool("JIANJIAN_REFRESH_SCREENSHOTS", False):
        return ROOT / "docs" / "screenshots"
    return ROOT / "var" / "screenshots"


SCREENSHOTS = screenshots_folder()

PHONE = {"width": 390, "height": 844}
TABLET = {"width": 820, "height": 1180}


def pytest_collection_modifyitems(config, items):  # type: ignore[no-untyped-def]
    for item in items:
        if "tests/e2e" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is not installed; CI must install Debian's chromium")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    # Playwright's sync API refuses to run inside a running asyncio loop; Django's async-unsafe
    # guard must also let the live server's ORM calls through from the test thread.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page_factory(browser, live_server):  # type: ignore[no-untyped-def]
    """``page_factory(viewport=PHONE, language="zh-hans")`` → a fresh page in its own context."""
    contexts = []

    def make(viewport: dict[str, int] | None = None, language: str = "zh-hans"):  # type: ignore[no-untyped-def]
        context = browser.new_context(
            viewport=viewport or TABLET,
            locale="zh-CN" if language == "zh-hans" else "en-US",
            base_url=live_server.url,
        )
        context.add_cookies(
            [{"name": "django_language", "value": language, "url": live_server.url}]
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page

    yield make
    for context in contexts:
        context.close()


def screenshot(page, name: str) -> Path:  # type: ignore[no-untyped-def]
    """Write NAME.png (full page) into :data:`SCREENSHOTS` and return its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def wait_focused(page, element_id: str, timeout: float = 10_000) -> None:  # type: ignore[no-untyped-def]
    """Wait until ``#element_id`` has the focus (fails after ``timeout`` ms).

    Not ``page.wait_for_function("…activeElement…")``: a string predicate that has to poll is
    evaluated with eval, which the app's Content-Security-Policy forbids, so it failed exactly
    when the focus came a moment late. Playwright's expect() checks from its own script world.
    """
    from playwright.sync_api import expect

    expect(page.locator(f"#{element_id}")).to_be_focused(timeout=timeout)


# htmx marks what it is still putting in place; none of these left means it has finished.
HTMX_BUSY = ".htmx-request, .htmx-swapping, .htmx-added, .htmx-settling"


def wait_swapped(page, selector: str, timeout: float = 10_000) -> None:  # type: ignore[no-untyped-def]
    """Wait until ``selector`` is on the page *and* htmx has wired it up.

    htmx inserts an answer first and only processes it (attaches its triggers, applies
    ``autofocus``) in the settle step a few milliseconds later. A test that types or clicks in
    that window reaches an element with no htmx behaviour yet: the input's suggestion request
    never fires, a button submits the plain form. A person never acts that fast; a test must
    wait for what the person waits for.
    """
    from playwright.sync_api import expect

    page.wait_for_selector(selector, timeout=timeout)
    expect(page.locator(HTMX_BUSY)).to_have_count(0, timeout=timeout)
