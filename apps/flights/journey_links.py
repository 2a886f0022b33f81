"""A journey as the website's addresses carry it from page to page: stateless, GET only, no session.

    /bookings/new/?flights=12&flights=57&count=2&seats_2=3A,3B

`flights` repeated in travel order, `count` travellers, and `seats_<n>`: the seats chosen on flight n,
one per traveller in traveller order, comma-separated; a flight without it has its seats assigned by
the hold. The journey's passenger page (apps/bookings/views.py: _journey_new) reads it and links each
flight's seat map in journey mode (apps/flights/views.py: flight_detail), which carries the rest of
the journey unchanged and answers through `journey_seats` with this flight's seats put in.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from django.http import QueryDict
from django.urls import reverse

from apps.flights.models import MAX_PARTY_SIZE, MAX_SEGMENTS

_SEATS_PARAMETER = re.compile(r"^seats_(\d{1,2})$")


def seats_parameter(position: int) -> str:
    return f"seats_{position}"


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
    """A journey being booked on the website: its flights, travellers and the seats chosen so far."""

    flight_ids: tuple[int, ...]
    count: int
    seats: Mapping[int, list[str]]

    def query(self) -> str:
        pairs: list[tuple[str, object]] = [("flights", flight_id) for flight_id in self.flight_ids]
        pairs.append(("count", self.count))
        pairs += [(seats_parameter(p), ",".join(codes)) for p, codes in sorted(self.seats.items()) if codes]
        return urlencode(pairs, safe=",")  # seats_2=7C,7D reads as the page's address

    def with_seats(self, position: int, codes: Sequence[str]) -> "JourneyLink":
        seats = {p: list(c) for p, c in self.seats.items() if p != position}
        if codes:
            seats[position] = list(codes)
        return JourneyLink(flight_ids=self.flight_ids, count=self.count, seats=seats)

    def passengers_url(self) -> str:
        return f"{reverse('bookings:new')}?{self.query()}"

    def seat_map_url(self, position: int) -> str:
        return f"{reverse('flights:detail', args=[self.flight_ids[position - 1]])}?{self.query()}"


def journey_link_parse(query: QueryDict) -> JourneyLink:
    """The journey in a seat map's address (journey mode) or its form's answer.

    Raises JourneyLinkInvalid when the flights (2 to MAX_SEGMENTS, each once), the number of
    travellers or a `seats_<n>` are not ones our pages write.
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
    return JourneyLink(flight_ids=ids, count=int(count), seats=journey_seats_parse(query, segments=len(ids)))
