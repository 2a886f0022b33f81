"""The seat counter of a flight (`available_seats`): the only code that moves it.

The bookings app decides which seats a booking takes or gives back (its seat assignments, unique per
seat while active); the flight's counter follows, in the same transaction, so that
`available_seats == total_seats − active seat assignments` always holds (`manage.py
check_inventory` verifies it).
"""

from datetime import datetime

from django.db.models import F

from apps.flights.models import Flight


def flight_seats_take(*, flight_id: int, count: int) -> None:
    """Take `count` seats of a flight whose row this transaction has locked and checked."""
    Flight.objects.filter(pk=flight_id).update(
        available_seats=F("available_seats") - count, version=F("version") + 1
    )


def flight_seats_take_if_on_sale(*, flight_id: int, count: int, now: datetime) -> bool:
    """Take `count` seats if the flight is on sale (`Flight.on_sale`) and has them, in one conditional
    UPDATE that decides in the database, without a lock taken in code. False: nothing was taken."""
    taken = Flight.objects.filter(Flight.on_sale(now), pk=flight_id, available_seats__gte=count).update(
        available_seats=F("available_seats") - count, version=F("version") + 1
    )
    return bool(taken)


def flight_seats_return(*, flight_id: int, count: int) -> None:
    """Give `count` released seats back to a flight whose row this transaction has locked."""
    if count:
        Flight.objects.filter(pk=flight_id).update(
            available_seats=F("available_seats") + count, version=F("version") + 1
        )
