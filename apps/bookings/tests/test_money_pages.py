"""What each booking's pages say about its money, from the real payment and refund records; the
e-ticket's cancel button; seats released by a cancel are no longer shown."""

import re
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from apps.bookings.models import Booking
from apps.bookings.services import booking_cancel, booking_hold_create, booking_holds_expire
from apps.bookings.tests.factories import cancel_flight, make_overdue
from apps.bookings.tests.test_views import paid
from apps.flights.models import Flight
from apps.flights.tests.test_views import Route, route_bom_del
from apps.payments.models import GatewayCharge, Payment, Refund

pytestmark = pytest.mark.django_db


@pytest.fixture
def route(db) -> Route:
    return route_bom_del()


def hold(user, flight: Flight, *seats: str) -> Booking:
    return booking_hold_create(
        user=user,
        flight_id=flight.pk,
        passengers=[{"first_name": f"Pax{n}", "last_name": "Rao"} for n in range(len(seats))],
        seats=list(seats),
    )


def money_words(html: str) -> str:
    """The text of the page's first money note, tags and spacing flattened."""
    found = re.search(r'<span data-testid="money"[^>]*>(.*?)</span>\s*(?:</p>|</div>)', html, re.S)
    assert found, "no money note on the page"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", found.group(1))).strip()


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_hold_says_nothing_is_charged_yet_and_by_when_to_pay(customer, route):
    booking = hold(customer, route.early, "4A")

    html = signed_in(customer).get("/bookings/").content.decode()

    assert re.fullmatch(
        r"Nothing charged yet — Pay by \w{3} \d{1,2} \w{3} \d{4}, \d\d:\d\d IST \(Mumbai time\)",
        money_words(html),
    )
    assert f"{booking.reference}" in html


def test_an_expired_hold_says_nothing_was_charged_not_total_paid(customer, route):
    booking = hold(customer, route.early, "4A", "4B")
    make_overdue(booking)
    booking_holds_expire()

    html = signed_in(customer).get(f"/bookings/{booking.reference}/").content.decode()

    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.EXPIRED
    assert money_words(html) == "The time to pay ran out and the seats were released. Nothing was charged."
    assert "Total paid" not in html
    assert not Payment.objects.exists()
    assert not GatewayCharge.objects.exists()


def test_a_confirmed_booking_says_what_was_paid(customer, route):
    booking = paid(hold(customer, route.early, "4A"), customer)

    html = signed_in(customer).get(f"/bookings/{booking.reference}/").content.decode()

    charge = GatewayCharge.objects.get()
    assert charge.amount == booking.total_amount
    assert re.fullmatch(r"Paid ₹5,200 on \d{1,2} \w{3} \d{4}\.", money_words(html))


def test_cancelled_after_paying_says_what_was_refunded_and_when(customer, route):
    booking = paid(hold(customer, route.early, "4A"), customer)
    booking_cancel(booking=booking, actor=customer)

    html = signed_in(customer).get(f"/bookings/{booking.reference}/").content.decode()

    refund = Refund.objects.get()
    assert refund.amount == booking.total_amount
    assert GatewayCharge.objects.get().status == GatewayCharge.Status.REFUNDED
    day = f"{refund.created_at.astimezone(ZoneInfo('Asia/Kolkata')):%-d %b %Y}"
    assert money_words(html) == f"You cancelled this booking. Refunded ₹5,200 on {day}."
    assert "refunded if it was paid" not in html


def test_cancelled_before_paying_says_nothing_was_charged(customer, route):
    booking = hold(customer, route.early, "4A")
    booking_cancel(booking=booking, actor=customer)

    html = signed_in(customer).get(f"/bookings/{booking.reference}/").content.decode()

    assert money_words(html) == "You cancelled this booking. Nothing was charged."
    assert not Refund.objects.exists()


def test_a_flight_the_airline_cancelled_says_so_and_what_was_refunded(customer, staff_user, route):
    confirmed = paid(hold(customer, route.early, "4A"), customer)
    held = hold(customer, route.early, "5A")

    cancel_flight(route.early, staff_user)

    client = signed_in(customer)
    refund = Refund.objects.get()
    day = f"{refund.created_at.astimezone(ZoneInfo('Asia/Kolkata')):%-d %b %Y}"
    assert money_words(client.get(f"/bookings/{confirmed.reference}/").content.decode()) == (
        f"The airline cancelled this flight. Refunded ₹5,200 on {day}."
    )
    assert money_words(client.get(f"/bookings/{held.reference}/").content.decode()) == (
        "The airline cancelled this flight. Nothing was charged."
    )


def test_the_e_ticket_offers_a_cancel_that_shows_the_refund_first(customer, route):
    booking = paid(hold(customer, route.early, "4A"), customer)
    client = signed_in(customer)

    html = client.get(f"/bookings/{booking.reference}/").content.decode()
    listed = client.get("/bookings/").content.decode()

    # the cancel buttons lead to the confirmation page, which says what comes back before anything changes
    assert f'href="/bookings/{booking.reference}/cancel/"' in html
    assert f'href="/bookings/{booking.reference}/cancel/"' in listed
    confirm = client.get(f"/bookings/{booking.reference}/cancel/").content.decode()
    assert "Fully refundable" in confirm
    assert re.search(r'data-testid="quote-total">₹5,200<', confirm)
    assert 'name="expected_refund" value="5200.00"' in confirm
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.CONFIRMED

    client.post(f"/bookings/{booking.reference}/cancel/", {"expected_refund": "5200.00"})

    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.CANCELLED
    assert Payment.objects.get().status == Payment.Status.REFUNDED
    after = client.get(f"/bookings/{booking.reference}/").content.decode()
    assert "/cancel/" not in after


def test_cancelled_bookings_in_my_bookings_show_no_seats(customer, route):
    kept = hold(customer, route.early, "4A")
    cancelled = hold(customer, route.early, "7C", "7D")
    booking_cancel(booking=cancelled, actor=customer)

    html = signed_in(customer).get("/bookings/").content.decode()

    row = re.search(rf'data-reference="{cancelled.reference}".*?</li>', html, re.S).group(0)
    row = row.replace(cancelled.reference, "")  # a random reference may contain "7C" itself
    kept_row = re.search(rf'data-reference="{kept.reference}".*?</li>', html, re.S).group(0)
    assert "7C" not in row
    assert "7D" not in row
    assert "(4A)" in kept_row
    assert Flight.objects.get(pk=route.early.pk).available_seats == 67
