"""Browser-test fixtures: Playwright driving Debian's Chromium against pytest-django's live server.

Use them in a test module by naming them at module level (pytest finds fixtures there):

    from apps.core.testing import browser as browser_fixtures
    chromium = browser_fixtures.chromium
    browser_page = browser_fixtures.browser_page
    browser_page_without_js = browser_fixtures.browser_page_without_js

One headless Chromium serves the whole session; each test gets a fresh context (cookies, storage).
`Screenshots.take()` saves each step at desktop (1280×800) and phone (390×844) widths under
`test-artifacts/screenshots/<test name>/` (BROWSER_SCREENSHOT_DIR overrides the folder).
"""

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore

CHROMIUM_PATH = os.environ.get("BROWSER_CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 800}
# The staff's admin pages are shot at a laptop's width (`BrowserSession.use_desktop`).
STAFF_DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
SCREENSHOT_DIR = Path(
    os.environ.get("BROWSER_SCREENSHOT_DIR", settings.BASE_DIR / "test-artifacts" / "screenshots")
)
# Playwright's actions wait for their element up to this long (a condition, never a sleep).
ACTION_TIMEOUT_MS = 10_000


# The running Playwright and browser. Each module that names `chromium` gets its own session-scoped
# fixture, but Playwright's sync API can be started only once per thread: the first one starts them,
# the others share them, and the first one (torn down last) stops them.
_running: dict[str, Any] = {}


@pytest.fixture(scope="session")
def chromium():
    """One headless Chromium for the session; skips the browser tests when it is not installed."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM_PATH).exists():
        pytest.skip(f"Chromium is not installed at {CHROMIUM_PATH} (apt-get install chromium)")
    if "browser" in _running:
        yield _running["browser"]
        return
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are
    # synchronous and safe here, so Django's guard against ORM use inside a loop is lifted.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_api.sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS, headless=True)
    _running.update(playwright=playwright, browser=browser)
    try:
        yield browser
    finally:
        _running.clear()
        browser.close()
        playwright.stop()


@dataclass
class BrowserSession:
    """A page in a fresh browser context, the live server's URL, and a screenshot recorder."""

    page: object
    context: object
    base_url: str
    screenshot_dir: Path
    steps: list[str] = field(default_factory=list)
    desktop: dict[str, int] = field(default_factory=lambda: dict(DESKTOP))

    def use_desktop(self, size: dict[str, int]) -> None:
        """Browse, and take the desktop screenshots, at `size` instead of DESKTOP."""
        self.desktop = dict(size)
        self.page.set_viewport_size(self.desktop)

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def goto(self, path: str):
        return self.page.goto(self.url(path))

    def sign_in_as(self, user) -> None:
        """Give the context a session cookie for `user` (what signing in through the form does)."""
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        self.context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": session.session_key, "url": self.base_url}]
        )

    def snap(self, name: str) -> None:
        """Screenshot the page at desktop and phone widths as step NN-name.

        Fails when the page is wider than the phone's screen (sideways scrolling means a broken layout).
        """
        # A heading can be found before the stylesheet has loaded; a full-page shot measured then is
        # as tall as the unstyled page.
        self.page.wait_for_load_state("load")
        self.steps.append(name)
        self.screenshot_dir.mkdir(parents=True, exist_ok=True)
        stem = f"{len(self.steps):02d}-{re.sub(r'[^a-z0-9]+', '-', name.lower()).strip('-')}"
        self.page.screenshot(path=str(self.screenshot_dir / f"{stem}-desktop.png"), full_page=True)
        self.page.set_viewport_size(PHONE)
        self.page.screenshot(path=str(self.screenshot_dir / f"{stem}-phone.png"), full_page=True)
        overflow = self.page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        self.page.set_viewport_size(self.desktop)
        assert overflow <= 0, f"{name}: the page is {overflow}px wider than a phone screen"


def _browser_session(chromium, live_server, request, *, java_script: bool) -> Iterator[BrowserSession]:
    context = chromium.new_context(viewport=DESKTOP, java_script_enabled=java_script, locale="en-GB")
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    test_name = re.sub(r"[^a-z0-9_]+", "-", request.node.name.lower())
    try:
        yield BrowserSession(
            page=page, context=context, base_url=live_server.url, screenshot_dir=SCREENSHOT_DIR / test_name
        )
    finally:
        context.close()


@pytest.fixture
def browser_page(chromium, live_server, request) -> Iterator[BrowserSession]:
    """A fresh context and page for one test, with JavaScript (confirm dialogs are accepted)."""
    yield from _browser_session(chromium, live_server, request, java_script=True)


@pytest.fixture
def browser_page_without_js(chromium, live_server, request) -> Iterator[BrowserSession]:
    """The same with JavaScript off: the site must work without it."""
    yield from _browser_session(chromium, live_server, request, java_script=False)
