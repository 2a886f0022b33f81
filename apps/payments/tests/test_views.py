"""The hold page: countdown, the pay form and its idempotency key, and every payment outcome."""

from datetime import UTC, datetime

import pytest

from apps.bookings.models import Booking
from apps.bookings.services import booking_hold_create
from apps.bookings.tests.factories import make_overdue
from apps.flights.tests.test_views import route_bom_del
from apps.payments.models import GatewayCharge, Payment

pytestmark = pytest.mark.django_db


@pytest.fixture
def booking(customer) -> Booking:
    route = route_bom_del()
    return booking_hold_create(
        user=customer,
        flight_id=route.midday.pk,
        passengers=[{"first_name": "Asha", "last_name": "Rao"}, {"first_name": "Ravi", "last_name": "Rao"}],
        seats=["3A", "3B"],
    )


@pytest.fixture
def signed_in(client, customer):
    client.force_login(customer)
    return client


def pay_page(client, booking: Booking):
    return client.get(f"/bookings/{booking.reference}/pay/")


def pay(client, booking: Booking, *, key: str, token: str = "tok_visa", follow: bool = True):
    return client.post(
        f"/bookings/{booking.reference}/pay/",
        {"payment_method": token, "idempotency_key": key},
        follow=follow,
    )


def test_hold_page_shows_the_countdown_total_and_a_fresh_key_per_render(signed_in, booking):
    first = pay_page(signed_in, booking)
    second = pay_page(signed_in, booking)

    html = first.content.decode()
    assert first.status_code == 200
    assert "data-countdown" in html
    assert 'data-seconds-left="' in html
    assert "Pay ₹7,800" in html
    assert 'value="tok_chargeDeclined"' in html
    key = first.context["form"]["idempotency_key"].value()
    assert len(key) == 32
    assert key != second.context["form"]["idempotency_key"].value()
    assert first["Cache-Control"].startswith("max-age=0")


def test_hold_page_names_the_deadline_in_the_departure_airports_time(signed_in, booking):
    Booking.objects.filter(pk=booking.pk).update(hold_expires_at=datetime(2030, 1, 1, 4, 0, tzinfo=UTC))

    html = pay_page(signed_in, booking).content.decode()

    assert "Pay by 09:30 IST (Mumbai time)" in html  # 04:00 UTC in Asia/Kolkata
    assert "UTC" not in html


def test_paying_confirms_and_shows_the_e_ticket(signed_in, booking):
    response = pay(signed_in, booking, key="k1")

    assert response.redirect_chain[-1][0] == f"/bookings/{booking.reference}/"
    assert "Payment received" in response.content.decode()
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.CONFIRMED
    assert Payment.objects.get(booking=booking).status == Payment.Status.SUCCEEDED


def test_the_same_form_sent_again_answers_with_the_first_payment(signed_in, booking):
    pay(signed_in, booking, key="same-key")

    again = pay(signed_in, booking, key="same-key")

    assert again.redirect_chain[-1][0] == f"/bookings/{booking.reference}/"
    assert "E-ticket" in again.content.decode()
    assert Payment.objects.filter(booking=booking).count() == 1
    assert GatewayCharge.objects.count() == 1


def test_a_second_pay_page_of_a_paid_booking_never_charges_again(signed_in, booking):
    pay(signed_in, booking, key="first-tab")

    other_tab = pay(signed_in, booking, key="second-tab")

    assert other_tab.redirect_chain[-1][0] == f"/bookings/{booking.reference}/"
    assert "you have not been charged again" in other_tab.content.decode()
    assert Payment.objects.filter(booking=booking).count() == 1
    assert GatewayCharge.objects.count() == 1


def test_a_declined_card_is_a_message_and_the_hold_stays_payable(signed_in, booking):
    response = pay(signed_in, booking, key="k-declined", token="tok_chargeDeclined")

    assert response.redirect_chain[-1][0] == f"/bookings/{booking.reference}/pay/"
    assert "Your card was not charged: Your card was declined." in response.content.decode()
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.HELD
    assert not Payment.objects.filter(booking=booking, status=Payment.Status.SUCCEEDED).exists()
    assert pay(signed_in, booking, key="k-retry").redirect_chain[-1][0] == f"/bookings/{booking.reference}/"


def test_a_gateway_timeout_keeps_the_key_so_the_retry_resumes_without_a_second_charge(signed_in, booking):
    response = pay(signed_in, booking, key="k-slow", token="tok_timeout", follow=False)

    assert response.status_code == 200
    assert "you will not be charged twice" in response.content.decode()
    assert response.context["form"]["idempotency_key"].value() == "k-slow"

    retried = pay(signed_in, booking, key="k-slow", token="tok_timeout")

    assert retried.redirect_chain[-1][0] == f"/bookings/{booking.reference}/"
    assert GatewayCharge.objects.count() == 1
    assert Payment.objects.get(booking=booking).status == Payment.Status.SUCCEEDED


def test_an_expired_hold_says_so_offers_a_new_search_and_charges_nothing(signed_in, booking):
    make_overdue(booking)

    page = pay_page(signed_in, booking)
    response = pay(signed_in, booking, key="k-late")

    assert "Your hold has ended" in page.content.decode()
    assert "/flights/?origin=BOM&amp;destination=DEL&amp;travellers=2" in page.content.decode()
    assert "The hold on this booking has expired" in response.content.decode()
    assert "Search flights again" in response.content.decode()
    assert not Payment.objects.exists()
    assert not GatewayCharge.objects.exists()


def test_a_tampered_form_is_refused_without_charging(signed_in, booking):
    response = signed_in.post(f"/bookings/{booking.reference}/pay/", {"payment_method": "tok_visa"})

    assert response.status_code == 400
    assert not Payment.objects.exists()


def test_a_confirmed_booking_goes_to_its_ticket(signed_in, booking):
    pay(signed_in, booking, key="k1")

    assert pay_page(signed_in, booking)["Location"] == f"/bookings/{booking.reference}/"


def test_someone_elses_hold_page_is_404(client, other_customer, booking):
    client.force_login(other_customer)

    assert pay_page(client, booking).status_code == 404
    assert pay(client, booking, key="k", follow=False).status_code == 404
    assert not Payment.objects.exists()


def test_too_many_payment_attempts_are_a_message_and_charge_nothing(signed_in, booking, settings):
    settings.RATELIMIT_PAYMENT = "1/m"
    pay(signed_in, booking, key="k1", token="tok_chargeDeclined")

    response = pay(signed_in, booking, key="k2")

    assert "Please wait a minute" in response.content.decode()
    assert response.redirect_chain[-1][0] == f"/bookings/{booking.reference}/pay/"
    assert list(Payment.objects.values_list("status", flat=True)) == ["declined"]
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.HELD
