"""Writes Flight.seats_taken for flights that already have held or sold seats (new flights start empty,
which means every seat is free)."""

from django.db import migrations


def backfill(apps, schema_editor):
    from apps.flights.seating import layout_of, layout_positions, seats_marked

    flight_model = apps.get_model("flights", "Flight")
    section_model = apps.get_model("flights", "CabinSection")
    assignment_model = apps.get_model("bookings", "SeatAssignment")
    taken: dict[int, list[str]] = {}
    for flight_id, code in assignment_model.objects.filter(active=True).values_list("flight_id", "seat_code"):
        taken.setdefault(flight_id, []).append(code)
    for flight in flight_model.objects.filter(pk__in=taken).only("pk", "airplane_id"):
        positions = layout_positions(layout_of(section_model.objects.filter(airplane_id=flight.airplane_id)))
        marks = seats_marked("", [positions[code] for code in taken[flight.pk] if code in positions], "1")
        flight_model.objects.filter(pk=flight.pk).update(seats_taken=marks)


class Migration(migrations.Migration):
    dependencies = [
        ("bookings", "0001_initial"),
        ("flights", "0003_flight_seats_taken"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
