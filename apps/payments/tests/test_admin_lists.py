"""The payments list: found by booking reference, email or gateway reference; its query count."""

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.accounts.tests.factories import UserFactory
from apps.core.testing.admin import changelist_queries
from apps.flights.tests.factories import FlightFactory
from apps.payments.models import Payment
from apps.payments.tests.factories import held_booking

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:payments_payment_changelist")


@pytest.fixture
def staff_browser(client, staff_user):
    client.force_login(staff_user)
    return client


def paid(booking) -> Payment:
    return Payment.objects.create(
        booking=booking,
        owner=booking.owner,
        amount=booking.total_amount,
        currency=booking.currency,
        status=Payment.Status.SUCCEEDED,
        payment_method="tok_visa",
        gateway_idempotency_key=f"pay-{booking.reference}",
        gateway_reference=f"ch_sim_{booking.reference}",
        processed_at=timezone.now(),
    )


def shown(response) -> list[int]:
    return [payment.pk for payment in response.context["cl"].result_list]


def test_a_booking_reference_email_or_gateway_reference_finds_the_payment(staff_browser, customer):
    flight = FlightFactory()
    wanted = paid(held_booking(owner=customer, flight=flight))
    paid(held_booking(owner=UserFactory(), flight=flight))

    for term in (wanted.booking.reference.lower(), customer.email, wanted.gateway_reference):
        assert shown(staff_browser.get(CHANGELIST, {"q": term})) == [wanted.pk], term


def test_the_list_shows_the_amount_with_its_currency_and_the_time_in_utc(staff_browser, customer):
    payment = paid(held_booking(owner=customer))

    page = staff_browser.get(CHANGELIST).content.decode()

    assert "₹4,500" in page
    assert f"{payment.created_at:%H:%M} UTC</time>" in page


@pytest.mark.parametrize("params", [{}, {"status__exact": "succeeded"}])
def test_the_payments_list_costs_the_same_queries_for_3_rows_as_for_30(staff_browser, params):
    flight = FlightFactory()
    for _ in range(3):
        paid(held_booking(owner=UserFactory(), flight=flight))
    few = changelist_queries(staff_browser, CHANGELIST, params)
    for _ in range(27):
        paid(held_booking(owner=UserFactory(), flight=flight))

    many = changelist_queries(staff_browser, CHANGELIST, params)

    assert len(staff_browser.get(CHANGELIST, params).context["cl"].result_list) == 30
    assert len(many) == len(few), "\n".join(many)
    assert len(many) <= 10, "\n".join(many)
