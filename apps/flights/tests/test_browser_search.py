"""Searching in a real browser: places typed as words, the day strip, refused fields, phones.

Headless Chromium (Debian's) driven by Playwright against the live server; each step is saved as a
screenshot at desktop and phone widths under test-artifacts/screenshots/.
"""

import re
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from apps.core.testing import browser as browser_fixtures
from apps.flights.tests.conftest import at
from apps.flights.tests.factories import AirportFactory, CityFactory, FlightFactory
from apps.flights.tests.test_views import Route, route_bom_del

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

chromium = browser_fixtures.chromium
browser_page = browser_fixtures.browser_page
browser_page_without_js = browser_fixtures.browser_page_without_js


@pytest.fixture
def route() -> Route:
    return route_bom_del()


def flight_numbers(page) -> list[str]:
    return page.locator("[data-flight-number]").evaluate_all("els => els.map(e => e.dataset.flightNumber)")


def search_for(page, origin: str, destination: str, day: str | None = None) -> None:
    """Types into the search box and presses Search, without touching the suggestions."""
    page.get_by_label("From").fill(origin)
    page.get_by_label("To").fill(destination)
    if day:
        page.get_by_label("Date").fill(day)
    page.get_by_label("To").press("Escape")  # closes the suggestion list the browser may show
    page.get_by_role("button", name="Search flights").click()


def test_typing_city_names_and_pressing_search_finds_the_flights(browser_page, route):
    web, page = browser_page, browser_page.page

    # given the home page, when the traveller types "Mumbai" and "Delhi" and presses Search
    web.goto("/")
    search_for(page, "Mumbai", "Delhi", route.day.isoformat())

    # then the flights are found under the cities' names
    page.get_by_role("heading", name="Mumbai → Delhi").wait_for()
    assert flight_numbers(page) == ["AI101", "AI205", "AI877"]
    web.snap("mumbai to delhi typed")


def test_without_javascript_a_former_name_finds_the_flights(browser_page_without_js, route):
    web, page = browser_page_without_js, browser_page_without_js.page

    web.goto("/")
    search_for(page, "Bombay", "new delhi", route.day.isoformat())

    page.get_by_role("heading", name="Mumbai → Delhi").wait_for()
    assert flight_numbers(page) == ["AI101", "AI205", "AI877"]
    web.snap("bombay without javascript")


def test_the_suggestion_list_still_offers_airports(browser_page, route):
    web, page = browser_page, browser_page.page

    web.goto("/")
    page.get_by_label("From").fill("Mum")

    page.locator("datalist option[value='BOM']").wait_for(state="attached")


def test_a_search_from_london_covers_all_of_its_airports(browser_page, jfk_in_new_york):
    web, page = browser_page, browser_page.page
    day = jfk_in_new_york

    web.goto("/")
    search_for(page, "london", "New York", day.isoformat())

    page.get_by_role("heading", name="London → New York").wait_for()
    assert flight_numbers(page) == ["AX100", "AX200"]
    places = page.locator(".flight__place").all_inner_texts()
    assert any(text.startswith("LHR") for text in places)
    assert any(text.startswith("LGW") for text in places)
    assert "LGW, LHR" in page.locator("[data-airports]").inner_text()
    web.snap("london covers heathrow and gatwick")


@pytest.fixture
def jfk_in_new_york(db):
    london = CityFactory(name="London", country="GB")
    lhr = AirportFactory(
        iata_code="LHR", name="London Heathrow Airport", city=london, time_zone="Europe/London"
    )
    lgw = AirportFactory(
        iata_code="LGW", name="London Gatwick Airport", city=london, time_zone="Europe/London"
    )
    jfk = AirportFactory(
        iata_code="JFK",
        name="John F Kennedy International Airport",
        city=CityFactory(name="New York", country="US"),
        time_zone="America/New_York",
    )
    day = timezone.now().astimezone(ZoneInfo("Europe/London")).date() + timedelta(days=4)
    for number, origin, hour in (("AX100", lhr, 9), ("AX200", lgw, 12)):
        departs = at(day, hour, 0, "Europe/London")
        FlightFactory(
            flight_number=number,
            departure_airport=origin,
            arrival_airport=jfk,
            departure_time=departs,
            arrival_time=departs + timedelta(hours=8),
            base_fare=Decimal("41000.00"),
        )
    return day


def test_an_unknown_place_is_marked_on_its_field(browser_page, route):
    web, page = browser_page, browser_page.page

    web.goto("/")
    search_for(page, "Mumbai", "Atlantis", route.day.isoformat())

    page.get_by_role("heading", name="Check your search").wait_for()
    destination = page.get_by_label("To")
    assert destination.get_attribute("aria-invalid") == "true"
    assert destination.input_value() == "Atlantis"
    field = page.locator(".field", has=destination)
    assert "No airport or city called “Atlantis”" in field.inner_text()
    web.snap("unknown place")


