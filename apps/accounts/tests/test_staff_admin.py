"""In the admin, staff reach only what the "Airline staff" group grants."""

import pytest
from django.conf import settings
from django.test import Client

from apps.accounts.models import User
from apps.accounts.tests.factories import UserFactory
from apps.flights.models import Flight
from apps.flights.tests.factories import FlightFactory
from apps.payments.models import Payment
from apps.payments.services import payment_create
from apps.payments.tests.factories import held_booking

pytestmark = pytest.mark.django_db

ADMIN = "/" + settings.ADMIN_URL


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def paid_payment(customer) -> Payment:
    booking = held_booking(owner=customer)
    return payment_create(
        user=customer,
        booking_reference=booking.reference,
        amount=booking.total_amount,
        currency=booking.currency,
        payment_method="tok_visa",
        idempotency_key="staff-admin-test",
    )


def test_staff_see_flights_bookings_and_payments(staff_user, paid_payment):
    client = signed_in(staff_user)

    assert client.get(f"{ADMIN}flights/flight/").status_code == 200
    assert client.get(f"{ADMIN}bookings/booking/").status_code == 200
    assert client.get(f"{ADMIN}bookings/booking/{paid_payment.booking_id}/change/").status_code == 200
    assert client.get(f"{ADMIN}payments/payment/{paid_payment.pk}/change/").status_code == 200


def test_staff_may_not_change_a_payment(staff_user, paid_payment):
    response = signed_in(staff_user).post(
        f"{ADMIN}payments/payment/{paid_payment.pk}/change/", {"status": Payment.Status.REFUNDED}
    )

    assert response.status_code == 403
    paid_payment.refresh_from_db()
    assert paid_payment.status == Payment.Status.SUCCEEDED


def test_staff_may_not_see_or_add_users_nor_delete_flights(staff_user):
    flight = FlightFactory()
    client = signed_in(staff_user)

    add_user = client.post(
        f"{ADMIN}accounts/user/add/",
        {"email": "mole@example.com", "name": "M", "password1": "Xy-12345678", "password2": "Xy-12345678"},
    )
    users = client.get(f"{ADMIN}accounts/user/")
    delete_flight = client.post(f"{ADMIN}flights/flight/{flight.pk}/delete/", {"post": "yes"})

    assert (add_user.status_code, users.status_code, delete_flight.status_code) == (403, 403, 403)
    assert not User.objects.filter(email="mole@example.com").exists()
    assert Flight.objects.filter(pk=flight.pk).exists()


def test_the_admin_may_add_users_so_the_staff_refusal_is_the_groups_doing(admin_user):
    assert signed_in(admin_user).get(f"{ADMIN}accounts/user/add/").status_code == 200


def test_staff_outside_the_group_see_nothing():
    bare_staff = UserFactory(is_staff=True)
    bare_staff.groups.clear()

    response = signed_in(bare_staff).get(f"{ADMIN}flights/flight/")

    assert response.status_code == 403
