"""A return trip in fare families, in a real browser: Economy Flex out and Economy Saver back (chosen on
the journey results, the way back changed on its fares page), for an adult with an infant on their
lap, who stays on the passenger page across the seat map, the fares page and back (docs/FARES.md,
"Choosing a family"; docs/PASSENGERS.md).

Headless Chromium driven by Playwright against the live server (apps/core/testing/browser.py); every
snapped page is checked with axe-core at desktop and phone widths.
"""

import re
from datetime import timedelta
from decimal import Decimal

import pytest

from apps.accounts.tests.factories import UserFactory
from apps.bookings.models import Booking, InfantFare, SeatAssignment
from apps.bookings.services.holds import travel_date
from apps.bookings.tests.factories import return_flight
from apps.core.testing import browser as browser_fixtures
from apps.flights.models import Flight
from apps.flights.tests.factories import flight_with_families
from apps.flights.tests.test_views import route_bom_del
from apps.payments.models import Payment

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

chromium = browser_fixtures.chromium
browser_page = browser_fixtures.browser_page


def traveller(page, number: int):
    return page.get_by_role("group", name=re.compile(f"Traveller {number}"))


def test_flex_out_and_saver_back_for_an_adult_and_an_infant_from_the_results_to_payment(browser_page):
    web, page = browser_page, browser_page.page
    route = route_bom_del()
    outbound = flight_with_families(
        route.midday, {"ECO_SAVER": "3900.00", "ECO_FLEX": "5400.00", "BUS_FLEX": "18500.00"}
    )  # AI205, Mumbai 09:30 → Delhi
    back = flight_with_families(
        return_flight(outbound, flight_number="AI806"), {"ECO_SAVER": "4500.00", "ECO_FLEX": "6100.00"}
    )  # Delhi 14:35 → Mumbai
    owner = UserFactory(email="asha@example.com", name="Asha Rao")
    web.sign_in_as(owner)
    travel = travel_date(Flight.objects.select_related("departure_airport").get(pk=outbound.pk))

    # given the results of a return search, each flight's families compared in its segment
    day = route.day.isoformat()
    web.goto(
        f"/flights/?trip=return&origin=Mumbai&destination=Delhi&date={day}&return_date={day}&travellers=1"
    )
    out = page.get_by_role("group", name=re.compile("^Flight 1:"))
    home = page.get_by_role("group", name=re.compile("^Flight 2:"))
    out.get_by_role("heading", name=re.compile("^Flight 1: Mumbai → Delhi")).wait_for()
    assert out.locator("[data-fare-families] tbody tr").count() == 3
    web.snap("return results with fare families")

    # when the traveller chooses Flex on both flights, and continues
    out.get_by_role("radio", name="Choose Economy Flex on AI205 at 09:30").check()
    home.get_by_role("radio", name="Choose Economy Flex on AI806 at 14:35").check()
    page.get_by_role("button", name="Continue").click()

    # then the passenger page names each flight's fare and its rules
    page.get_by_role("heading", name="Who is flying?").wait_for()
    trip = page.get_by_test_id("journey-flight")
    assert "Economy Flex" in trip.nth(0).inner_text()
    assert "Refund less ₹1,500" in trip.nth(0).inner_text()
    assert "Economy Flex" in trip.nth(1).inner_text()

    # when they add an infant, then choose the seat on the way out
    page.get_by_test_id("add-infant").click()
    traveller(page, 2).wait_for()
    assert "Infant 1 on a lap" in trip.nth(0).inner_text()
    web.snap("journey passengers with an infant")
    page.get_by_role("link", name="Choose seats on flight 1 (AI205)").click()
    page.get_by_role("heading", name="Choose 1 seat on flight 1 of 2").wait_for()
    assert "Economy Flex" in page.locator("[data-fare-family]").inner_text()
    assert (
        page.get_by_role("button", name=re.compile("^Row 1, seat A, Business")).get_attribute("aria-disabled")
        == "true"
    )  # Flex sells economy seats only
    page.get_by_role("button", name="Row 4, seat A, Economy, ₹5,400, available", exact=True).click()
    web.snap("flex seat map")
    page.get_by_role("button", name="Continue to passenger details").click()

    # then the infant is still there, on the traveller's lap
    page.get_by_role("heading", name="Who is flying?").wait_for()
    assert traveller(page, 2).get_by_label("Travelling as").input_value() == "infant"
    assert "Traveller 1: seat 4A" in trip.nth(0).inner_text()

    # when they change the way back to Economy Saver on its fares page
    page.get_by_role("link", name="Change fare on flight 2 (AI806)").click()
    page.get_by_role("heading", name="Choose a fare on flight 2 of 2").wait_for()
    assert (
        "for 1 traveller and 1 infant on a lap" in page.locator("[data-fare-families] caption").inner_text()
    )
    web.snap("fares of the way back")
    page.get_by_role("link", name="Choose Economy Saver on AI806 at 14:35").click()

    # then flight 1 keeps its fare and seat, the infant is still there, and the total counts it twice
    page.get_by_role("heading", name="Who is flying?").wait_for()
    assert traveller(page, 2).get_by_label("Travelling as").input_value() == "infant"
    assert "Traveller 1: seat 4A" in trip.nth(0).inner_text()
    assert "Economy Flex" in trip.nth(0).inner_text()
    assert "Economy Saver" in trip.nth(1).inner_text()
    assert "Taxes only" in trip.nth(1).inner_text()
    assert "₹10,890" in page.locator(".summary .total").inner_text()  # 5,400 + 540 + 4,500 + 450
    traveller(page, 1).get_by_label("First name").fill("Asha")
    traveller(page, 1).get_by_label("Last name").fill("Rao")
    traveller(page, 2).get_by_label("First name").fill("Mira")
    traveller(page, 2).get_by_label("Last name").fill("Rao")
    traveller(page, 2).get_by_label("Date of birth").fill((travel - timedelta(days=300)).isoformat())
    web.snap("journey passengers named")

    # when they hold and pay
    page.get_by_role("button", name="Hold seats and continue to payment").click()
    page.get_by_role("heading", name="Pay to confirm").wait_for()
    web.snap("journey pay page")
    page.get_by_label(re.compile("Visa ending 4242")).check()
    page.get_by_role("button", name="Pay ₹10,890").click()
    page.get_by_role("heading", name="E-ticket").wait_for()

    # then the seats were sold in each flight's family, and the infant paid its share of each
    booking = Booking.objects.get(owner=owner)
    assert booking.status == Booking.Status.CONFIRMED
    assert booking.total_amount == Decimal("10890.00")
    assert list(
        SeatAssignment.objects.filter(booking=booking)
        .order_by("segment")
        .values_list("segment", "fare_family", "cabin", "fare")
    ) == [(1, "ECO_FLEX", "economy", Decimal("5400.00")), (2, "ECO_SAVER", "economy", Decimal("4500.00"))]
    assert SeatAssignment.objects.get(booking=booking, segment=1).seat_code == "4A"
    assert list(
        InfantFare.objects.filter(passenger__booking=booking)
        .order_by("segment")
        .values_list("passenger__first_name", "segment", "fare")
    ) == [("Mira", 1, Decimal("540.00")), ("Mira", 2, Decimal("450.00"))]
    assert Payment.objects.get(booking=booking).amount == Decimal("10890.00")
    assert Flight.objects.get(pk=outbound.pk).available_seats == outbound.available_seats - 1
    assert Flight.objects.get(pk=back.pk).available_seats == back.available_seats - 1
