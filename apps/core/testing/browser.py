"""Browser-test fixtures: Playwright driving Debian's Chromium against pytest-django's live server.

Use them in a test module by naming them at module level (pytest finds fixtures there):

    from apps.core.testing import browser as browser_fixtures
    chromium = browser_fixtures.chromium
    browser_page = browser_fixtures.browser_page
    browser_page_without_js = browser_fixtures.browser_page_without_js

One headless Chromium serves the whole session; each test gets a fresh context (cookies, storage).
`Screenshots.take()` saves each step at desktop (1280×800) and phone (390×844) widths under
`test-artifacts/screenshots/<test name>/` (BROWSER_SCREENSHOT_DIR overrides the folder), and checks
the page at both widths with axe-core (`axe_check`): a serious or critical WCAG 2.2 A/AA violation
fails the test. axe-core comes from node_modules (package.json; `npm ci`, which `make test` runs).
"""

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

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
# axe-core (package.json) and what it checks: WCAG 2.0, 2.1 and 2.2 at levels A and AA. A violation
# of impact serious or critical fails the test; moderate and minor ones are not counted.
AXE_SCRIPT = settings.BASE_DIR / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
AXE_FAILING_IMPACTS = {"serious", "critical"}
# The traveller's pages are the accessibility target (README, "Accessibility"); the staff's Django
# admin and the developers' mail viewer are not checked by `snap`.
AXE_UNCHECKED_PATHS = (f"/{settings.ADMIN_URL}", "/dev/")
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


def axe_violations(page) -> list[dict[str, Any]]:
    """axe-core's serious and critical WCAG 2.2 A/AA violations on the page (with JavaScript) as it is now.

    The site's Content-Security-Policy refuses an injected <script> (it has no nonce), so axe's source
    is evaluated through the DevTools protocol, which the policy does not govern.
    """
    if not AXE_SCRIPT.exists():
        pytest.fail(f"axe-core is not installed ({AXE_SCRIPT} is missing): run `npm ci` (make test runs it)")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SCRIPT.read_text())
    results = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        AXE_TAGS,
    )
    return [violation for violation in results["violations"] if violation["impact"] in AXE_FAILING_IMPACTS]


def axe_violations_without_java_script(page) -> list[dict[str, Any]]:
    """The same for a page in a context without JavaScript, where axe cannot run (its timers never fire).

    The page's document as it is now is loaded, at the same size, into a page of a context with
    JavaScript that refuses every script of the site's, so that what is checked is what a browser
    without JavaScript shows; stylesheets and images come from the live server as before.
    """
    html = page.content()
    context = page.context.browser.new_context(viewport=page.viewport_size, locale="en-GB")
    context.set_default_timeout(ACTION_TIMEOUT_MS)

    def serve(route) -> None:
        if route.request.resource_type == "document":
            route.fulfill(body=html, content_type="text/html; charset=utf-8")
        elif route.request.resource_type == "script":
            route.abort()
        else:
            route.continue_()

    try:
        copy = context.new_page()
        copy.route("**/*", serve)
        copy.goto(page.url)
        return axe_violations(copy)
    finally:
        context.close()


def describe_violations(violations: list[dict[str, Any]]) -> str:
    """One paragraph per violation: its rule, impact and help, then each offending element."""
    lines = []
    for violation in violations:
        lines.append(
            f"{violation['id']} ({violation['impact']}): {violation['help']} <{violation['helpUrl']}>"
        )
        for node in violation["nodes"]:
            lines.append(f"    {' '.join(node['target'])}: {node['failureSummary'].splitlines()[-1].strip()}")
            lines.append(f"        {node['html'][:200]}")
    return "\n".join(lines)


@dataclass
class BrowserSession:
    """A page in a fresh browser context, the live server's URL, and a screenshot recorder."""

    page: object
    context: object
    base_url: str
    screenshot_dir: Path
    steps: list[str] = field(default_factory=list)
    desktop: dict[str, int] = field(default_factory=lambda: dict(DESKTOP))
    java_script: bool = True

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

    def axe_check(self, name: str) -> None:
        """Fail, listing them, when axe-core finds serious or critical WCAG 2.2 A/AA violations."""
        check = axe_violations if self.java_script else axe_violations_without_java_script
        violations = check(self.page)
        assert not violations, (
            f"{name} ({self.page.viewport_size['width']}px wide, {self.page.url}): "
            f"{len(violations)} accessibility violation(s)\n{describe_violations(violations)}"
        )

    def snap(self, name: str) -> None:
        """Screenshot the page at desktop and phone widths as step NN-name, checking it with axe-core at both.

        Fails when the page is wider than the phone's screen (sideways scrolling means a broken layout)
        or has a serious or critical accessibility violation (a traveller's page: AXE_UNCHECKED_PATHS).
        """
        # A heading can be found before the stylesheet has loaded; a full-page shot measured then is
        # as tall as the unstyled page.
        self.page.wait_for_load_state("load")
        self.steps.append(name)
        self.screenshot_dir.mkdir(parents=True, exist_ok=True)
        stem = f"{len(self.steps):02d}-{re.sub(r'[^a-z0-9]+', '-', name.lower()).strip('-')}"
        check = not urlsplit(self.page.url).path.startswith(AXE_UNCHECKED_PATHS)
        self.page.screenshot(path=str(self.screenshot_dir / f"{stem}-desktop.png"), full_page=True)
        if check:
            self.axe_check(name)
        self.page.set_viewport_size(PHONE)
        self.page.screenshot(path=str(self.screenshot_dir / f"{stem}-phone.png"), full_page=True)
        overflow = self.page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        try:
            assert overflow <= 0, f"{name}: the page is {overflow}px wider than a phone screen"
            if check:
                self.axe_check(name)
        finally:
            self.page.set_viewport_size(self.desktop)


def _browser_session(chromium, live_server, request, *, java_script: bool) -> Iterator[BrowserSession]:
    context = chromium.new_context(viewport=DESKTOP, java_script_enabled=java_script, locale="en-GB")
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    test_name = re.sub(r"[^a-z0-9_]+", "-", request.node.name.lower())
    try:
        yield BrowserSession(
            page=page,
            context=context,
            base_url=live_server.url,
            screenshot_dir=SCREENSHOT_DIR / test_name,
            java_script=java_script,
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
