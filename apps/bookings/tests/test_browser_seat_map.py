"""The seat map with a keyboard and a screen reader: one tab stop, arrow keys, spoken seat names.

The keys are airline.js's `seatPicker`; the names are templates/flights/flight_detail.html's.
"""

import re

import pytest
from playwright.sync_api import expect

from apps.accounts.tests.factories import UserFactory
from apps.bookings.services import booking_hold_create
from apps.core.testing import browser as browser_fixtures
from apps.flights.tests.test_views import Route, route_bom_del

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

chromium = browser_fixtures.chromium
browser_page = browser_fixtures.browser_page
browser_page_without_js = browser_fixtures.browser_page_without_js


@pytest.fixture
def route() -> Route:
    route = route_bom_del()
    booking_hold_create(
        user=UserFactory(),
        flight_id=route.midday.pk,
        passengers=[{"first_name": "A", "last_name": "B"}],
        seats=["3B"],
    )
    return route


def seat(page, name: str):
    return page.get_by_role("button", name=name, exact=True)


def test_the_seat_map_is_one_tab_stop_and_arrow_keys_move_and_choose(browser_page, route):
    web, page = browser_page, browser_page.page
    web.sign_in_as(UserFactory())
    web.goto(f"/flights/{route.midday.pk}/?travellers=2")

    # given the first seat, named with its row, letter, cabin, fare and state
    first = seat(page, "Row 1, seat A, Business, ₹18,500, available")
    first.focus()

    # then one Tab leaves the whole map for the next control, and Shift+Tab comes back to that seat
    page.keyboard.press("Tab")
    expect(page.get_by_label("Traveller 1", exact=True)).to_be_focused()
    page.keyboard.press("Shift+Tab")
    expect(first).to_be_focused()
    assert page.locator(".seatmap button[tabindex='0']").count() == 1

    # when the arrows move along the row and down, to a taken seat, which is heard as taken
    page.keyboard.press("ArrowRight")
    expect(seat(page, "Row 1, seat C, Business, ₹18,500, available")).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(seat(page, "Row 2, seat C, Business, ₹18,500, available")).to_be_focused()
    page.keyboard.press("ArrowDown")
    taken = seat(page, "Row 3, seat B, Economy, ₹3,900, taken")
    expect(taken).to_be_focused()
    page.keyboard.press("Enter")  # a taken seat cannot be chosen
    assert page.get_by_label("Traveller 1", exact=True).input_value() == ""
    page.keyboard.press("End")
    expect(seat(page, "Row 3, seat F, Economy, ₹3,900, available")).to_be_focused()
    page.keyboard.press("Home")
    expect(seat(page, "Row 3, seat A, Economy, ₹3,900, available")).to_be_focused()

    # and Space and Enter choose a seat for each traveller in turn
    page.keyboard.press("Space")
    chosen = seat(page, "Row 3, seat A, Economy, ₹3,900, chosen for traveller 1")
    expect(chosen).to_be_focused()
    assert chosen.get_attribute("aria-pressed") == "true"
    page.keyboard.press("ArrowUp")
    expect(seat(page, "Row 2, seat A, Business, ₹18,500, available")).to_be_focused()
    page.keyboard.press("Enter")
    expect(seat(page, "Row 2, seat A, Business, ₹18,500, chosen for traveller 2")).to_be_focused()
    assert page.get_by_label("Traveller 1", exact=True).input_value() == "3A"
    assert page.get_by_label("Traveller 2", exact=True).input_value() == "2A"
    web.snap("seat map by keyboard")

    # then the map is still one tab stop, now the seat last moved to
    page.keyboard.press("Tab")
    expect(page.get_by_label("Traveller 1", exact=True)).to_be_focused()
    page.keyboard.press("Shift+Tab")
    expect(seat(page, "Row 2, seat A, Business, ₹18,500, chosen for traveller 2")).to_be_focused()
    assert page.locator(".seatmap button[tabindex='0']").count() == 1
    page.get_by_role("button", name="Continue to passenger details").click()
    page.get_by_role("heading", name="Who is flying?").wait_for()
    assert "seats=3A&seats=2A" in page.url


def test_without_javascript_the_map_is_one_tab_stop_and_the_lists_choose(browser_page_without_js, route):
    web, page = browser_page_without_js, browser_page_without_js.page
    web.sign_in_as(UserFactory())
    web.goto(f"/flights/{route.midday.pk}/?travellers=1&seats=5C")

    # the tab stop is the seat already chosen, and the next Tab reaches the list of seats
    chosen = page.get_by_role("button", name=re.compile(r"^Row 5, seat C, Economy, ₹3,900, "))
    assert chosen.get_attribute("tabindex") == "0"
    assert page.locator(".seatmap button[tabindex='0']").count() == 1
    assert seat(page, "Row 3, seat B, Economy, ₹3,900, taken").get_attribute("aria-disabled") == "true"
    chosen.focus()
    page.keyboard.press("Tab")
    expect(page.get_by_label("Traveller 1", exact=True)).to_be_focused()
    web.snap("seat map without javascript")

    page.get_by_label("Traveller 1", exact=True).select_option("4D")
    page.get_by_role("button", name="Continue to passenger details").click()
    page.get_by_role("heading", name="Who is flying?").wait_for()
    assert "seats=4D" in page.url
