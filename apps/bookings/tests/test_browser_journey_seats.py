"""A return trip for two in a real browser, from the home page's search to the e-ticket, with the seats
on the return flight chosen on its seat map in journey mode (apps/flights/journey_links.py).

Headless Chromium driven by Playwright against the live server (apps/core/testing/browser.py); every
snapped page is checked with axe-core at desktop and phone widths.
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.tests.factories import UserFactory
from apps.bookings.models import Booking, SeatAssignment
from apps.bookings.tests.factories import return_flight
from apps.core.testing import browser as browser_fixtures
from apps.flights.models import Flight
from apps.flights.tests.factories import delhi_airport, mumbai_airport
from apps.flights.tests.test_journeys import flight
from apps.flights.tests.test_views import route_bom_del

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

chromium = browser_fixtures.chromium
browser_page = browser_fixtures.browser_page
browser_page_without_js = browser_fixtures.browser_page_without_js


def test_a_return_trip_for_two_with_seats_chosen_on_the_way_back(browser_page):
    web, page = browser_page, browser_page.page
    bom, delhi = mumbai_airport(), delhi_airport()
    out_day = timezone.now().date() + timedelta(days=5)
    back_day = out_day + timedelta(days=2)
    flight("AI101", bom, delhi, out_day, 6, 0, "5200.00")
    outbound = flight("AI205", bom, delhi, out_day, 9, 30, "3900.00")
    flight("AI302", delhi, bom, back_day, 8, 0, "4100.00")
    later_back = flight("AI404", delhi, bom, back_day, 20, 0, "6000.00")
    traveller = UserFactory(email="asha@example.com", name="Asha Rao")
    web.sign_in_as(traveller)

    # given the home page, the traveller searches a return trip for two, typing the cities
    web.goto("/")
    page.get_by_label("Return", exact=True).check()
    page.get_by_label("Flight 2 origin").wait_for(state="hidden")
    page.get_by_label("From").fill("Mumbai")
    page.get_by_label("To", exact=True).fill("Delhi")
    page.get_by_label("Date", exact=True).fill(out_day.isoformat())
    page.get_by_label("Returning").fill(back_day.isoformat())
    page.get_by_label("Travellers").fill("2")
    page.get_by_label("Travellers").press("Escape")
    page.get_by_role("button", name="Search flights").click()
    page.get_by_role("heading", name=re.compile("^Flight 1: Mumbai → Delhi")).wait_for()
    web.snap("return results")

    # when they keep the cheapest flight out, take the later flight back, and continue
    page.get_by_role("group", name=re.compile("^Flight 2:")).get_by_role(
        "radio", name=re.compile("AI404")
    ).check()
    page.get_by_role("button", name="Continue").click()

    # then the passenger page lists both flights, each with its way to the seat map
    page.get_by_role("heading", name="Who is flying?").wait_for()
    trip = page.locator("[data-testid='journey-flight']")
    assert trip.count() == 2
    assert "AI205" in trip.nth(0).inner_text()
    assert "AI404" in trip.nth(1).inner_text()
    web.snap("return passengers, seats assigned")

    # when they choose two seats on the return flight's seat map
    page.get_by_role("link", name="Choose seats on flight 2 (AI404)").click()
    page.get_by_role("heading", name="Choose 2 seats on flight 2 of 2").wait_for()
    page.get_by_role("button", name="Row 7, seat C, Economy, ₹6,000, available", exact=True).click()
    page.get_by_role("button", name="Row 7, seat D, Economy, ₹6,000, available", exact=True).click()
    assert page.get_by_label("Traveller 1", exact=True).input_value() == "7C"
    assert page.get_by_label("Traveller 2", exact=True).input_value() == "7D"
    web.snap("return flight seat map")
    page.get_by_role("button", name="Continue to passenger details").click()

    # then the passenger page shows those seats on flight 2, and flight 1's still assigned
    page.get_by_role("heading", name="Who is flying?").wait_for()
    back_summary = page.locator("[data-testid='journey-flight']").nth(1).inner_text()
    assert "Traveller 1: seat 7C" in back_summary
    assert "Traveller 2: seat 7D" in back_summary
    assert page.get_by_role("link", name="Choose seats on flight 1 (AI205)").is_visible()
    assert page.get_by_role("link", name="Change seats on flight 2 (AI404)").is_visible()
    for number, (first, last) in enumerate([("Asha", "Rao"), ("Ravi", "Rao")], start=1):
        group = page.get_by_role("group", name=re.compile(f"Traveller {number}"))
        group.get_by_label("First name").fill(first)
        group.get_by_label("Last name").fill(last)
    web.snap("return passengers, seats chosen")

    # when they hold the seats
    page.get_by_role("button", name="Hold seats and continue to payment").click()

    # then the pay page lists both flights; the chosen seats are on the return flight
    page.get_by_role("heading", name="Pay to confirm").wait_for()
    booking = Booking.objects.get(owner=traveller)
    seats: dict[int, list[str]] = {}
    for segment, code in SeatAssignment.objects.filter(booking=booking).values_list("segment", "seat_code"):
        seats.setdefault(segment, []).append(code)
    assert sorted(seats[2]) == ["7C", "7D"]
    assert len(seats[1]) == 2
    web.snap("return pay")

    # when they pay with the simulated card (3,900 × 2 out, 6,000 × 2 back)
    page.get_by_label(re.compile("Visa ending 4242")).check()
    page.get_by_role("button", name="Pay ₹19,800").click()

    # then the e-ticket shows both flights with each traveller's seat
    page.get_by_role("heading", name="E-ticket").wait_for()
    flights = page.locator(".ticket [data-testid='journey-flight']")
    assert flights.count() == 2
    first, second = flights.nth(0).inner_text(), flights.nth(1).inner_text()
    for fact in ("AI205", "09:30", *seats[1]):
        assert fact in first, fact
    for fact in ("AI404", "20:00", "7C", "7D"):
        assert fact in second, fact
    web.snap("return e-ticket")
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    assert Flight.objects.get(pk=outbound.pk).available_seats == 178
    assert Flight.objects.get(pk=later_back.pk).available_seats == 178


def test_without_javascript_the_lists_choose_a_journeys_seats_and_the_other_flight_keeps_its_own(
    browser_page_without_js,
):
    web, page = browser_page_without_js, browser_page_without_js.page
    outbound = route_bom_del().midday  # AI205, business rows 1–2, economy 3–12 at ₹3,900
    back = return_flight(outbound, flight_number="AI806")  # economy at ₹4,500
    web.sign_in_as(UserFactory())

    # given a return trip for two whose seats on flight 1 are chosen already
    web.goto(f"/bookings/new/?flights={outbound.pk}&flights={back.pk}&count=2&seats_1=4C,4D")
    page.get_by_role("link", name="Choose seats on flight 2 (AI806)").click()

    # when the traveller picks flight 2's seats from the lists and continues
    page.get_by_role("heading", name="Choose 2 seats on flight 2 of 2").wait_for()
    page.get_by_label("Traveller 1", exact=True).select_option("9A")
    page.get_by_label("Traveller 2", exact=True).select_option("9B")
    web.snap("journey seat map without javascript")
    page.get_by_role("button", name="Continue to passenger details").click()

    # then the passenger page has both flights' seats, and the total is exact
    page.get_by_role("heading", name="Who is flying?").wait_for()
    trip = page.locator("[data-testid='journey-flight']")
    for fact in ("Traveller 1: seat 4C", "Traveller 2: seat 4D"):
        assert fact in trip.nth(0).inner_text()
    for fact in ("Traveller 1: seat 9A", "Traveller 2: seat 9B"):
        assert fact in trip.nth(1).inner_text()
    assert "Total ₹16,800" in " ".join(page.locator(".summary .total").inner_text().split())
    assert page.url.endswith(f"flights={outbound.pk}&flights={back.pk}&count=2&seats_1=4C,4D&seats_2=9A,9B")
