"""A family in a real browser: two adults, a child and an infant booked from the seat map
(docs/PASSENGERS.md). Headless Chromium (apps/core/testing/browser.py) against the live server; each
step is saved as a screenshot under test-artifacts/screenshots/."""

import re
from datetime import timedelta

import pytest

from apps.accounts.tests.factories import UserFactory
from apps.bookings.models import Booking, InfantFare
from apps.bookings.services.holds import travel_date
from apps.core.testing import browser as browser_fixtures
from apps.flights.models import Flight
from apps.flights.tests.test_views import route_bom_del

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

chromium = browser_fixtures.chromium
browser_page = browser_fixtures.browser_page


def traveller(page, number: int):
    return page.get_by_role("group", name=re.compile(f"Traveller {number}"))


def test_a_family_of_two_adults_a_child_and_an_infant_takes_three_seats_and_pays_each_fare(browser_page):
    web, page = browser_page, browser_page.page
    flight = route_bom_del().midday
    travel = travel_date(Flight.objects.select_related("departure_airport").get(pk=flight.pk))
    owner = UserFactory()
    web.sign_in_as(owner)

    # given three seats chosen on the seat map, for the two adults and the child
    web.goto(f"/flights/{flight.pk}/?travellers=3")
    for letter in "ABC":
        page.get_by_role(
            "button", name=f"Row 3, seat {letter}, Economy, ₹3,900, available", exact=True
        ).click()
    web.snap("three seats chosen")
    page.get_by_role("button", name="Continue to passenger details").click()
    page.get_by_role("heading", name="Who is flying?").wait_for()

    # when they add an infant, who takes no seat, on the first adult's lap
    page.get_by_test_id("add-infant").click()
    traveller(page, 4).wait_for()
    for number, (first, last) in enumerate(
        [("Asha", "Rao"), ("Vikram", "Rao"), ("Dev", "Rao"), ("Mira", "Rao")], start=1
    ):
        traveller(page, number).get_by_label("First name").fill(first)
        traveller(page, number).get_by_label("Last name").fill(last)
    traveller(page, 3).get_by_label("Travelling as").select_option("child")
    traveller(page, 3).get_by_label("Date of birth").fill(travel.replace(year=travel.year - 5).isoformat())
    assert traveller(page, 4).get_by_label("Travelling as").input_value() == "infant"
    assert traveller(page, 4).get_by_label("On the lap of (infants only)").input_value() == "1"
    traveller(page, 4).get_by_label("Date of birth").fill((travel - timedelta(days=300)).isoformat())
    web.snap("a family of four")
    page.get_by_role("button", name="Hold seats and continue to payment").click()

    # then the pay page lists each with a fare: adults 3,900, the child 75 %, the infant 10 % on a lap
    page.get_by_role("heading", name="Pay to confirm").wait_for()
    fares = page.get_by_test_id("passenger-fare").all_inner_texts()
    assert fares == ["3A · ₹3,900", "3B · ₹3,900", "3C · ₹2,925", "On the lap of traveller 1 · ₹390"]
    assert "₹11,115" in page.locator(".total").inner_text()
    web.snap("the family's pay page")
    # and exactly three seats are taken, the infant's price is its own row
    booking = Booking.objects.get(owner=owner)
    assert sorted(booking.seat_assignments.values_list("seat_code", flat=True)) == ["3A", "3B", "3C"]
    assert list(InfantFare.objects.values_list("passenger__first_name", "fare")) == [("Mira", 390)]
    assert Flight.objects.get(pk=flight.pk).available_seats == flight.available_seats - 3
