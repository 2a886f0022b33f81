"""What each type of passenger pays (docs/PASSENGERS.md, "Fares")."""

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings

# ISO 4217 currencies without a minor unit; every other currency we sell in has cents.
ZERO_DECIMAL_CURRENCIES = frozenset({"JPY", "KRW", "VND", "CLP", "ISK"})


def passenger_fare(
    adult_fare: Decimal, passenger_type: str, family: Any = None, *, currency: str = ""
) -> Decimal:
    """The fare a passenger of `passenger_type` (adult / child / infant) pays where an adult pays
    `adult_fare`: a child CHILD_FARE_PERCENT of it, an infant INFANT_FARE_PERCENT, rounded once (half
    up) to the currency's minor unit. `family` is the fare family whose percentages will apply once
    fare families carry them; until then the settings decide for every fare."""
    from apps.bookings.models import Passenger

    if passenger_type == Passenger.Type.ADULT:
        return adult_fare
    percent = {
        Passenger.Type.CHILD: settings.CHILD_FARE_PERCENT,
        Passenger.Type.INFANT: settings.INFANT_FARE_PERCENT,
    }[passenger_type]
    unit = Decimal("1") if currency in ZERO_DECIMAL_CURRENCIES else Decimal("0.01")
    return (adult_fare * Decimal(percent) / Decimal(100)).quantize(unit, rounding=ROUND_HALF_UP)
