import pytest
from django.core.management import CommandError, call_command

from apps.bookings.tests.factories import booking_flight, hold
from apps.flights.models import Flight

pytestmark = pytest.mark.django_db


def test_consistent_inventory_passes(customer, flight, capsys):
    hold(customer, flight, count=3)

    call_command("check_inventory")

    assert "consistent" in capsys.readouterr().out


def test_broken_inventory_fails_listing_the_flights(customer, flight, capsys):
    # given one flight whose counter no longer matches its active seats (as a locking bug would do)
    hold(customer, flight, count=3)
    fine = booking_flight(rows=5)
    Flight.objects.filter(pk=flight.pk).update(available_seats=116)

    with pytest.raises(CommandError, match="1 flight"):
        call_command("check_inventory")

    errors = capsys.readouterr().err
    assert f"flight {flight.pk} {flight.flight_number}: available_seats=116, expected 113" in errors
    assert f"flight {fine.pk} " not in errors


def test_a_seat_marked_wrongly_fails_naming_it(customer, flight, capsys):
    # given a hold, and its flight's record of taken seats altered behind the services' back
    booking = hold(customer, flight, seats=["5A"])
    marks = Flight.objects.get(pk=flight.pk).seats_taken
    position = marks.index("1")
    Flight.objects.filter(pk=flight.pk).update(seats_taken=marks[:position] + "01")

    with pytest.raises(CommandError, match="1 flight"):
        call_command("check_inventory")

    errors = capsys.readouterr().err
    assert "seats marked wrongly: 5A, 5B" in errors
    assert booking.seat_assignments.get().seat_code == "5A"
