"""Writes of fare families' prices on a flight (docs/FARES.md).

A flight's families' prices live on its row (`Flight.family_fares`), so a hold reads them with the
row it reads and locks anyway. A cabin's fare column (`base_fare`, `business_fare`, …) is the price
of its cheapest family: what a seat costs when no family is chosen. Only this service writes the
prices, and it writes both together, so the two never disagree.
"""

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from apps.core.exceptions import ValidationFailed
from apps.core.locking import locked_transaction
from apps.flights.locks import flight_lock
from apps.flights.models import CABIN_FARE_FIELDS, Cabin, CabinSection, FareFamily, Flight
from apps.flights.search_cache import catalogue_changed

MAX_FARE = Decimal("100000000")  # max_digits=10, decimal_places=2


def family_fares_errors(*, airplane_id: int, prices: Mapping[str, Any]) -> dict[str, list[str]]:
    """What is wrong with `prices` ({family code: price}) for a flight flown by `airplane_id`, keyed
    by family code: an unknown family, a price that is not a positive amount, a cabin the airplane
    does not have."""
    families = {family.code: family for family in FareFamily.objects.filter(code__in=list(prices))}
    cabins = set(CabinSection.objects.filter(airplane_id=airplane_id).values_list("cabin", flat=True))
    errors: dict[str, list[str]] = {}
    for code, price in prices.items():
        family = families.get(code)
        if family is None:
            errors[code] = [f"No fare family {code!r}."]
            continue
        try:
            amount = Decimal(str(price))
        except InvalidOperation:
            errors[code] = ["Must be an amount, e.g. 4599.00."]
            continue
        if not amount.is_finite() or not 0 < amount < MAX_FARE or amount != amount.quantize(Decimal("0.01")):
            errors[code] = [f"Must be a positive amount below {MAX_FARE}, to the cent."]
        elif family.cabin not in cabins:
            errors[code] = [f"The airplane has no {Cabin(family.cabin).label.lower()} cabin."]
    return errors


def flight_family_fares_set(*, flight_id: int, prices: Mapping[str, Any]) -> Flight:
    """Set the fare families sold on a flight and their prices ({code: price}; a family left out is
    no longer sold there, an empty mapping sells none), and set each cabin that has families to its
    cheapest family's price. A cabin without families keeps its fare column.

    Rules: each code a FareFamily, each price a positive amount to the cent, each family's cabin on
    the flight's airplane. Raises FlightNotFound (404), ValidationFailed (400) naming
    `family_fares.<code>`.
    """
    with locked_transaction(durable=False):
        flight = flight_lock(flight_id=flight_id)
        errors = family_fares_errors(airplane_id=flight.airplane_id, prices=prices)
        if errors:
            raise ValidationFailed(
                "The fare families' prices are invalid.",
                errors={f"family_fares.{code}": messages for code, messages in errors.items()},
            )
        cabins = dict(FareFamily.objects.filter(code__in=list(prices)).values_list("code", "cabin"))
        fares = {
            code: {"cabin": cabins[code], "price": str(Decimal(str(price)).quantize(Decimal("0.01")))}
            for code, price in prices.items()
        }
        flight.family_fares = fares
        update_fields = ["family_fares", "updated_at"]
        for cabin, field in CABIN_FARE_FIELDS.items():
            family_prices = [Decimal(entry["price"]) for entry in fares.values() if entry["cabin"] == cabin]
            if family_prices:
                setattr(flight, field, min(family_prices))
                update_fields.append(field)
        flight.save(update_fields=update_fields)
        catalogue_changed()
    return flight
