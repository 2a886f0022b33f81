"""A journey as the website's addresses carry it from page to page: stateless, GET only, no session.

    /bookings/new/?flights=12&flights=57&count=2&infants=1&family_1=ECO_FLEX&family_2=ECO_SAVER&seats_2=3A,3B

`flights` repeated in travel order, `count` travellers with a seat, `infants` on their laps (no seat;
left out when there are none), `family_<n>`: the fare family chosen on flight n (docs/FARES.md; a
flight without one sells each seat at its cabin's fare), and `seats_<n>`: the seats chosen on flight
n, one per traveller in traveller order, comma-separated; a flight without it has its seats assigned
by the hold. The journey's passenger page (apps/bookings/views.py: _journey_new) reads it and links
each flight's seat map in journey mode (apps/flights/views.py: flight_detail), which carries the rest
of the journey unchanged and answers through `journey_seats` with this flight's seats put in, and
each flight's fares (apps/flights/views.py: flight_fares), whose choice changes that flight's family
only.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.http import QueryDict
from django.urls import reverse

from apps.flights.models import MAX_PARTY_SIZE, MAX_SEGMENTS

_SEATS_PARAMETER = re.compile(r"^seats_(\d{1,2})$")
_FAMILY_PARAMETER = re.compile(r"^family_([0-9]{1,2})$")
# A fare family's code as FareFamily.code allows it (apps/flights/models.py).
_FAMILY_CODE = re.compile(r"^[A-Z][A-Z0-9_]{1,19}$")
# A flight chosen on the journey results: its id, with the fare family chosen on it ("57-ECO_FLEX").
_FLIGHT_CHOICE = re.compile(r"^([0-9]{1,18})(?:-([A-Z][A-Z0-9_]{1,19}))?$")


def seats_parameter(position: int) -> str:
    return f"seats_{position}"


def family_parameter(position: int) -> str:
    return f"family_{position}"


def seat_codes_parse(value: str) -> list[str]:
    """`3a, 3B` → ["3A", "3B"]; empty items are left out."""
    return [code.strip().upper() for code in value.split(",") if code.strip()]


class JourneyLinkInvalid(ValueError):
    """A journey's address that no page of ours wrote: the sentence says what is wrong."""


def journey_seats_parse(query: QueryDict, *, segments: int) -> dict[int, list[str]]:
    """The seats chosen per flight position (1-based) in `query`, only flights with some chosen.

    Raises JourneyLinkInvalid for a `seats_<n>` naming no flight of the journey. Whether the seats fit
    (one per traveller, each once, on the flight) is for the page to say: `journey_seat_problem`.
    """
    seats: dict[int, list[str]] = {}
    for name in query:
        if not name.startswith("seats_"):
            continue
        match = _SEATS_PARAMETER.match(name)
        if match is None or not 1 <= int(match.group(1)) <= segments:
            raise JourneyLinkInvalid("Seats were chosen for a flight that is not in this journey.")
        codes = seat_codes_parse(query.get(name, ""))
        if codes:
            seats[int(match.group(1))] = codes
    return seats


def journey_families_parse(query: QueryDict, *, segments: int) -> dict[int, str]:
    """The fare family chosen per flight position (1-based) in `query`, upper-cased; only flights with one.

    Raises JourneyLinkInvalid for a `family_<n>` naming no flight of the journey, or a value that is
    not a family's code. Whether the flight sells that family is for the page to say.
    """
    families: dict[int, str] = {}
    for name in query:
        if not name.startswith("family_"):
            continue
        match = _FAMILY_PARAMETER.match(name)
        if match is None or not 1 <= int(match.group(1)) <= segments:
            raise JourneyLinkInvalid("A fare was chosen for a flight that is not in this journey.")
        code = query.get(name, "").strip().upper()
        if not code:
            continue
        if not (code.isascii() and _FAMILY_CODE.match(code)):
            raise JourneyLinkInvalid("A fare was chosen that is not one we sell.")
        families[int(match.group(1))] = code
    return families


def journey_infants_parse(query: QueryDict, *, count: int) -> int:
    """The infants on the travellers' laps in `query` (0 when left out).

    Raises JourneyLinkInvalid for anything but a whole number from 0 to one per traveller, within
    MAX_PARTY_SIZE travellers in all (the hold's rule: docs/PASSENGERS.md).
    """
    value = query.get("infants", "").strip() or "0"
    if not (
        value.isascii() and value.isdigit() and int(value) <= count and count + int(value) <= MAX_PARTY_SIZE
    ):
        raise JourneyLinkInvalid(
            f"A journey has at most one infant per traveller and {MAX_PARTY_SIZE} travellers in all."
        )
    return int(value)


