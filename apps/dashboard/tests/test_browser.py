"""Staff open the sales dashboard from the admin in a real browser (Chromium, 1366 × 900)."""

import re

import pytest
from django.conf import settings

from apps.accounts.tests.factories import TEST_PASSWORD
from apps.core.testing import browser as browser_fixtures
from apps.core.tests.test_security_headers import RECORD_VIOLATIONS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

chromium = browser_fixtures.chromium
browser_page = browser_fixtures.browser_page

LAPTOP = {"width": 1366, "height": 900}


def test_staff_open_the_dashboard_from_the_admin(browser_page, sales, staff_user):
    web, page = browser_page, browser_page.page
    web.context.add_init_script(RECORD_VIOLATIONS)
    console_errors = []
    page.on("console", lambda message: message.type == "error" and console_errors.append(message.text))
    page.set_viewport_size(LAPTOP)

    # given staff signed in to the admin through its form
    web.goto("/" + settings.ADMIN_URL)
    page.get_by_label("Email").fill(staff_user.email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()

    # when they follow the admin index's link and choose the last 7 days
    page.get_by_role("link", name="Sales dashboard").click()
    page.get_by_role("heading", name="Sales dashboard", exact=True).wait_for()
    page.get_by_label("Period").select_option("7")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"days=7"))

    # then every figure is a chart, named by its heading, each with its numbers as a table
    charts = page.get_by_role("img")
    assert charts.count() == 6
    assert (
        page.get_by_role("img", name=re.compile(r"^Bookings paid per day 4 bookings paid in 7 days")).count()
        == 1
    )
    page.get_by_text("The numbers: Bookings paid per day").click()
    table = page.get_by_role("table", name="Bookings paid per day")
    assert table.get_by_role("row", name=re.compile(rf"^{sales.day(1)} 2 1$")).is_visible()
    page.get_by_text("The numbers: Busiest routes by bookings paid").click()
    routes = page.get_by_role("table", name="Busiest routes by bookings paid")
    assert routes.get_by_role("row", name="BOM→DEL 3 4,000.00 INR").is_visible()
    # at 1366 px nothing scrolls sideways, the policy was kept and the console has no error
    assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
    assert page.evaluate("window.__cspViolations") == []
    assert console_errors == []
    page.wait_for_load_state("load")
    web.screenshot_dir.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(web.screenshot_dir / "01-sales-dashboard-1366x900.png"), full_page=True)
    web.snap("sales dashboard")
