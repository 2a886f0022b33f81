"""A traveller changes their flight in a real browser: from the e-ticket to the day's flights with what
each change costs, to the confirm page with the quote and the card, paid once, to the e-ticket of the
new flight; every page axe-checked at desktop and phone widths (docs/FARES.md, "Changing a flight")."""

from decimal import Decimal

import pytest

from apps.accounts.tests.factories import UserFactory
from apps.bookings.models import Booking, FlightChange, SeatAssignment
from apps.bookings.services import booking_hold_create
from apps.core.testing import browser as browser_fixtures
from apps.flights.tests.factories import flight_with_families
from apps.flights.tests.test_views import Route, route_bom_del
from apps.notifications.models import Notification
from apps.payments.models import GatewayCharge, Payment
from apps.payments.tests.factories import booking_paid

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

chromium = browser_fixtures.chromium
browser_page = browser_fixtures.browser_page


@pytest.fixture
def route() -> Route:
    return route_bom_del()


def words(locator) -> str:
    return " ".join(locator.inner_text().split())


def test_changing_to_a_later_flight_shows_the_price_charges_it_once_and_moves_the_seat(browser_page, route):
    # given a paid Economy Saver booking on the 06:00 flight (₹4,500) and the evening flight selling the
    # Saver at ₹5,000 (the Saver's change fee is ₹3,000)
    prices = {"ECO_FLEX": "6200.00", "BUS_FLEX": "15000.00"}
    flight_with_families(route.early, {"ECO_SAVER": "4500.00", **prices})
    flight_with_families(route.evening, {"ECO_SAVER": "5000.00", **prices})
    traveller = UserFactory(email="meera@example.com", name="Meera Rao")
    booking = booking_paid(
        booking_hold_create(
            user=traveller,
            flight_id=route.early.pk,
            passengers=[{"first_name": "Meera", "last_name": "Rao"}],
            seats=["6A"],
            fare_family="ECO_SAVER",
        )
    )
    web, page = browser_page, browser_page.page
    web.sign_in_as(traveller)

    # when they press Change flight on the e-ticket
    web.goto(f"/bookings/{booking.reference}/")
    page.get_by_role("link", name=f"Change flight {route.early.flight_number}").click()

    # then the day's other flights on the route are listed with what changing to each costs
    page.get_by_role("heading", name=f"Change flight {route.early.flight_number}").wait_for()
    evening = page.locator(
        f'[data-testid="change-option"][data-flight-number="{route.evening.flight_number}"]'
    )
    assert "₹3,500 to pay" in words(evening)
    assert "Fare: ₹500 more · change fee ₹3,000" in words(evening)
    midday = page.locator(f'[data-testid="change-option"][data-flight-number="{route.midday.flight_number}"]')
    assert "does not sell your fare, Economy Saver." in words(midday)
    web.snap("the day's flights with the price of each change")

    # when they choose the evening flight
    page.get_by_role("link", name=f"Choose {route.evening.flight_number} departing 18:45").click()

    # then the confirm page shows the quote before anything is charged
    quote = page.get_by_test_id("change-quote")
    quote.wait_for()
    assert "₹4,500" in quote.inner_text()
    assert "₹5,000" in quote.inner_text()
    assert page.get_by_test_id("change-total").inner_text() == "₹3,500"
    web.snap("the change's quote and the card")
    assert not Payment.objects.filter(kind=Payment.Kind.CHANGE).exists()

    # when they pay with the test card
    page.get_by_role("button", name="Pay ₹3,500 and change").click()
    page.get_by_text(f"Your flight is changed to {route.evening.flight_number}.").wait_for()

    # then the e-ticket shows the evening flight, ₹3,500 was charged once and the seat moved
    assert page.get_by_text("We charged ₹3,500 to your card.").is_visible()
    assert "Paid ₹8,000" in words(page.get_by_test_id("money"))  # ₹4,500 and ₹3,500
    assert "₹3,500 of it for flight changes." in words(page.get_by_test_id("money"))
    web.snap("the e-ticket of the new flight")
    booking.refresh_from_db()
    assert booking.flight_id == route.evening.pk
    seat = SeatAssignment.objects.get(booking=booking)
    assert (seat.flight_id, seat.seat_code, seat.fare, seat.active) == (
        route.evening.pk,
        "6A",
        Decimal("5000.00"),
        True,
    )
    change = FlightChange.objects.get(booking=booking)
    assert (change.status, change.amount_due) == (FlightChange.Status.DONE, Decimal("3500.00"))
    charged = GatewayCharge.objects.filter(
        idempotency_key__in=Payment.objects.filter(kind=Payment.Kind.CHANGE).values("gateway_idempotency_key")
    )
    assert [(charge.amount, charge.status) for charge in charged] == [(Decimal("3500.00"), "succeeded")]
    route.early.refresh_from_db()
    assert route.early.available_seats == route.early.total_seats
    email = Notification.objects.get(booking=booking, kind=Notification.Kind.FLIGHT_CHANGED)
    assert "We charged INR 3,500 to your card." in email.body_text
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.CONFIRMED
