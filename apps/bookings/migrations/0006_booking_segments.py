"""Bookings of several flights: a seat assignment per passenger and segment, check-in per segment."""

import django.db.models.deletion
from django.db import migrations, models


def check_in_to_seats(apps, schema_editor):
    """Each checked-in passenger's check-in moves to their seat assignment (every booking had one
    flight until now, so one assignment each)."""
    Passenger = apps.get_model("bookings", "Passenger")
    SeatAssignment = apps.get_model("bookings", "SeatAssignment")
    checked_in = Passenger.objects.filter(checked_in_at__isnull=False).values_list(
        "pk", "checked_in_at", "check_in_number"
    )
    for passenger_id, checked_in_at, number in checked_in.iterator():
        SeatAssignment.objects.filter(passenger_id=passenger_id).update(
            checked_in_at=checked_in_at, check_in_number=number
        )


def check_in_to_passengers(apps, schema_editor):
    Passenger = apps.get_model("bookings", "Passenger")
    SeatAssignment = apps.get_model("bookings", "SeatAssignment")
    checked_in = SeatAssignment.objects.filter(segment=1, checked_in_at__isnull=False).values_list(
        "passenger_id", "checked_in_at", "check_in_number"
    )
    for passenger_id, checked_in_at, number in checked_in.iterator():
        Passenger.objects.filter(pk=passenger_id).update(checked_in_at=checked_in_at, check_in_number=number)


class Migration(migrations.Migration):
    dependencies = [
        ("bookings", "0005_booking_confirmed_at_idx"),
        ("flights", "0005_city_alternative_names"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="seatassignment",
            options={"ordering": ["booking", "segment", "seat_code"]},
        ),
        migrations.AddField(
            model_name="booking",
            name="segment_count",
            field=models.PositiveSmallIntegerField(db_default=1, default=1),
        ),
        migrations.AddField(
            model_name="seatassignment",
            name="segment",
            field=models.PositiveSmallIntegerField(
                db_default=1, default=1, help_text="1-based, in journey order."
            ),
        ),
        migrations.AddField(
            model_name="seatassignment",
            name="check_in_number",
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="seatassignment",
            name="checked_in_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(check_in_to_seats, check_in_to_passengers, elidable=True),
        migrations.RemoveField(model_name="passenger", name="check_in_number"),
        migrations.RemoveField(model_name="passenger", name="checked_in_at"),
        migrations.AlterField(
            model_name="seatassignment",
            name="passenger",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="seat_assignments",
                to="bookings.passenger",
            ),
        ),
        migrations.AddConstraint(
            model_name="seatassignment",
            constraint=models.UniqueConstraint(
                fields=("passenger", "segment"), name="seat_assignment_passenger_segment"
            ),
        ),
    ]
