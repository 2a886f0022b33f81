"""Choosing a fare family in a real browser: the results' comparison (axe-checked at desktop and
phone widths), the family's seat map, the passenger page and the pay page's price breakdown.

Headless Chromium (apps/core/testing/browser.py) against the live server; each step is saved as a
screenshot under test-artifacts/screenshots/.
"""

import re
from decimal import Decimal

import pytest

from apps.accounts.tests.factories import UserFactory
from apps.bookings.models import Booking, SeatAssignment
from apps.bookings.tests.test_browser_traveller import fill_names
from apps.core.testing import browser as browser_fixtures
from apps.flights.tests.factories import flight_with_families
from apps.flights.tests.test_views import route_bom_del

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

chromium = browser_fixtures.chromium
browser_page = browser_fixtures.browser_page


def test_a_traveller_compares_the_families_chooses_one_and_pays_its_price(browser_page):
    route = route_bom_del()
    flight_with_families(
        route.midday, {"ECO_SAVER": "3900.00", "ECO_FLEX": "5400.00", "BUS_FLEX": "18500.00"}
    )
    web, page = browser_page, browser_page.page
    web.sign_in_as(UserFactory(email="asha@example.com", name="Asha Rao"))

    # given the results for two travellers, the flight's fares are compared side by side
    web.goto(f"/flights/?origin=BOM&destination=DEL&date={route.day.isoformat()}&travellers=2")
    fares = page.locator("[data-fare-families]")
    fares.wait_for()
    assert fares.locator("tbody tr").count() == 3
    assert "₹10,800" in fares.locator("[data-fare-family=ECO_FLEX]").inner_text()
    web.snap("fare families compared")

    # when they choose Economy Flex, its seat map offers economy seats at its price
    page.get_by_role("link", name=re.compile("^Choose Economy Flex on AI205")).click()
    page.get_by_role("heading", name="Choose 2 seats").wait_for()
    assert "Economy Flex" in page.locator("[data-fare-family]").inner_text()
    page.get_by_label("Traveller 1").select_option("5A")
    page.get_by_label("Traveller 2").select_option("5B")
    web.snap("family seat map")
    page.get_by_role("button", name="Continue to passenger details").click()

    # and hold them with the passengers' names
    fill_names(page, ("Asha", "Rao"), ("Ravi", "Rao"))
    page.get_by_role("button", name="Hold seats and continue to payment").click()
    page.get_by_role("heading", name="Pay to confirm").wait_for()

    # then the seats are held in that family, and the pay page says how the price is made
    booking = Booking.objects.get()
    assert booking.total_amount == Decimal("10800.00")
    assert set(SeatAssignment.objects.values_list("seat_code", "fare_family")) == {
        ("5A", "ECO_FLEX"),
        ("5B", "ECO_FLEX"),
    }
    breakdown = page.locator("[data-price-breakdown]").inner_text()
    assert "Base fare" in breakdown
    assert "GST" in breakdown
    web.snap("pay page breakdown")