def journey_flight_choice_parse(value: str) -> tuple[int, str | None]:
    """A flight chosen on the journey results (`57`, or `57-ECO_FLEX` with its fare family): (flight
    id, family code or None). Raises JourneyLinkInvalid for anything else."""
    match = _FLIGHT_CHOICE.match(value.strip().upper())
    if match is None or int(match.group(1)) < 1:
        raise JourneyLinkInvalid("Choose one flight for each part of the trip.")
    return int(match.group(1)), match.group(2)


def journey_seat_problem(codes: Sequence[str], *, count: int) -> str | None:
    """What is wrong with `codes` as the seats of `count` travellers on one flight (a sentence), or None."""
    if len(codes) != count:
        seats = f"{count} seat{'s' if count != 1 else ''}"
        return f"Choose {seats}, one for each traveller, or let us assign them."
    repeated = sorted({code for code in codes if codes.count(code) > 1})
    if repeated:
        return f"Each traveller needs a different seat ({', '.join(repeated)} was chosen twice)."
    return None


@dataclass(frozen=True)
class JourneyLink:
    """A journey being booked on the website: its flights, travellers (`count` seated, `infants` on
    their laps), and the fare families and seats chosen so far, by flight position (1-based)."""

    flight_ids: tuple[int, ...]
    count: int
    seats: Mapping[int, list[str]]
    families: Mapping[int, str] = field(default_factory=dict)
    infants: int = 0

    def query_pairs(self, *, without_seats_of: int | None = None) -> list[tuple[str, object]]:
        """The address's parameters in the order our pages write them; the seats of flight
        `without_seats_of` left out (its seat map's form sends them)."""
        pairs: list[tuple[str, object]] = [("flights", flight_id) for flight_id in self.flight_ids]
        pairs.append(("count", self.count))
        if self.infants:
            pairs.append(("infants", self.infants))
        pairs += [(family_parameter(p), code) for p, code in sorted(self.families.items())]
        pairs += [
            (seats_parameter(p), ",".join(codes))
            for p, codes in sorted(self.seats.items())
            if codes and p != without_seats_of
        ]
        return pairs

    def query(self) -> str:
        return urlencode(self.query_pairs(), safe=",")  # seats_2=7C,7D reads as the page's address

    def with_seats(self, position: int, codes: Sequence[str]) -> "JourneyLink":
        seats = {p: list(c) for p, c in self.seats.items() if p != position}
        if codes:
            seats[position] = list(codes)
        return JourneyLink(
            flight_ids=self.flight_ids,
            count=self.count,
            seats=seats,
            families=self.families,
            infants=self.infants,
        )

    def with_family(self, position: int, code: str | None) -> "JourneyLink":
        """The journey with flight `position`'s fare family `code` (None: none); the other flights keep
        theirs and their seats. A new family starts that flight's seat choice over: its seats may be in
        another cabin, and are priced anew."""
        families = {p: c for p, c in self.families.items() if p != position}
        if code:
            families[position] = code
        seats = (
            self.seats
            if self.families.get(position) == code
            else {p: list(c) for p, c in self.seats.items() if p != position}
        )
        return JourneyLink(
            flight_ids=self.flight_ids, count=self.count, seats=seats, families=families, infants=self.infants
        )

    def passengers_url(self) -> str:
        return f"{reverse('bookings:new')}?{self.query()}"

    def seat_map_url(self, position: int) -> str:
        return f"{reverse('flights:detail', args=[self.flight_ids[position - 1]])}?{self.query()}"

    def fares_url(self, position: int) -> str:
        return f"{reverse('flights:fares', args=[self.flight_ids[position - 1]])}?{self.query()}"


def journey_link_parse(query: QueryDict) -> JourneyLink:
    """The journey in a seat map's or fares page's address (journey mode) or its form's answer.

    Raises JourneyLinkInvalid when the flights (2 to MAX_SEGMENTS, each once), the number of
    travellers or infants, a `family_<n>` or a `seats_<n>` are not ones our pages write.
    """
    values = [value.strip() for value in query.getlist("flights")]
    if not all(value.isascii() and value.isdigit() and int(value) >= 1 for value in values):
        raise JourneyLinkInvalid("The journey's flights are not ones we know.")
    ids = tuple(int(value) for value in values)
    if not 2 <= len(ids) <= MAX_SEGMENTS or len(set(ids)) != len(ids):
        raise JourneyLinkInvalid(f"A journey has 2 to {MAX_SEGMENTS} different flights.")
    count = query.get("count", "").strip()
    if not (count.isascii() and count.isdigit() and 1 <= int(count) <= MAX_PARTY_SIZE):
        raise JourneyLinkInvalid(f"A journey is for 1 to {MAX_PARTY_SIZE} travellers.")
    return JourneyLink(
        flight_ids=ids,
        count=int(count),
        seats=journey_seats_parse(query, segments=len(ids)),
        families=journey_families_parse(query, segments=len(ids)),
        infants=journey_infants_parse(query, count=int(count)),
    )
