"""How a price is made (docs/FARES.md): a fare is a price all in, split into a base fare and taxes.

A flight's fares (the cabin columns and its families' prices, `Flight.family_fares`) are what a
traveller pays per seat: search shows them, times the travellers, as the total. The hold splits each
seat's price once, in memory, and stores the parts with the seat (`SeatAssignment.base_fare`,
`taxes`), so the breakdown is never recomputed from settings that may have changed since.

The split, per seat, each line rounded once to the cent (half up):
1. the departing airport's charge (`Airport.departure_charge`, e.g. "User development fee"), only
   where its currency is the flight's (an airport's charge in another currency is not converted);
2. the percentage tax on the base fare, FARE_TAX_PERCENT of the seat's cabin: base = rest ÷ (1 + rate),
   the tax is the rest minus the base, so base + taxes is exactly the price.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings

from apps.core.db_router import catalogue_read
from apps.flights.models import Airport, FareFamily
from apps.flights.search_cache import cached_search

CENT = Decimal("0.01")
AIRPORT_CHARGE_CODE = "AIRPORT"
# ISO 4217 currencies without a minor unit; every other currency we sell in has cents.
ZERO_DECIMAL_CURRENCIES = frozenset({"JPY", "KRW", "VND", "CLP", "ISK"})


@dataclass(frozen=True)
class PriceSplit:
    base_fare: Decimal
    taxes: list[dict[str, str]]  # [{"code", "name", "amount"}], amounts as text with two decimals

    @property
    def total(self) -> Decimal:
        return self.base_fare + sum((Decimal(tax["amount"]) for tax in self.taxes), Decimal("0"))


def airport_charge(airport: Airport, currency: str) -> tuple[str, Decimal] | None:
    """(name, amount) of the charge `airport` makes per departing passenger on a flight sold in
    `currency`, or None: none set, or set in another currency."""
    if airport.departure_charge is None or airport.departure_charge_currency != currency:
        return None
    return airport.departure_charge_name or "Airport charge", airport.departure_charge


def price_split(price: Decimal, *, cabin: str, charge: tuple[str, Decimal] | None) -> PriceSplit:
    """`price` (all in, one seat) as base fare and taxes. A charge larger than the price is left out
    (a fare below the airport's charge is the airline's promotion, not a negative base fare)."""
    taxes: list[dict[str, str]] = []
    rest = price
    if charge is not None and charge[1] < price:
        name, amount = charge
        taxes.append({"code": AIRPORT_CHARGE_CODE, "name": name, "amount": str(amount.quantize(CENT))})
        rest -= amount
    rate = Decimal(settings.FARE_TAX_PERCENT.get(cabin, "0"))
    base = (rest * 100 / (100 + rate)).quantize(CENT, rounding=ROUND_HALF_UP)
    tax = (rest - base).quantize(CENT)
    if tax:
        taxes.insert(0, {"code": settings.FARE_TAX_CODE, "name": settings.FARE_TAX_NAME, "amount": str(tax)})
    return PriceSplit(base_fare=base, taxes=taxes)


def fare_share(adult_fare: Decimal, percent: int, *, currency: str) -> Decimal:
    """`percent` of `adult_fare` (what a child or an infant pays: docs/PASSENGERS.md, "Fares"), rounded
    once, half up, to the currency's minor unit (whole units for a currency without one)."""
    unit = Decimal("1") if currency in ZERO_DECIMAL_CURRENCIES else CENT
    return (adult_fare * Decimal(percent) / Decimal(100)).quantize(unit, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class FareOption:
    """One fare family as a flight sells it, for a party of `travellers` with seats and `infants` on
    their laps (no seat): what search and the booking pages show."""

    family: FareFamily
    price: Decimal  # per traveller, all in
    travellers: int
    infants: int = 0
    currency: str = ""  # the flight's: an infant's share is rounded to its minor unit

    @property
    def infant_price(self) -> Decimal:
        """What an infant on the lap of a traveller of this family pays (its `infant_percent`)."""
        return fare_share(self.price, self.family.infant_percent, currency=self.currency)

    @property
    def total(self) -> Decimal:
        """The price for the whole party (search's "price for all travellers"), infants at their share."""
        return self.price * self.travellers + self.infant_price * self.infants


def fare_family_catalogue() -> dict[str, FareFamily]:
    """Every fare family by code, in display order (one small query: a handful of rows)."""
    return {family.code: family for family in FareFamily.objects.all()}


def fare_family_catalogue_cached() -> dict[str, FareFamily]:
    """`fare_family_catalogue`, cached under the catalogue version like a search's answer (a family's
    change bumps it: apps/flights/admin.py), for answers built outside a cached body (journeys)."""
    catalogue, _ = cached_search("fare-families", lambda: catalogue_read(fare_family_catalogue))
    return catalogue


def fare_options(
    family_fares: Mapping[str, Mapping[str, str]] | None,
    catalogue: Mapping[str, FareFamily],
    travellers: int,
    *,
    infants: int = 0,
    currency: str = "",
) -> list[FareOption]:
    """The families a flight sells (`Flight.family_fares`), in the catalogue's display order."""
    sold = family_fares or {}
    return [
        FareOption(
            family=family,
            price=Decimal(sold[code]["price"]),
            travellers=travellers,
            infants=infants,
            currency=currency,
        )
        for code, family in catalogue.items()
        if code in sold
    ]


def fare_option(
    family_fares: Mapping[str, Mapping[str, str]] | None,
    code: str,
    travellers: int,
    *,
    infants: int = 0,
    currency: str = "",
    catalogue: Mapping[str, FareFamily] | None = None,
) -> FareOption | None:
    """The family `code` as a flight sells it (`Flight.family_fares`), or None where it does not.
    The family's rules come from `catalogue` when given, else from one query."""
    if not code or code not in (family_fares or {}):
        return None
    if catalogue is None:
        catalogue = {f.code: f for f in FareFamily.objects.filter(code=code)}
    options = fare_options(
        family_fares,
        {code: catalogue[code]} if code in catalogue else {},
        travellers,
        infants=infants,
        currency=currency,
    )
    return options[0] if options else None
