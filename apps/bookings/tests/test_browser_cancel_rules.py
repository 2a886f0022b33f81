"""A traveller cancels, in a real browser, an Economy Saver booking, whose fare refunds the taxes only: the
confirmation page says so with the amount before anything changes, and the refund is exactly that."""

from decimal import Decimal

import pytest

from apps.accounts.tests.factories import UserFactory
from apps.bookings.models import Booking, SeatAssignment
from apps.bookings.pricing import seat_taxes
from apps.bookings.services import booking_hold_create
from apps.core.money import money_display
from apps.core.templatetags.airline import money
from apps.core.testing import browser as browser_fixtures
from apps.flights.models import Airport
from apps.flights.tests.factories import flight_with_families
from apps.flights.tests.test_views import Route, route_bom_del
from apps.notifications.models import Notification
from apps.payments.models import GatewayCharge, Refund
from apps.payments.tests.factories import booking_paid

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

chromium = browser_fixtures.chromium
browser_page = browser_fixtures.browser_page


@pytest.fixture
def route() -> Route:
    return route_bom_del()


def test_cancelling_under_a_non_refundable_fare_shows_and_refunds_the_taxes_only(browser_page, route):
    # given a paid Economy Saver booking of one seat, from an airport charging a user development fee
    Airport.objects.filter(pk=route.midday.departure_airport_id).update(
        departure_charge=Decimal("620.00"),
        departure_charge_currency="INR",
        departure_charge_name="User development fee",
    )
    flight_with_families(route.midday)
    traveller = UserFactory(email="meera@example.com", name="Meera Rao")
    booking = booking_paid(
        booking_hold_create(
            user=traveller,
            flight_id=route.midday.pk,
            passengers=[{"first_name": "Meera", "last_name": "Rao"}],
            seats=["6A"],
            fare_family="ECO_SAVER",
        )
    )
    taxes = seat_taxes(SeatAssignment.objects.get(booking=booking))
    assert Decimal("620.00") < taxes < booking.total_amount  # GST and the airport's fee
    shown = money(taxes, "INR")
    web, page = browser_page, browser_page.page
    web.sign_in_as(traveller)

    # when they press Cancel on the e-ticket
    web.goto(f"/bookings/{booking.reference}/")
    page.get_by_role("link", name=f"Cancel booking {booking.reference}").click()

    # then the page says the fare refunds the taxes only, with the amount, and nothing has changed yet
    line = page.get_by_test_id("quote-line")
    assert line.count() == 1
    assert "Non-refundable: taxes refunded only" in line.inner_text()
    assert shown in line.inner_text()
    assert page.get_by_test_id("quote-total").inner_text() == shown
    web.snap("cancel under a non-refundable fare")
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.CONFIRMED

    # when they confirm
    page.get_by_role("button", name=f"Cancel booking and get {shown} back").click()
    page.get_by_text(f"Booking {booking.reference} is cancelled").wait_for()

    # then exactly the taxes went back, at the gateway and in our records, and the e-mail says so
    assert page.get_by_text(f"{shown} will be refunded to your card.").is_visible()
    assert list(Refund.objects.values_list("amount", flat=True)) == [taxes]
    charge = GatewayCharge.objects.get()
    assert (charge.status, charge.refunded_amount) == (GatewayCharge.Status.REFUNDED, taxes)
    email = Notification.objects.get(booking=booking, kind=Notification.Kind.BOOKING_CANCELLED)
    refunded = money_display(taxes, "INR", symbol=False)
    assert f"A refund of {refunded} has been issued" in " ".join(email.body_text.split())
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.CANCELLED
