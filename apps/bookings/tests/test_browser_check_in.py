"""Online check-in in real Chromium: from the e-ticket to a boarding pass whose barcode, read back from
a screenshot of the page, carries the passenger's IATA BCBP string. Pages are saved at desktop and
phone widths under test-artifacts/screenshots/."""

import io
from datetime import timedelta

import pytest
import zxingcpp
from django.utils import timezone
from PIL import Image

from apps.accounts.tests.factories import UserFactory
from apps.bookings.boarding import bcbp_fields
from apps.bookings.services import booking_hold_create
from apps.bookings.tests.factories import booking_flight
from apps.core.testing import browser as browser_fixtures
from apps.payments.tests.factories import booking_paid

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

chromium = browser_fixtures.chromium
browser_page = browser_fixtures.browser_page
browser_page_without_js = browser_fixtures.browser_page_without_js


def paid_booking(owner):
    departure = timezone.now().replace(microsecond=0) + timedelta(hours=20)
    flight = booking_flight(
        flight_number="AI202", departure_time=departure, arrival_time=departure + timedelta(hours=2)
    )
    booking = booking_hold_create(
        user=owner,
        flight_id=flight.pk,
        passengers=[{"first_name": "Asha", "last_name": "Rao"}, {"first_name": "Vikram", "last_name": "Rao"}],
        seats=["4A", "4B"],
    )
    return booking_paid(booking)


def test_check_in_from_the_e_ticket_to_a_boarding_pass_a_scanner_reads(browser_page):
    web, page = browser_page, browser_page.page
    owner = UserFactory()
    booking = paid_booking(owner)
    web.sign_in_as(owner)

    web.goto(f"/bookings/{booking.reference}/")
    page.get_by_role("link", name="Check in online").click()
    page.get_by_role("heading", name="Online check-in").wait_for()
    page.get_by_label("Seat of Asha Rao").select_option("12F")
    web.snap("check in")
    page.get_by_role("button", name="Check in").click()
    page.get_by_text("You are checked in").wait_for()
    web.snap("checked in")

    page.get_by_role("link", name="Boarding pass: Asha RAO").click()
    page.get_by_role("heading", name="Boarding pass").wait_for()
    assert page.get_by_test_id("seat").inner_text() == "12F"
    web.snap("boarding pass")
    shot = page.get_by_test_id("barcode").locator("svg").screenshot()

    (barcode,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(shot)))
    fields = bcbp_fields(barcode.text)
    assert fields["format_code"] + fields["legs"] == "M1"
    assert fields["passenger_name"].strip() == "RAO/ASHA"
    assert fields["pnr"].strip() == booking.reference
    assert fields["carrier"].strip() + fields["flight_number"].strip() == "AI0202"
    assert fields["seat"] == "012F"
    assert fields["check_in_number"].strip() == "0001"
    assert fields["passenger_status"] == "1"


def test_check_in_works_without_javascript(browser_page_without_js):
    web, page = browser_page_without_js, browser_page_without_js.page
    owner = UserFactory()
    booking = paid_booking(owner)
    web.sign_in_as(owner)

    web.goto(f"/bookings/{booking.reference}/check-in/")
    page.get_by_role("button", name="Check in").click()

    page.get_by_text("You are checked in").wait_for()
    assert page.get_by_role("link", name="Boarding pass: Vikram RAO").is_visible()


def test_a_traveller_without_an_account_finds_the_booking_checks_in_and_opens_the_pass(browser_page):
    web, page = browser_page, browser_page.page
    booking = paid_booking(UserFactory())

    web.goto("/")
    page.get_by_role("link", name="Manage booking").click()
    page.get_by_role("heading", name="Manage a booking").wait_for()
    page.get_by_label("Booking reference").fill(booking.reference.lower())
    page.get_by_label("Last name").fill("rao")
    web.snap("manage booking")
    page.get_by_role("button", name="Find my booking").click()
    page.get_by_role("heading", name="E-ticket").wait_for()
    web.snap("booking found")

    page.get_by_role("link", name="Check in online").click()
    page.get_by_role("button", name="Check in").click()
    page.get_by_text("You are checked in").wait_for()
    page.get_by_role("link", name="Boarding pass: Vikram RAO").click()
    page.get_by_role("heading", name="Boarding pass").wait_for()

    assert page.get_by_test_id("passenger").inner_text() == "RAO / VIKRAM"
