"""The price breakdown (base fares, each tax, total) on the pay page, the e-ticket and the receipt
e-mail, from what each seat stored when it was held (docs/FARES.md)."""

import re
from decimal import Decimal

import pytest

from apps.bookings.models import SeatAssignment
from apps.bookings.pricing import seat_taxes
from apps.bookings.services import booking_hold_create
from apps.bookings.tests.test_views import paid
from apps.flights.tests.factories import flight_with_families
from apps.flights.tests.test_views import route_bom_del
from apps.notifications.models import Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def booking(customer, settings):
    settings.FARE_TAX_PERCENT = {"economy": "5", "business": "12"}
    route = route_bom_del()
    airport = route.midday.departure_airport
    airport.departure_charge_name, airport.departure_charge = "User development fee", Decimal("175.00")
    airport.departure_charge_currency = "INR"
    airport.save()
    flight_with_families(
        route.midday, {"ECO_SAVER": "3900.00", "ECO_FLEX": "5400.00", "BUS_FLEX": "18500.00"}
    )
    return booking_hold_create(
        user=customer,
        flight_id=route.midday.pk,
        passengers=[{"first_name": "Asha", "last_name": "Rao"}, {"first_name": "Ravi", "last_name": "Rao"}],
        fare_family="ECO_FLEX",
    )


def breakdown_words(html: str) -> str:
    found = re.search(r"<dl class=\"price-breakdown\"[^>]*>(.*?)</dl>", html, re.S)
    assert found, "no price breakdown on the page"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1))).strip()


# Each seat: 5400 − 175 = 5225 = base × 1.05 → base 4976.19, GST 248.81; two seats.
EXPECTED = "Base fare ₹9,952.38 GST ₹497.62 User development fee ₹350"


def test_each_seat_stores_its_taxes_and_they_add_up_to_the_total(booking):
    seats = SeatAssignment.objects.filter(booking=booking)

    assert [seat_taxes(seat) for seat in seats] == [Decimal("423.81"), Decimal("423.81")]
    assert (
        sum(seat.base_fare + seat_taxes(seat) for seat in seats)
        == booking.total_amount
        == Decimal("10800.00")
    )


def test_the_pay_page_shows_the_breakdown(client, customer, booking):
    client.force_login(customer)

    html = client.get(f"/bookings/{booking.reference}/pay/").content.decode()

    assert breakdown_words(html) == EXPECTED


def test_the_e_ticket_and_the_receipt_email_show_the_breakdown(client, customer, booking):
    paid(booking, customer)
    client.force_login(customer)

    html = client.get(f"/bookings/{booking.reference}/").content.decode()
    receipt = Notification.objects.get(kind=Notification.Kind.PAYMENT_RECEIPT)

    assert breakdown_words(html) == EXPECTED
    assert "Base fare           INR 9,952.38\nGST                 INR 497.62\n" in receipt.body_text
    assert "User development fee INR 350\nTotal               INR 10,800\n" in receipt.body_text
    assert receipt.body_html.count("data-price-line") == 3
