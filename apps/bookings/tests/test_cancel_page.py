"""The website's cancellation: a confirmation page with the quote line by line, then the cancel, refusing a
refund that changed since the page was shown (apps/bookings/views.py: booking_cancel_page)."""

import html
import re
from decimal import Decimal

import pytest

from apps.bookings import refund_rules
from apps.bookings.models import Booking
from apps.bookings.pricing import seat_taxes
from apps.bookings.refund_rules import RefundRule
from apps.bookings.tests.test_money_pages import hold, money_words, signed_in
from apps.bookings.tests.test_views import paid
from apps.core.templatetags.airline import money
from apps.flights.tests.test_views import Route, route_bom_del
from apps.notifications.models import Notification
from apps.payments.models import GatewayCharge, Refund

pytestmark = pytest.mark.django_db


@pytest.fixture
def route(db) -> Route:
    return route_bom_del()


def text(page: str) -> str:
    """The page's words, tags and spacing flattened."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def test_the_page_lists_each_seat_with_its_rule_and_the_confirm_refunds_that_total(
    customer, route, monkeypatch
):
    # given a paid booking of two seats under a fare that keeps a fee of ₹700 a seat
    monkeypatch.setattr(refund_rules, "refund_rule_for", lambda seat: RefundRule("fee", Decimal("700")))
    booking = paid(hold(customer, route.early, "4A", "4B"), customer)
    client = signed_in(customer)

    # when the traveller opens the cancel page
    page = client.get(f"/bookings/{booking.reference}/cancel/")

    # then each flight and passenger is a line with the rule and the amount, and the total; nothing changed
    assert page.status_code == 200
    body = page.content.decode()
    assert body.count('data-testid="quote-line"') == 2
    words = text(body)
    assert "AI101 Pax0 Rao (4A) Refundable less a ₹700 fee ₹4,500 of ₹5,200" in words
    assert "AI101 Pax1 Rao (4B) Refundable less a ₹700 fee ₹4,500 of ₹5,200" in words
    assert re.search(r'data-testid="quote-total">₹9,000<', body)
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.CONFIRMED

    # when they confirm
    done = client.post(f"/bookings/{booking.reference}/cancel/", {"expected_refund": "9000.00"}, follow=True)

    # then exactly that is refunded, and the page and the e-mail say so
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.CANCELLED
    assert list(Refund.objects.values_list("amount", flat=True)) == [Decimal("9000.00")]
    assert GatewayCharge.objects.get().refunded_amount == Decimal("9000.00")
    assert "₹9,000 will be refunded to your card." in text(done.content.decode())
    detail = client.get(f"/bookings/{booking.reference}/").content.decode()
    assert "Refunded ₹9,000 on" in money_words(detail)
    email = Notification.objects.get(booking=booking, kind=Notification.Kind.BOOKING_CANCELLED)
    assert "A refund of ₹9,000" in email.body_text.replace("INR ", "₹")


def test_a_refund_that_changed_since_the_page_shows_the_new_one_and_cancels_nothing(
    customer, route, monkeypatch
):
    booking = paid(hold(customer, route.early, "4A"), customer)
    client = signed_in(customer)
    client.get(f"/bookings/{booking.reference}/cancel/")  # shown ₹5,200 back
    monkeypatch.setattr(refund_rules, "refund_rule_for", lambda seat: RefundRule("none"))

    response = client.post(f"/bookings/{booking.reference}/cancel/", {"expected_refund": "5200.00"})

    assert response.status_code == 409
    body = response.content.decode()
    assert "What you get back has changed" in body
    assert "Non-refundable: taxes refunded only" in body
    taxes = seat_taxes(booking.seat_assignments.get())
    assert taxes > 0  # the seat's stored GST and airport charge (docs/FARES.md)
    assert f'data-testid="quote-total">{money(taxes, "INR")}<' in body
    assert f'name="expected_refund" value="{taxes}"' in body
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    assert booking.seat_assignments.filter(active=True).count() == 1
    assert not Refund.objects.exists()
    assert GatewayCharge.objects.get().status == GatewayCharge.Status.SUCCEEDED


def test_nothing_refunded_under_the_rules_is_said_on_the_pages(customer, route, monkeypatch):
    # a cancellation fee above the fare: nothing comes back
    monkeypatch.setattr(refund_rules, "refund_rule_for", lambda seat: RefundRule("fee", Decimal("100000")))
    booking = paid(hold(customer, route.early, "4A"), customer)
    client = signed_in(customer)

    done = client.post(f"/bookings/{booking.reference}/cancel/", {"expected_refund": "0"}, follow=True)

    assert "Under your fare's rules nothing is refunded." in text(done.content.decode())
    detail = client.get(f"/bookings/{booking.reference}/").content.decode()
    assert money_words(detail) == "You cancelled this booking. Under your fare's rules nothing was refunded."
    assert list(Refund.objects.values_list("amount", flat=True)) == [Decimal("0.00")]


def test_a_held_booking_page_says_nothing_is_refunded_and_a_bad_amount_is_a_400(customer, route):
    booking = hold(customer, route.early, "4A")
    client = signed_in(customer)

    page = client.get(f"/bookings/{booking.reference}/cancel/").content.decode()
    bad = client.post(f"/bookings/{booking.reference}/cancel/", {"expected_refund": "-5"})

    assert "Nothing was paid for this booking, so nothing is refunded." in page
    assert bad.status_code == 400
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.HELD
    client.post(f"/bookings/{booking.reference}/cancel/", {"expected_refund": "0"})
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.CANCELLED


def test_someone_elses_cancel_page_is_a_404(other_customer, customer, route):
    booking = hold(customer, route.early, "4A")

    assert signed_in(other_customer).get(f"/bookings/{booking.reference}/cancel/").status_code == 404