def test_the_day_strip_links_to_each_day_and_marks_the_chosen_one(browser_page_without_js, route):
    web, page = browser_page_without_js, browser_page_without_js.page
    next_day = route.day + timedelta(days=1)
    FlightFactory(
        flight_number="AI999",
        airplane=route.early.airplane,
        departure_airport=route.early.departure_airport,
        arrival_airport=route.early.arrival_airport,
        departure_time=route.early.departure_time + timedelta(days=1),
        arrival_time=route.early.arrival_time + timedelta(days=1),
        base_fare=Decimal("2999.00"),
    )

    web.goto(f"/flights/?origin=Mumbai&destination=Delhi&date={route.day.isoformat()}&travellers=1")
    strip = page.get_by_role("navigation", name="Fares on nearby days")
    assert strip.locator("[aria-current='date']").get_attribute("data-day") == route.day.isoformat()
    assert "₹3,900" in strip.locator("[aria-current='date']").inner_text()
    web.snap("day strip")

    # when the traveller follows the next day's link
    strip.locator(f"a[data-day='{next_day.isoformat()}']").click()

    # then that day's search is shown, marked as chosen in the strip
    page.wait_for_url(re.compile(f"date={next_day.isoformat()}"))
    assert flight_numbers(page) == ["AI999"]
    strip = page.get_by_role("navigation", name="Fares on nearby days")
    assert strip.locator("[aria-current='date']").get_attribute("data-day") == next_day.isoformat()
    web.snap("next day from the strip")


def test_a_refused_fare_filter_is_marked_and_the_refine_panel_stays(browser_page, route):
    web, page = browser_page, browser_page.page
    web.goto(f"/flights/?origin=BOM&destination=DEL&date={route.day.isoformat()}&travellers=1")

    # when the traveller asks for fares from 9000 to 100
    page.get_by_label("Lowest fare").fill("9000")
    page.get_by_label("Highest fare").fill("100")
    page.get_by_role("button", name="Apply").click()

    # then the highest fare is marked where it was typed, and the panel is still there
    page.get_by_role("heading", name="Check your search").wait_for()
    highest = page.get_by_label("Highest fare")
    assert highest.is_visible()
    assert highest.get_attribute("aria-invalid") == "true"
    assert highest.input_value() == "100"
    assert "at least the lowest" in page.locator(".field", has=highest).inner_text()
    assert page.get_by_role("button", name="Apply").is_visible()
    web.snap("fares the wrong way round")


@pytest.mark.parametrize(
    ("query", "label", "message"),
    [
        ("sort=bogus", "Sort by", "Select a valid choice"),
        ("price_min=-5", "Lowest fare", "greater than or equal to 0"),
    ],
)
def test_a_refused_filter_in_the_link_is_marked(browser_page_without_js, route, query, label, message):
    web, page = browser_page_without_js, browser_page_without_js.page

    web.goto(f"/flights/?origin=BOM&destination=DEL&date={route.day.isoformat()}&travellers=1&{query}")

    page.get_by_role("heading", name="Check your search").wait_for()
    field = page.get_by_label(label)
    assert field.is_visible()  # the refine panel is open, without JavaScript too
    assert field.get_attribute("aria-invalid") == "true"
    assert message in page.locator(".field", has=field).inner_text()
    assert page.get_by_role("link", name=label).is_visible()  # in the list of what to correct


def test_a_past_date_is_refused_and_the_date_picker_starts_today(browser_page, route):
    web, page = browser_page, browser_page.page
    past = (timezone.now() - timedelta(days=3)).date().isoformat()

    web.goto("/")
    assert (
        page.get_by_label("Date").get_attribute("min")
        >= (timezone.now() - timedelta(days=1)).date().isoformat()
    )
    web.goto(f"/flights/?origin=BOM&destination=DEL&date={past}&travellers=1")

    page.get_by_role("heading", name="Check your search").wait_for()
    date_field = page.get_by_label("Date")
    assert date_field.get_attribute("aria-invalid") == "true"
    assert "That day has passed" in page.locator(".field", has=date_field).inner_text()
    assert "0 flights" not in page.content()
    web.snap("past date")


def test_a_shared_link_without_travellers_is_for_one(browser_page_without_js, route):
    web, page = browser_page_without_js, browser_page_without_js.page

    web.goto(f"/flights/?origin=BOM&destination=DEL&date={route.day.isoformat()}")

    page.get_by_role("heading", name="BOM → DEL").wait_for()
    assert "1 traveller" in page.locator(".page-head").inner_text()
    assert flight_numbers(page) == ["AI101", "AI205", "AI877"]


def test_on_a_phone_sort_and_fare_filters_come_before_the_results(browser_page, route):
    web, page = browser_page, browser_page.page
    page.set_viewport_size(browser_fixtures.PHONE)

    web.goto(f"/flights/?origin=BOM&destination=DEL&date={route.day.isoformat()}&travellers=1")

    # then the folded refine panel is on the first screen, above the first result
    refine = page.get_by_text("Refine", exact=True)
    first_result = page.locator("[data-flight-number]").first
    assert refine.bounding_box()["y"] < min(first_result.bounding_box()["y"], 844)
    assert not page.get_by_label("Sort by").is_visible()  # folded

    # when the traveller unfolds it and sorts by price
    refine.click()
    page.get_by_label("Sort by").select_option("price_asc")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile("sort=price_asc"))
    assert flight_numbers(page) == ["AI205", "AI101", "AI877"]

    # and on a desktop the panel stands open beside the results
    page.set_viewport_size(browser_fixtures.DESKTOP)
    page.reload()
    sort = page.get_by_label("Sort by")
    assert sort.is_visible()
    assert (
        sort.bounding_box()["x"] + sort.bounding_box()["width"]
        <= page.locator("[data-flight-number]").first.bounding_box()["x"]
    )
    web.snap("refine beside the results")
