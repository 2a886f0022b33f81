"""A return search in a real browser, up to the Continue button's booking URL (checked with axe-core).

Headless Chromium (Debian's) driven by Playwright against the live server; each step is saved as a
screenshot at desktop and phone widths under test-artifacts/screenshots/.
"""

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from apps.core.testing import browser as browser_fixtures
from apps.flights.tests.factories import delhi_airport, mumbai_airport
from apps.flights.tests.test_journeys import flight

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

chromium = browser_fixtures.chromium
browser_page = browser_fixtures.browser_page


def test_a_return_search_reaches_continue_with_the_chosen_flights(browser_page, trip_day):
    web, page = browser_page, browser_page.page
    bom, delhi = mumbai_airport(), delhi_airport()
    back = trip_day + timedelta(days=2)
    flight("AI101", bom, delhi, trip_day, 6, 0, "5200.00")
    cheapest_out = flight("AI205", bom, delhi, trip_day, 9, 30, "3900.00")
    flight("AI302", delhi, bom, back, 8, 0, "4100.00")
    later_back = flight("AI404", delhi, bom, back, 20, 0, "6000.00")

    # given the home page, when the traveller picks Return and fills in both days for two
    web.goto("/")
    page.get_by_label("Return", exact=True).check()
    page.get_by_label("Flight 2 origin").wait_for(state="hidden")  # the multi-city rows step aside
    page.get_by_label("From").fill("Mumbai")
    page.get_by_label("To", exact=True).fill("Delhi")
    page.get_by_label("Date", exact=True).fill(trip_day.isoformat())
    page.get_by_label("Returning").fill(back.isoformat())
    page.get_by_label("Travellers").fill("2")
    page.get_by_label("Travellers").press("Escape")
    page.get_by_role("button", name="Search flights").click()

    # then both segments are offered, the cheapest of each chosen
    page.get_by_role("heading", name=re.compile("^Flight 1: Mumbai → Delhi")).wait_for()
    outbound = page.get_by_role("group", name=re.compile("^Flight 1:"))
    inbound = page.get_by_role("group", name=re.compile("^Flight 2:"))
    assert outbound.get_by_role("radio").count() == 2
    assert outbound.get_by_role("radio", name=re.compile("AI205")).is_checked()
    assert "₹16,000" in page.locator("[data-total]").inner_text()
    web.snap("return results")

    # when the traveller takes the later flight back and continues
    inbound.get_by_role("radio", name=re.compile("AI404")).check()
    with page.expect_request(re.compile(r"/bookings/new/\?")) as booking_request:
        page.get_by_role("button", name="Continue").click()

    # then the browser asks the booking page for both flights in order, for two (what that page
    # answers, a sign-in first, is the booking's business: only the address is checked)
    url = urlsplit(booking_request.value.url)
    assert url.path == "/bookings/new/"
    assert parse_qs(url.query) == {"flights": [str(cheapest_out.pk), str(later_back.pk)], "count": ["2"]}
