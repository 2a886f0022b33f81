"""A multi-city trip of three flights through the API, as an integrator books one (docs/API.md,
"Journeys" and "Holds, payments, cancellation"): search, hold with seats chosen on one flight, pay,
read, cancel: one refund and every seat back on every flight."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.bookings.models import Booking, SeatAssignment
from apps.bookings.selectors import inventory_violations
from apps.flights.models import Flight
from apps.flights.tests.factories import AirportFactory, CityFactory, delhi_airport, mumbai_airport
from apps.flights.tests.test_journeys import flight
from apps.payments.models import Payment, Refund

pytestmark = pytest.mark.django_db

TRAVELLERS = [{"first_name": "Asha", "last_name": "Rao"}, {"first_name": "Ravi", "last_name": "Rao"}]


def available(flight_id: int) -> int:
    return Flight.objects.get(pk=flight_id).available_seats


def test_a_multi_city_trip_searched_held_with_seats_paid_read_and_cancelled(api_client, customer_client):
    # given Mumbai → Delhi, Delhi → Bengaluru a day later, Bengaluru → Mumbai two days after that,
    # two flights on the first (30 rows A–F each, 180 seats)
    bom, delhi = mumbai_airport(), delhi_airport()
    blr = AirportFactory(iata_code="BLR", name="Kempegowda", city=CityFactory(name="Bengaluru"))
    day = timezone.now().date() + timedelta(days=5)
    days = [day, day + timedelta(days=1), day + timedelta(days=3)]
    flight("AI101", bom, delhi, days[0], 6, 0, "5200.00")
    first = flight("AI205", bom, delhi, days[0], 9, 30, "3900.00")
    second = flight("AI503", delhi, blr, days[1], 11, 0, "4700.00")
    third = flight("AI640", blr, bom, days[2], 17, 15, "3100.00")

    # when the integrator searches the three segments for two
    search = api_client.get(
        "/api/v1/journeys",
        {
            "trip": "multi_city",
            "passengers": "2",
            "origin_1": "Mumbai",
            "destination_1": "DEL",
            "date_1": days[0].isoformat(),
            "origin_2": "Delhi",
            "destination_2": "Bengaluru",
            "date_2": days[1].isoformat(),
            "origin_3": "BLR",
            "destination_3": "Bombay",
            "date_3": days[2].isoformat(),
        },
    )

    # then each segment lists its flights and the cheapest total names one flight per segment
    assert search.status_code == 200, search.content
    found = search.json()
    assert [[f["flight_number"] for f in s["flights"]] for s in found["segments"]] == [
        ["AI101", "AI205"],
        ["AI503"],
        ["AI640"],
    ]
    chosen = found["cheapest_total"]["flights"]
    assert chosen == [first.pk, second.pk, third.pk]
    assert found["cheapest_total"]["amount"] == "23400.00"  # (3,900 + 4,700 + 3,100) × 2

    # when they hold those flights, choosing the seats on the second
    held = customer_client.post(
        "/api/v1/bookings",
        {
            "segments": [
                {"flight_id": chosen[0]},
                {"flight_id": chosen[1], "seats": ["5a", "5B"]},
                {"flight_id": chosen[2]},
            ],
            "passengers": TRAVELLERS,
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY="multi-city-hold",
    )

    assert held.status_code == 201, held.content
    booking = held.json()
    assert booking["status"] == "held"
    assert Decimal(booking["total_amount"]) == Decimal("23400.00")
    assert [available(pk) for pk in chosen] == [178, 178, 178]

    # when they pay it with the simulated card
    paid = customer_client.post(
        "/api/v1/payments",
        {
            "booking_reference": booking["reference"],
            "amount": booking["total_amount"],
            "currency": booking["currency"],
            "payment_method": "tok_visa",
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY="multi-city-pay",
    )

    assert paid.status_code == 201, paid.content
    assert paid.json()["status"] == "succeeded"

    # then the booking reads confirmed with its three segments, each with the travellers' seats
    read = customer_client.get(f"/api/v1/bookings/{booking['reference']}")
    assert read.status_code == 200
    body = read.json()
    assert body["status"] == "confirmed"
    assert [(s["position"], s["flight"]["id"]) for s in body["segments"]] == [
        (1, first.pk),
        (2, second.pk),
        (3, third.pk),
    ]
    assert body["segments"][1]["seats"] == ["5A", "5B"]
    assert all(len(s["seats"]) == 2 and None not in s["seats"] for s in body["segments"])
    assert body["flight"]["id"] == first.pk
    assert body["seats"] == body["segments"][0]["seats"]
    assert [available(pk) for pk in chosen] == [178, 178, 178]

    # when they cancel it
    cancelled = customer_client.post(
        f"/api/v1/bookings/{booking['reference']}/cancel", HTTP_IDEMPOTENCY_KEY="multi-city-cancel"
    )

    # then one refund of the whole amount, and every seat of every flight back
    assert cancelled.status_code == 200, cancelled.content
    assert cancelled.json()["status"] == "cancelled"
    record = Booking.objects.get(reference=booking["reference"])
    assert record.status == Booking.Status.CANCELLED
    assert Payment.objects.filter(booking=record).count() == 1
    assert list(Refund.objects.filter(payment__booking=record).values_list("amount", flat=True)) == [
        Decimal("23400.00")
    ]
    assert SeatAssignment.objects.filter(booking=record).count() == 6
    assert not SeatAssignment.objects.filter(booking=record, active=True).exists()
    assert [available(pk) for pk in chosen] == [180, 180, 180]
    assert [
        s["seats"] for s in customer_client.get(f"/api/v1/bookings/{booking['reference']}").json()["segments"]
    ] == [[None, None]] * 3
    assert inventory_violations() == []
    call_command("check_inventory")
