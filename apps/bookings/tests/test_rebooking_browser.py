"""Staff cancel a flight and rebook its passengers onto a later one, in a real browser at a laptop's
width (1366×900), from the flight operations page; then the traveller's e-mail in the outbox and their
booking on the new flight.

Screenshots of each step are saved under test-artifacts/screenshots/ (apps/core/testing/browser.py).
"""

import pytest

from apps.accounts.tests.factories import UserFactory
from apps.bookings.models import Booking
from apps.bookings.tests.test_flight_operations_browser import book
from apps.core.models import AuditEvent
from apps.core.testing import browser as browser_fixtures
from apps.flights.models import Flight
from apps.flights.tests.test_views import Route, route_bom_del
from apps.notifications.models import Notification
from apps.payments.models import Payment, Refund

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

chromium = browser_fixtures.chromium
browser_page = browser_fixtures.browser_page


@pytest.fixture
def route() -> Route:
    return route_bom_del()


REASON = "A bird strike damaged the aircraft's engine; a replacement cannot reach Mumbai in time."


def test_staff_cancel_a_flight_and_rebook_its_passengers_onto_a_later_one(browser_page, route):
    web, page = browser_page, browser_page.page
    web.use_desktop(browser_fixtures.STAFF_DESKTOP)
    flight, replacement = route.midday, route.evening  # AI205 09:30, AI877 18:45
    traveller = UserFactory(email="asha@example.com", name="Asha Rao")
    other = UserFactory(email="ravi@example.com", name="Ravi Iyer")
    confirmed = book(traveller, flight, [("Asha", "Rao"), ("Dev", "Rao")], ["10A", "3B"], pay=True)
    held = book(other, flight, [("Ravi", "Iyer")], ["1A"], pay=False)
    web.sign_in_as(UserFactory(email="ops@airline.example", name="Ops Desk", staff=True))

    # given the operations page of AI205, staff see the later AI877 offered with its free seats
    web.goto(f"/admin/flights/flight/{flight.pk}/operations/")
    choice = page.get_by_label("Rebook confirmed passengers onto")
    offered = choice.locator("option").all_inner_texts()
    assert offered[0] == "No rebooking: cancel and refund every booking"
    assert [text.split(" · ")[1] for text in offered[1:]] == ["68 free seats"]
    assert offered[1].startswith("AI877 BOM → DEL, ")
    assert "18:45 IST" in offered[1]

    # when they write the reason, choose AI877 and ask to cancel
    page.get_by_label("Reason, told to the travellers").fill(REASON)
    choice.select_option(str(replacement.pk))
    web.snap("cancel and rebook chosen")
    page.get_by_role("button", name="Cancel this flight…").click()

    # then the confirmation says how many bookings move where, and nothing has changed yet
    page.get_by_role("heading", name="Cancel flight AI205?").wait_for()
    plan = page.get_by_test_id("rebook-plan").inner_text()
    assert plan.startswith("1 confirmed booking (2 passengers) will first be moved to AI877, departing ")
    assert Flight.objects.get(pk=flight.pk).status == Flight.Status.SCHEDULED
    web.snap("confirm the cancel and rebooking")
    page.get_by_role("button", name="Yes, cancel flight AI205 and rebook onto AI877").click()

    # then the page reports one booking rebooked and one cancelled, none refunded
    page.get_by_text("AI205 is cancelled. 1 booking rebooked onto AI877").wait_for()
    assert page.get_by_text("1 cancelled, 0 of them refunded.").is_visible()
    assert page.get_by_test_id("flight-status").inner_text() == "Cancelled"
    web.snap("flight cancelled, passengers rebooked")
    confirmed.refresh_from_db()
    assert confirmed.status == Booking.Status.CONFIRMED
    assert confirmed.flight_id == replacement.pk
    assert sorted(confirmed.seat_assignments.values_list("seat_code", "flight_id", "active")) == [
        ("10A", replacement.pk, True),
        ("3B", replacement.pk, True),
    ]
    assert Payment.objects.get(booking=confirmed).status == Payment.Status.SUCCEEDED
    assert not Refund.objects.exists()
    assert Booking.objects.get(pk=held.pk).status == Booking.Status.CANCELLED
    assert AuditEvent.objects.filter(action="rebooked", subject_ref=confirmed.reference).count() == 1

    # and the outbox has the traveller's "your flight has changed" e-mail with the new flight and seats
    web.goto("/admin/notifications/notification/?kind__exact=flight_changed")
    outbox = page.locator("#result_list tbody tr")
    assert outbox.count() == 1
    outbox.locator("th a").click()
    body = page.locator(".field-body_text .readonly").inner_text()
    assert "because flight AI205 has been cancelled" in body
    assert f"Reason: {REASON}" in body
    assert "Seat 10A" in body
    assert "Seat 3B" in body
    web.snap("the flight changed e-mail")
    assert Notification.objects.get(kind=Notification.Kind.FLIGHT_CHANGED).recipient == "asha@example.com"

    # when the traveller opens their booking, it is confirmed on AI877
    web.context.clear_cookies()
    web.sign_in_as(traveller)
    web.use_desktop(browser_fixtures.DESKTOP)
    web.goto(f"/bookings/{confirmed.reference}/")
    assert "AI877" in page.locator("main").inner_text()
    assert page.locator(".badge").text_content() == "Confirmed"
    web.snap("traveller sees the new flight")
