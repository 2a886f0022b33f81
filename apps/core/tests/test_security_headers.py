"""Security headers and the Content Security Policy on pages and API responses."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.urls import path

from apps.bookings.tests.factories import hold
from apps.core.testing import browser as browser_fixtures
from apps.flights.tests.test_views import route_bom_del

pytestmark = pytest.mark.django_db

TEMPLATES_DIR = Path(settings.BASE_DIR) / "templates"
# Emails are read in mail clients, not served with our headers, and need inline styles.
EMAIL_TEMPLATES = TEMPLATES_DIR / "notifications"


def policy(response) -> dict[str, list[str]]:
    """The Content-Security-Policy header as {directive: [sources]}."""
    directives = (part.split() for part in response["Content-Security-Policy"].split(";") if part.strip())
    return {name: sources for name, *sources in directives}


def assert_common_headers(response) -> None:
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]
    assert "geolocation=()" in response["Permissions-Policy"]
    csp = policy(response)
    assert csp["default-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]


def test_a_page_carries_the_security_headers_and_a_script_policy_without_inline_code():
    response = Client().get("/")

    assert response.status_code == 200
    assert_common_headers(response)
    csp = policy(response)
    assert csp["script-src"] == ["'self'"]  # no nonce asked for, so none offered; never unsafe-inline
    assert "'unsafe-inline'" not in csp["style-src"]


def test_an_api_response_carries_the_security_headers():
    response = Client().get("/api/v1/cities")

    assert response.status_code == 200
    assert_common_headers(response)


def test_only_the_swagger_ui_page_may_run_its_inline_bootstrap_and_serves_the_ui_itself():
    docs = Client().get("/api/docs/")
    site = Client().get("/")

    assert docs.status_code == 200
    assert policy(docs)["script-src"] == ["'self'", "'unsafe-inline'"]
    assert "'unsafe-inline'" not in policy(site)["script-src"]
    assert policy(docs)["frame-ancestors"] == ["'none'"]
    assert "cdn.jsdelivr.net" not in docs.content.decode()
    assert "drf_spectacular_sidecar/swagger-ui-dist" in docs.content.decode()


def _boom(request):
    raise RuntimeError("boom")


urlpatterns = [path("boom/", _boom)]
handler500 = "apps.core.views.server_error"


@override_settings(ROOT_URLCONF=__name__)
def test_the_error_pages_inline_style_carries_the_nonce_the_policy_allows():
    response = Client(raise_request_exception=False).get("/boom/")

    assert response.status_code == 500
    nonce = re.search(r'<style nonce="([^"]+)">', response.content.decode()).group(1)
    assert f"'nonce-{nonce}'" in policy(response)["style-src"]


INLINE_CODE = [
    (
        re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*\bnonce=)[^>]*>", re.I),
        "an inline <script> without a nonce",
    ),
    (re.compile(r"<style(?![^>]*\bnonce=)[^>]*>", re.I), "a <style> element without a nonce"),
    (re.compile(r"\sstyle\s*=", re.I), "a style attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "an inline event handler"),
    (re.compile(r"javascript:", re.I), "a javascript: URL"),
]


def test_site_templates_run_no_inline_code_the_policy_would_block():
    problems = [
        f"{template.relative_to(TEMPLATES_DIR)}: {what}"
        for template in sorted(TEMPLATES_DIR.rglob("*.html"))
        if EMAIL_TEMPLATES not in template.parents
        for pattern, what in INLINE_CODE
        if pattern.search(template.read_text())
    ]

    assert problems == []


# --- In a real browser ------------------------------------------------------------------------------

chromium = browser_fixtures.chromium
browser_page = browser_fixtures.browser_page

# Collects every Content-Security-Policy violation the page reports (the init script itself is
# injected by the browser's debugging protocol, which the policy does not govern).
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
    window.__cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI || "inline code"}`);
});
"""


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_website_breaks_no_policy_rule_in_a_real_browser(browser_page, staff_user):
    route = route_bom_del()
    booking = hold(staff_user, route.midday)
    web, page = browser_page, browser_page.page
    web.context.add_init_script(RECORD_VIOLATIONS)
    web.sign_in_as(staff_user)
    pages = [
        "/",
        f"/flights/?trips=BOM-DEL&tripDate={route.day.isoformat()}&travellers=1",
        f"/flights/{route.midday.pk}/?travellers=2",
        f"/bookings/{booking.reference}/pay/",
        "/bookings/",
        "/no-such-page/",
        "/" + settings.ADMIN_URL,
        f"/{settings.ADMIN_URL}flights/flight/{route.midday.pk}/change/",
    ]

    violations = {}
    for url in pages:
        web.goto(url)
        page.wait_for_load_state("load")
        violations[url] = page.evaluate("window.__cspViolations")

    assert violations == {url: [] for url in pages}
    # The seat map's script ran (it is what shows the seat map's keys).
    web.goto(f"/flights/{route.midday.pk}/?travellers=2")
    assert page.get_by_text("the arrow keys move from seat to seat").is_visible()
