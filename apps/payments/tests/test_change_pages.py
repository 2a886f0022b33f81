"""Changing a flight on the website (apps/bookings/change_views.py, apps/payments/views.py:
booking_change_confirm): the link on the e-ticket, the day's flights with their prices, the confirm page
with the quote, and every refusal a message or a form error, never a 500, never a second charge."""

import html
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client

from apps.bookings.models import Booking, FlightChange, SeatAssignment
from apps.flights.models import FareFamily
from apps.flights.search_cache import catalogue_version_bump
from apps.flights.services.fares import flight_family_fares_set
from apps.payments.models import GatewayCharge, Payment, Refund
from apps.payments.tests.changing import NEW_PRICES, change_route, paid_in

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text(page) -> str:
    """The page's words, tags and spacing flattened."""
    body = page.content.decode() if hasattr(page, "content") else page
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body)))


def confirm_url(booking: Booking, flight, segment: int = 1) -> str:
    return f"/bookings/{booking.reference}/change/{segment}/{flight.pk}/"


def confirm_form(page) -> dict[str, str]:
    """The hidden fields of the confirm page's form: its idempotency key and the quote's token."""
    body = page.content.decode()
    return {
        name: re.search(rf'name="{name}" value="([^"]+)"', body).group(1)
        for name in ("idempotency_key", "quote")
    }


def change_charges() -> list[GatewayCharge]:
    keys = Payment.objects.filter(kind=Payment.Kind.CHANGE).values("gateway_idempotency_key")
    return list(GatewayCharge.objects.filter(idempotency_key__in=keys))


def test_the_e_ticket_offers_a_change_only_where_the_fare_allows_it(customer):
    old, _ = change_route()
    saver = paid_in(customer, old, "ECO_SAVER")
    client = signed_in(customer)

    offered = client.get(f"/bookings/{saver.reference}/").content.decode()
    FareFamily.objects.filter(code="ECO_SAVER").update(change_allowed=False)
    catalogue_version_bump()
    refused = client.get(f"/bookings/{saver.reference}/").content.decode()

    assert f'href="/bookings/{saver.reference}/change/1/"' in offered
    assert f"/bookings/{saver.reference}/change/" not in refused


def test_the_days_flights_say_what_each_change_costs(customer):
    old, new = change_route()
    booking = paid_in(customer, old, "ECO_SAVER")

    page = signed_in(customer).get(f"/bookings/{booking.reference}/change/1/")

    assert page.status_code == 200
    words = text(page)
    assert "Change flight AI" in words
    assert "₹3,500 to pay" in words
    assert "Fare: ₹500 more · change fee ₹3,000" in words
    assert f'href="{confirm_url(booking, new)}"' in page.content.decode()
    # and the days around it, each a link to its flights
    day = old.departure_time.date()
    assert f"?date={(day + timedelta(days=1)).isoformat()}" in page.content.decode()


def test_a_day_out_of_reach_is_a_form_error(customer):
    old, _ = change_route()
    booking = paid_in(customer, old, "ECO_SAVER")

    page = signed_in(customer).get(f"/bookings/{booking.reference}/change/1/", {"date": "2999-01-01"})

    assert page.status_code == 400
    assert "Choose a day within five years of today." in text(page)


def test_a_booking_that_cannot_change_goes_back_to_its_page_with_the_reason(customer):
    old, _ = change_route()
    booking = paid_in(customer, old, "ECO_SAVER")
    FareFamily.objects.filter(code="ECO_SAVER").update(change_allowed=False)
    catalogue_version_bump()

    page = signed_in(customer).get(f"/bookings/{booking.reference}/change/1/", follow=True)

    assert page.redirect_chain[-1][0] == f"/bookings/{booking.reference}/"
    assert "This flight cannot be changed: Your fare, Economy Saver, does not allow changes." in text(page)


