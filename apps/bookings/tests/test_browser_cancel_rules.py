"""A traveller cancels, in a real browser, a booking whose fare refunds the taxes only: the confirmation page
says so with the amount before anything changes, and the refund is exactly that.

The `none` rule is set by replacing our own default `refund_rule_for` / `seat_taxes`
(apps/bookings/refund_rules.py), which stand in for the fare families' rules until those are wired in.
"""

from decimal import Decimal

import pytest

from apps.accounts.tests.factories import UserFactory
from apps.bookings import refund_rules
from apps.bookings.models import Booking
from apps.bookings.refund_rules import RefundRule
from apps.bookings.services import booking_hold_create
from apps.core.testing import browser as browser_fixtures
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


def test_cancelling_under_a_non_refundable_fare_shows_and_refunds_the_taxes_only(
    browser_page, route, monkeypatch
):
    # given a paid booking of one seat whose fare refunds nothing but its ₹640.50 of taxes
    monkeypatch.setattr(refund_rules, "refund_rule_for", lambda seat: RefundRule("none"))
    monkeypatch.setattr(refund_rules, "seat_taxes", lambda seat: Decimal("640.50"))
    traveller = UserFactory(email="meera@example.com", name="Meera Rao")
    booking = booking_paid(
        booking_hold_create(
            user=traveller,
            flight_id=route.midday.pk,
            passengers=[{"first_name": "Meera", "last_name": "Rao"}],
            seats=["6A"],
        )
    )
    web, page = browser_page, browser_page.page
    web.sign_in_as(traveller)

    # when they press Cancel on the e-ticket
    web.goto(f"/bookings/{booking.reference}/")
    page.get_by_role("link", name=f"Cancel booking {booking.reference}").click()

    # then the page says the fare refunds the taxes only, with the amount, and nothing has changed yet
    line = page.get_by_test_id("quote-line")
    assert line.count() == 1
    assert "Non-refundable: taxes refunded only" in line.inner_text()
    assert "₹640.50" in line.inner_text()
    assert page.get_by_test_id("quote-total").inner_text() == "₹640.50"
    web.snap("cancel under a non-refundable fare")
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.CONFIRMED

    # when they confirm
    page.get_by_role("button", name="Cancel booking and get ₹640.50 back").click()
    page.get_by_text(f"Booking {booking.reference} is cancelled").wait_for()

    # then exactly the taxes went back, at the gateway and in our records, and the e-mail says so
    assert page.get_by_text("₹640.50 will be refunded to your card.").is_visible()
    assert list(Refund.objects.values_list("amount", flat=True)) == [Decimal("640.50")]
    charge = GatewayCharge.objects.get()
    assert (charge.status, charge.refunded_amount) == (GatewayCharge.Status.REFUNDED, Decimal("640.50"))
    email = Notification.objects.get(booking=booking, kind=Notification.Kind.BOOKING_CANCELLED)
    assert "A refund of INR 640.50 has been issued" in " ".join(email.body_text.split())
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.CANCELLED
