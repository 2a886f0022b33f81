"""The flight operations page in a real browser, end to end, as airline staff use it at a laptop's
width (1366×900): find a flight by its route, open its operations page, read the load and the
manifest, download the manifest, cancel the flight with a reason, then find the e-mails in the
outbox and the audit rows in the admin, and see the reason as the traveller does.

Screenshots of each step are saved under test-artifacts/screenshots/ (apps/core/testing/browser.py).
"""

import csv
import io
import re
import uuid

import pytest

from apps.accounts.tests.factories import UserFactory
from apps.bookings.models import Booking
from apps.bookings.services import booking_hold_create
from apps.core.models import AuditEvent
from apps.core.testing import browser as browser_fixtures
from apps.flights.models import Flight
from apps.flights.tests.factories import FlightFactory
from apps.flights.tests.test_views import Route, route_bom_del
from apps.notifications.models import Notification
from apps.payments.models import Payment, Refund
from apps.payments.services import payment_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

chromium = browser_fixtures.chromium
browser_page = browser_fixtures.browser_page

REASON = "A bird strike damaged the aircraft's engine; a replacement cannot reach Mumbai in time."


@pytest.fixture
def route() -> Route:
    return route_bom_del()


def book(user, flight: Flight, names: list[tuple[str, str]], seats: list[str], *, pay: bool) -> Booking:
    booking = booking_hold_create(
        user=user,
        flight_id=flight.pk,
        passengers=[{"first_name": first, "last_name": last} for first, last in names],
        seats=seats,
    )
    if pay:
        payment_create(
            user=user,
            booking_reference=booking.reference,
            amount=booking.total_amount,
            currency=booking.currency,
            payment_method="tok_visa",
            idempotency_key=str(uuid.uuid4()),
        )
    booking.refresh_from_db()
    return booking