def test_confirming_a_dearer_change_charges_it_once_and_shows_the_new_flight(customer):
    old, new = change_route()
    booking = paid_in(customer, old, "ECO_SAVER")
    client = signed_in(customer)

    page = client.get(confirm_url(booking, new))
    words = text(page)
    sent = {**confirm_form(page), "payment_method": "tok_visa"}
    done = client.post(confirm_url(booking, new), sent, follow=True)
    again = client.post(confirm_url(booking, new), sent, follow=True)  # a double click, a reload

    assert page.status_code == 200
    assert "Change to AI" in words
    assert "New fare ₹5,000 Your fare now ₹4,500 Change fee ₹3,000" in words
    assert "To pay ₹3,500" in words
    assert done.redirect_chain[-1][0] == f"/bookings/{booking.reference}/"
    assert f"Your flight is changed to {new.flight_number}. We charged ₹3,500 to your card." in text(done)
    assert new.flight_number in text(done)
    assert again.redirect_chain[-1][0] == f"/bookings/{booking.reference}/"
    assert [charge.amount for charge in change_charges()] == [Decimal("3500.00")]
    assert FlightChange.objects.get().status == FlightChange.Status.DONE
    assert SeatAssignment.objects.get(booking=booking).flight_id == new.pk


def test_confirming_a_cheaper_flex_change_refunds_without_a_card(customer):
    old, new = change_route()
    booking = paid_in(customer, old, "ECO_FLEX")
    client = signed_in(customer)

    page = client.get(confirm_url(booking, new))
    done = client.post(confirm_url(booking, new), confirm_form(page), follow=True)

    assert "Back to your card ₹200" in text(page)
    assert 'name="payment_method"' not in page.content.decode()
    assert "₹200 will be refunded to your card." in text(done)
    assert list(Refund.objects.values_list("kind", "amount")) == [(Refund.Kind.CHANGE, Decimal("200.00"))]


def test_a_price_that_moved_shows_the_new_quote_and_charges_nothing(customer):
    old, new = change_route()
    booking = paid_in(customer, old, "ECO_SAVER")
    client = signed_in(customer)
    page = client.get(confirm_url(booking, new))
    flight_family_fares_set(flight_id=new.pk, prices={**NEW_PRICES, "ECO_SAVER": "5300.00"})

    again = client.post(confirm_url(booking, new), {**confirm_form(page), "payment_method": "tok_visa"})

    assert again.status_code == 409
    assert "The price of this change has changed." in text(again)
    assert "To pay ₹3,800" in text(again)
    assert change_charges() == []
    assert SeatAssignment.objects.get(booking=booking).flight_id == old.pk


def test_a_declined_card_leaves_the_flight_as_it_was(customer):
    old, new = change_route()
    booking = paid_in(customer, old, "ECO_SAVER")
    client = signed_in(customer)
    page = client.get(confirm_url(booking, new))

    done = client.post(
        confirm_url(booking, new), {**confirm_form(page), "payment_method": "tok_chargeDeclined"}, follow=True
    )

    assert done.redirect_chain[-1][0] == confirm_url(booking, new)
    assert "Your card was not charged and your flight is unchanged: Your card was declined." in text(done)
    assert SeatAssignment.objects.get(booking=booking).flight_id == old.pk
    assert [charge.status for charge in change_charges()] == [GatewayCharge.Status.DECLINED]


def test_a_change_that_costs_something_without_a_card_is_a_form_error(customer):
    old, new = change_route()
    booking = paid_in(customer, old, "ECO_SAVER")
    client = signed_in(customer)
    page = client.get(confirm_url(booking, new))

    again = client.post(confirm_url(booking, new), confirm_form(page))

    assert again.status_code == 400
    assert "Required when the change costs something." in text(again)
    assert change_charges() == []


def test_a_visitor_with_the_booking_reference_and_name_can_change_it(customer):
    old, new = change_route()
    booking = paid_in(customer, old, "ECO_FLEX")
    visitor = Client()
    visitor.post("/manage/", {"reference": booking.reference, "last_name": "Traveller"})

    page = visitor.get(confirm_url(booking, new))
    done = visitor.post(confirm_url(booking, new), confirm_form(page), follow=True)

    assert page.status_code == 200
    assert "₹200 will be refunded to your card." in text(done)
    change = FlightChange.objects.get()
    assert (change.requested_by_id, change.status) == (customer.pk, FlightChange.Status.DONE)
