"""The staff admin in a real browser at 1366×900, as airline staff use it: find a flight by route and
by city, cancel it, follow it to its bookings, find a booking by a passenger's name, read the e-mails
sent and the audit rows.

Headless Chromium (Debian's) driven by Playwright against the live server; each step is saved as a
screenshot under test-artifacts/screenshots/<test name>/ (apps/core/testing/browser.py).
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.bookings.models import Booking
from apps.bookings.services import booking_hold_create
from apps.core.testing import browser as browser_fixtures
from apps.flights.tests.factories import AirportFactory, CityFactory, FlightFactory
from apps.notifications.models import Notification

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

chromium = browser_fixtures.chromium
browser_page = browser_fixtures.browser_page

LAPTOP = {"width": 1366, "height": 900}

# How far the results table overflows its area, and the page its window (0 when it fits).
OVERFLOW = """() => {
    const results = document.querySelector('#changelist .results');
    return {
        results: results.scrollWidth - results.clientWidth,
        page: document.documentElement.scrollWidth - document.documentElement.clientWidth,
    };
}"""
# The column headers whose right edge lies inside the window, as staff see them without scrolling.
VISIBLE_HEADERS = """() => [...document.querySelectorAll('#result_list thead th')]
    .filter(th => th.getBoundingClientRect().right <= window.innerWidth)
    .map(th => th.textContent.trim())"""


class StaffDesk:
    """The browser session at laptop size, recording Content-Security-Policy reports from any frame."""

    def __init__(self, web) -> None:
        self.web, self.page = web, web.page
        self.page.set_viewport_size(LAPTOP)
        self.csp_reports: list[str] = []
        self.page.on("console", self._console)

    def _console(self, message) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            self.csp_reports.append(message.text)

    def open(self, path: str) -> None:
        self.web.goto(path)
        self.page.wait_for_load_state("load")

    def search(self, term: str) -> None:
        self.page.fill("#searchbar", term)
        self.page.press("#searchbar", "Enter")
        self.page.wait_for_load_state("load")

    def rows(self) -> list[str]:
        return [
            row.inner_text().replace("\xa0", " ") for row in self.page.locator("#result_list tbody tr").all()
        ]

    def snap(self, name: str, *, full_page: bool = True) -> None:
        """A screenshot at 1366 px wide, as step NN-name (of the window where a frame must show: a
        full-page shot resizes the window and Chromium captures a frame blank then)."""
        self.page.wait_for_load_state("load")
        self.web.steps.append(name)
        self.web.screenshot_dir.mkdir(parents=True, exist_ok=True)
        stem = f"{len(self.web.steps):02d}-{re.sub(r'[^a-z0-9]+', '-', name.lower()).strip('-')}"
        self.page.screenshot(path=str(self.web.screenshot_dir / f"{stem}-1366.png"), full_page=full_page)

    def assert_fits(self) -> None:
        overflow = self.page.evaluate(OVERFLOW)
        assert overflow == {"results": 0, "page": 0}, overflow


@pytest.fixture
def sydney_route():
    melbourne = AirportFactory(
        iata_code="MEL",
        name="Melbourne Tullamarine",
        city=CityFactory(name="Melbourne", country="AU"),
        time_zone="Australia/Melbourne",
    )
    sydney = AirportFactory(
        iata_code="SYD",
        name="Sydney Kingsford Smith",
        city=CityFactory(name="Sydney", country="AU"),
        time_zone="Australia/Sydney",
    )
    departure = timezone.now().replace(second=0, microsecond=0) + timedelta(days=3)
    flight = FlightFactory(
        flight_number="QF401", departure_airport=melbourne, arrival_airport=sydney, departure_time=departure
    )
    for number in range(8):  # other flights, so the list is a list
        FlightFactory(departure_time=departure + timedelta(hours=number + 1))
    return flight


def test_staff_find_a_flight_cancel_it_and_follow_its_bookings_emails_and_audit_rows(
    browser_page, staff_user, customer, sydney_route
):
    flight = sydney_route
    asha = booking_hold_create(
        user=customer, flight_id=flight.pk, passengers=[{"first_name": "Asha", "last_name": "Rao"}]
    )
    booking_hold_create(
        user=customer, flight_id=flight.pk, passengers=[{"first_name": "Vikram", "last_name": "Shah"}]
    )
    desk = StaffDesk(browser_page)
    page = desk.page
    browser_page.sign_in_as(staff_user)

    # The flights list fits a 1366 px laptop with what staff need in view.
    desk.open("/admin/flights/flight/")
    desk.snap("flights list")
    desk.assert_fits()
    assert {"Departs (local)", "Status", "Seats free", "Fare", "Bookings"} <= set(
        page.evaluate(VISIBLE_HEADERS)
    )
    assert page.title() == "Select flight to change | Airline staff"

    # Found by route, then by city; the departure in the airport's local time, UTC on hover.
    desk.search("MEL-SYD")
    desk.snap("found by route")
    (row,) = desk.rows()
    assert "QF401" in row
    assert "MEL → SYD" in row
    local = page.locator("#result_list td.field-departure time")
    assert re.fullmatch(r"\w{3} \d{1,2} \w{3} \d\d:\d\d AE[DS]T", local.inner_text())
    assert local.get_attribute("title").endswith(" UTC")
    desk.search("Melbourne")
    assert [row for row in desk.rows() if "QF401" in row]
    desk.assert_fits()

    # Cancelled through the list's action.
    page.check(f'input.action-select[value="{flight.pk}"]')
    page.select_option("select[name=action]", "cancel_flights")
    page.click("button[name=index]")
    page.wait_for_load_state("load")
    assert page.locator(".messagelist .success").first.inner_text().startswith(f"{flight}: cancelled.")
    desk.snap("flight cancelled")

    # From the flight's page to its bookings: both cancelled.
    page.click("#result_list a:text('QF401')")
    page.click("a.airline-bookings-link")
    page.wait_for_load_state("load")
    desk.snap("the cancelled flight's bookings")
    desk.assert_fits()
    rows = desk.rows()
    assert len(rows) == 2
    assert all("Cancelled" in row for row in rows)

    # A booking found by its passenger's name.
    desk.open("/admin/bookings/booking/")
    desk.search("Asha Rao")
    desk.snap("booking found by passenger name")
    (row,) = desk.rows()
    assert asha.reference in row
    assert "Asha Rao" in row

    # The e-mail the airline sent about it, rendered in its frame with its own styles.
    email = Notification.objects.get(booking=asha, kind=Notification.Kind.FLIGHT_CANCELLED)
    desk.open("/admin/notifications/notification/")
    desk.assert_fits()
    desk.search(asha.reference)
    desk.snap("e-mails of the booking")
    desk.open(f"/admin/notifications/notification/{email.pk}/change/")
    page.locator("iframe.airline-email-preview").scroll_into_view_if_needed()
    frame = page.frame_locator("iframe.airline-email-preview")
    frame.get_by_text(asha.reference, exact=True).first.wait_for()
    height = page.locator("iframe.airline-email-preview").evaluate("frame => frame.clientHeight")
    assert height > 300
    assert page.locator("input[name=_save]").count() == 0
    assert page.locator("a.deletelink").count() == 0
    desk.snap("the e-mail, read-only", full_page=False)

    # The audit rows of the booking.
    desk.open("/admin/core/auditevent/")
    desk.search(asha.reference)
    desk.snap("audit rows of the booking")
    desk.assert_fits()
    actions = " ".join(desk.rows())
    assert "Booking created (held)" in actions
    assert "Cancelled by staff" in actions or "Flight cancelled" in actions

    assert desk.csp_reports == []
    assert Booking.objects.get(pk=asha.pk).status == Booking.Status.CANCELLED


def test_an_unsent_email_is_previewed_styled_with_no_policy_violation(browser_page, staff_user, customer):
    from apps.bookings import events
    from apps.notifications.tests.support import booking_make

    booking = booking_make(owner=customer)
    events.booking_held.publish(events.BookingHeld(booking=booking))
    email = Notification.objects.get(booking=booking)
    desk = StaffDesk(browser_page)
    browser_page.sign_in_as(staff_user)

    desk.open(f"/admin/notifications/notification/{email.pk}/change/")
    desk.page.locator("iframe.airline-email-preview").scroll_into_view_if_needed()
    frame = desk.page.frame_locator("iframe.airline-email-preview")
    frame.get_by_text(booking.reference, exact=True).first.wait_for()
    desk.snap("e-mail preview", full_page=False)

    frame_box = desk.page.locator("iframe.airline-email-preview").bounding_box()
    assert frame_box["height"] > 300
    assert frame_box["width"] > 300
    # Its inline styles applied (email_base.html gives the body a background), which a frame under
    # the admin's own policy refuses.
    background = frame.locator("body").evaluate("body => getComputedStyle(body).backgroundColor")
    assert background == "rgb(238, 242, 247)"
    assert desk.csp_reports == []
