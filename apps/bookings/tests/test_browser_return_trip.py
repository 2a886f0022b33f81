"""A return trip booked in a real browser, from the link the search's results end in to the e-ticket.

Headless Chromium driven by Playwright against the live server (apps/core/testing/browser.py); every
snapped page is checked with axe-core at desktop and phone widths.
"""

import re

import pytest

from apps.accounts.tests.factories import UserFactory
from apps.bookings.models import Booking
from apps.bookings.tests.factories import return_flight
from apps.core.testing import browser as browser_fixtures
from apps.flights.models import Flight
from apps.flights.tests.test_views import route_bom_del

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

chromium = browser_fixtures.chromium
browser_page = browser_fixtures.browser_page


def test_a_return_trip_from_names_to_hold_to_payment_to_the_e_ticket(browser_page):
    web, page = browser_page, browser_page.page
    outbound = route_bom_del().midday  # AI205 Mumbai 09:30 → Delhi 11:35, ₹3,900
    back = return_flight(outbound, flight_number="AI806")  # Delhi 14:35 → Mumbai 16:40, ₹4,500
    traveller = UserFactory(email="asha@example.com", name="Asha Rao")
    web.sign_in_as(traveller)

    # given the passenger page of the return trip, as the search's results link to it
    web.goto(f"/bookings/new/?flights={outbound.pk}&flights={back.pk}&count=1")
    page.get_by_role("heading", name="Who is flying?").wait_for()
    trip = page.locator("[data-testid='journey-flight']")
    assert trip.count() == 2
    assert "AI205" in trip.nth(0).inner_text()
    assert "09:30" in trip.nth(0).inner_text()
    assert "AI806" in trip.nth(1).inner_text()
    assert "14:35" in trip.nth(1).inner_text()
    group = page.get_by_role("group", name=re.compile("Traveller 1"))
    group.get_by_label("First name").fill("Asha")
    group.get_by_label("Last name").fill("Rao")
    web.snap("return trip passengers")

    # when they hold it
    page.get_by_role("button", name="Hold seats and continue to payment").click()

    # then the pay page lists both flights with the traveller's seat on each
    page.get_by_role("heading", name="Pay to confirm").wait_for()
    booking = Booking.objects.get(owner=traveller)
    seats = dict(booking.seat_assignments.values_list("segment", "seat_code"))
    summary = page.locator("[data-testid='journey-flight']")
    assert summary.count() == 2
    assert "AI205" in summary.nth(0).inner_text()
    assert seats[1] in summary.nth(0).inner_text()
    assert "AI806" in summary.nth(1).inner_text()
    assert seats[2] in summary.nth(1).inner_text()
    web.snap("return trip pay")

    # when they pay with the simulated card
    page.get_by_label(re.compile("Visa ending 4242")).check()
    page.get_by_role("button", name="Pay ₹8,400").click()

    # then the e-ticket shows both flights, each with the traveller's seat, and both flights sold it
    page.get_by_role("heading", name="E-ticket").wait_for()
    assert page.get_by_test_id("reference").inner_text() == booking.reference
    flights = page.locator(".ticket [data-testid='journey-flight']")
    assert flights.count() == 2
    first, second = flights.nth(0).inner_text(), flights.nth(1).inner_text()
    for fact in ("AI205", "BOM", "09:30", seats[1]):
        assert fact in first, fact
    for fact in ("AI806", "DEL", "14:35", seats[2]):
        assert fact in second, fact
    web.snap("return trip e-ticket")
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    assert Flight.objects.get(pk=outbound.pk).available_seats == 67
    assert Flight.objects.get(pk=back.pk).available_seats == 119