def test_staff_find_a_flight_read_its_manifest_download_it_and_cancel_it_with_a_reason(browser_page, route):
    web, page = browser_page, browser_page.page
    web.use_desktop(browser_fixtures.STAFF_DESKTOP)
    flight = route.midday  # AI205, 09:30 in Mumbai
    traveller = UserFactory(email="asha@example.com", name="Asha Rao")
    other = UserFactory(email="ravi@example.com", name="Ravi Iyer")
    confirmed = book(traveller, flight, [("Asha", "Rao"), ("Dev", "Rao")], ["10A", "3B"], pay=True)
    held = book(other, flight, [("Ravi", "Iyer")], ["1A"], pay=False)
    assert confirmed.status == Booking.Status.CONFIRMED
    web.sign_in_as(UserFactory(email="ops@airline.example", name="Ops Desk", staff=True))

    # given the flight list with another route's flight too, when staff filter it by the route's
    # departure and arrival airports, they see the route's three flights
    FlightFactory(
        flight_number="AI999", departure_time=flight.departure_time, arrival_time=flight.arrival_time
    )
    web.goto("/admin/flights/flight/")
    filters = page.locator("#changelist-filter")
    filters.locator("details", has_text="By departure airport").get_by_role(
        "link", name=re.compile("^BOM ")
    ).click()
    page.wait_for_url(re.compile(r"departure_airport__id__exact="))
    filters.locator("details", has_text="By arrival airport").get_by_role(
        "link", name=re.compile("^DEL ")
    ).click()
    page.wait_for_url(re.compile(r"arrival_airport__id__exact="))
    rows = page.locator("#result_list tbody tr")
    assert sorted(rows.locator("th").all_inner_texts()) == ["AI101", "AI205", "AI877"]
    web.snap("flights found by route")

    # when they open the 09:30 flight's operations page from its row
    rows.filter(has_text="AI205").get_by_role("link", name="Operations").click()
    page.get_by_role("heading", name="Passenger manifest").wait_for()

    # then the flight is shown in Mumbai's time, with its load and its manifest sorted by seat
    assert (
        page.get_by_test_id("departs")
        .inner_text()
        .startswith(f"{route.day:%a} {route.day.day} {route.day:%b %Y}, 09:30 IST")
    )
    load = page.locator("#load")
    assert load.locator("tr[data-cabin='business'] td").all_inner_texts() == ["8", "0", "1", "0", "0", "7"]
    assert load.locator("tr[data-cabin='economy'] td").all_inner_texts() == ["60", "2", "0", "0", "0", "58"]
    manifest = [cells.locator("td").all_inner_texts() for cells in page.locator("#manifest tbody tr").all()]
    assert manifest == [
        ["1A", "Business", "IYER, Ravi", "Adult", held.reference, "Held", "—"],
        ["3B", "Economy", "RAO, Dev", "Adult", confirmed.reference, "Confirmed", "—"],
        ["10A", "Economy", "RAO, Asha", "Adult", confirmed.reference, "Confirmed", "—"],
    ]
    web.snap("operations page")

    # when they download the manifest, then the CSV has the same rows
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    assert download.value.suggested_filename == f"manifest-AI205-{route.day.isoformat()}.csv"
    content = open(download.value.path(), encoding="utf-8-sig").read()  # noqa: SIM115 (Playwright's temp file)
    assert list(csv.reader(io.StringIO(content))) == [
        [
            "Seat",
            "Cabin",
            "First name",
            "Last name",
            "Type",
            "Booking",
            "Booking state",
            "Checked in",
            "Infant on lap",
        ],
        ["1A", "Business", "Ravi", "Iyer", "Adult", held.reference, "Held", "no", ""],
        ["3B", "Economy", "Dev", "Rao", "Adult", confirmed.reference, "Confirmed", "no", ""],
        ["10A", "Economy", "Asha", "Rao", "Adult", confirmed.reference, "Confirmed", "no", ""],
    ]

    # when they cancel the flight with a reason, they are asked to confirm what it will do
    page.get_by_label("Reason, told to the travellers").fill(REASON)
    web.snap("reason written")
    page.get_by_role("button", name="Cancel this flight…").click()
    page.get_by_role("heading", name="Cancel flight AI205?").wait_for()
    consequences = page.get_by_test_id("cancel-consequences").inner_text()
    assert "2 bookings will be cancelled" in consequences
    assert "1 confirmed booking will be refunded in full (₹" in consequences
    assert page.get_by_test_id("reason").inner_text() == REASON
    assert Flight.objects.get(pk=flight.pk).status == Flight.Status.SCHEDULED
    web.snap("confirm the cancel")
    page.get_by_role("button", name="Yes, cancel flight AI205").click()

    # then the page says it is done and shows the reason; the bookings are cancelled, the paid one refunded
    page.get_by_text("AI205 is cancelled.").wait_for()
    assert page.get_by_test_id("flight-status").inner_text() == "Cancelled"
    assert page.get_by_test_id("cancellation-reason").inner_text() == REASON
    assert page.get_by_text("it can no longer be cancelled").is_visible()
    web.snap("flight cancelled")
    assert set(Booking.objects.filter(flight=flight).values_list("status", flat=True)) == {"cancelled"}
    payment = Payment.objects.get(booking=confirmed)
    assert payment.status == Payment.Status.REFUNDED
    assert Refund.objects.get(payment=payment).amount == confirmed.total_amount
    assert Flight.objects.get(pk=flight.pk).available_seats == flight.total_seats

    # and the outbox has each traveller's "flight cancelled" e-mail with the reason
    web.goto("/admin/notifications/notification/?kind__exact=flight_cancelled")
    outbox = page.locator("#result_list tbody tr")
    assert outbox.count() == 2
    assert sorted(outbox.locator("td.field-recipient").all_inner_texts()) == [
        "asha@example.com",
        "ravi@example.com",
    ]
    web.snap("e-mails in the outbox")
    outbox.filter(has_text="asha@example.com").locator("th a").click()
    body = page.locator(".field-body_text .readonly").inner_text()
    assert f"Reason: {REASON}" in body
    assert "A full refund of INR 7,800" in body
    web.snap("the e-mail")
    email = Notification.objects.get(booking=confirmed, kind=Notification.Kind.FLIGHT_CANCELLED)
    assert email.recipient == "asha@example.com"

    # and the flight's audit trail has its cancel by this staff member, with the reason
    web.goto(f"/admin/flights/flight/{flight.pk}/operations/")
    page.get_by_role("link", name="Audit trail of this flight").click()
    audit = page.locator("#result_list tbody tr")
    assert audit.count() == 1
    assert "Flight cancelled by staff" in audit.inner_text()
    assert "ops@airline.example" in audit.inner_text()
    web.snap("audit trail of the flight")
    web.goto(f"/admin/core/auditevent/?q={confirmed.reference}")
    actions = page.locator("#result_list tbody td.field-action").all_inner_texts()
    assert sorted(actions) == [
        "Booking created (held)",
        "Cancelled by staff",
        "Paid (booking confirmed)",
        "Refunded by staff",
    ]
    web.snap("audit trail of a booking")
    flight_event = AuditEvent.objects.get(action=AuditEvent.Action.FLIGHT_CANCELLED)
    assert flight_event.detail["reason"] == REASON

    # when the traveller opens their booking, then they read the reason
    web.context.clear_cookies()
    web.sign_in_as(traveller)
    web.use_desktop(browser_fixtures.DESKTOP)
    web.goto(f"/bookings/{confirmed.reference}/")
    notice = page.get_by_test_id("flight-cancelled")
    assert notice.inner_text() == f"The airline cancelled flight AI205. Reason: {REASON}"
    assert page.locator(".badge").text_content() == "Cancelled"
    web.snap("traveller reads the reason")
