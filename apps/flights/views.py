import dataclasses
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from apps.core.db_router import catalogue_read
from apps.core.templatetags.airline import hours_minutes
from apps.flights.exceptions import FlightNotFound
from apps.flights.fares import FareOption, fare_family_catalogue_cached, fare_option, fare_options
from apps.flights.forms import TRIP_CHOICES, FlightSearchForm, SeatChoiceForm
from apps.flights.journey_links import (
    JourneyLink,
    JourneyLinkInvalid,
    journey_flight_choice_parse,
    journey_link_parse,
    journey_seat_problem,
)
from apps.flights.journeys import (
    Journey,
    JourneyFlight,
    JourneyInvalid,
    TripKind,
    journey_connection_problem,
    journey_problem_errors,
    journey_search,
)
from apps.flights.models import MAX_PARTY_SIZE, MAX_SEGMENTS, Cabin, Flight
from apps.flights.search_cache import cached_search, search_token
from apps.flights.selectors import (
    FlightSearchCriteria,
    SeatStatus,
    flight_fares_by_day,
    flight_get,
    flight_list,
    flight_search_page,
    flight_seat_map,
)

RESULTS_PER_PAGE = 20

# Seat letters per block between aisles, by seats across (a narrow-body 6 → 3-3, a wide-body 9 → 3-3-3).
_SEAT_BLOCKS = {
    1: [1],
    2: [2],
    3: [3],
    4: [2, 2],
    5: [2, 3],
    6: [3, 3],
    7: [2, 3, 2],
    8: [2, 4, 2],
    9: [3, 3, 3],
}


def search(request: HttpRequest) -> HttpResponse:
    """The home page: where, when and how many."""
    form = FlightSearchForm(initial={"travellers": 1})
    return render(
        request, "flights/search.html", {"form": form, "hold_minutes": settings.BOOKING_HOLD_SECONDS // 60}
    )


def results(request: HttpRequest) -> HttpResponse:
    """Search results, the fares of the days around the chosen one, and the refine panel; a refused
    search keeps the form and the panel with every refused field marked. A return or multi-city
    search answers its segments instead (`_journey_results`)."""
    form = FlightSearchForm(request.GET or None)
    page, cache_hit, fare_days = None, False, []
    if form.is_valid() and form.cleaned_data["trip"] != TripKind.ONE_WAY:
        journey = _journey(form)
        if journey is not None:
            return _journey_results(request, form, journey)
    elif form.is_valid():
        criteria = form.criteria()
        page, cache_hit = _results_page(criteria, request.GET.get("page"))
        if page.object_list:  # each flight's fare families, priced for the party (the page's own copies)
            catalogue, travellers = fare_family_catalogue_cached(), _travellers(form)
            for flight in page.object_list:
                flight.fare_label = _flight_label(flight)
                flight.fare_choices = [
                    FareChoice(option=option, url=_family_seat_map_url(flight.pk, travellers, option))
                    for option in fare_options(flight.family_fares, catalogue, travellers)
                ]
        if criteria.trip_date:
            fare_days = _fare_days(criteria, criteria.trip_date, request.GET.copy(), form.origin_today())
    query = request.GET.copy()
    query.pop("page", None)
    response = render(
        request,
        "flights/results.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "travellers": _travellers(form),
            "fare_days": fare_days,
            "filters_refused": any(form[name].errors for name in ("sort", "price_min", "price_max")),
        },
    )
    if page is not None:
        response["X-Cache"] = "hit" if cache_hit else "miss"  # as the API says it
    return response


@dataclass(frozen=True)
class FareChoice:
    """A fare family in a flight's comparison (templates/flights/_fare_families.html) and the way to
    choose it: a link (`url`), a radio button of the page's form (`field`, `value`, `checked`), or
    none, being the fare already chosen (`chosen`)."""

    option: FareOption
    url: str = ""
    field: str = ""
    value: str = ""
    checked: bool = False
    chosen: bool = False

    @property
    def input_id(self) -> str:
        return f"{self.field}-{self.value}"


def _flight_label(flight: Flight) -> str:
    """How a fare comparison names its flight: its number and local departure, "AI205 at 09:30"."""
    departs = flight.departure_time.astimezone(ZoneInfo(flight.departure_airport.time_zone))
    return f"{flight.flight_number} at {departs:%H:%M}"


def _family_seat_map_url(flight_id: int, travellers: int, option: FareOption) -> str:
    query = urlencode({"travellers": travellers, "fare_family": option.family.code})
    return f"{reverse('flights:detail', args=[flight_id])}?{query}"


@dataclass(frozen=True)
class JourneyChoice:
    """A flight of a journey's segment as the results page offers it (times local, preformatted)."""

    flight: JourneyFlight
    departs: str  # "09:30"
    arrives: str
    day_offset: str  # "+1" when it lands on a later local day
    day: str  # "Thu 10 Dec"
    duration: str
    cabin: str  # its label
    checked: bool  # the default choice
    problem: str | None  # the connection rule against the previous segment's default choice
    # Its fare families, each a choice of this flight in that family (then the flight has no choice
    # of its own); empty for a flight that sells none.
    fares: list[FareChoice]
    position: int  # its segment's

    @property
    def label(self) -> str:
        return f"{self.flight.row['flight_number']} at {self.departs}"

    @property
    def clash_id(self) -> str:
        """The id of its connection problem's note, which its radio buttons name ("" without one)."""
        return f"clash-{self.position}-{self.flight.id}" if self.problem else ""


def _journey(form: FlightSearchForm) -> Journey | None:
    """The journey of a valid return or multi-city form, or None with its refusals added to the form."""
    try:
        return journey_search(
            trip=form.cleaned_data["trip"],
            segments=form.journey_segments(),
            passengers=form.cleaned_data["travellers"],
        )
    except JourneyInvalid as error:
        for name, messages in journey_problem_errors(error.problems, form.journey_field_name).items():
            for message in messages:
                form.add_error(name if name in form.fields else None, message)
        return None


def _journey_results(request: HttpRequest, form: FlightSearchForm, journey: Journey) -> HttpResponse:
    """One block per segment, its flights as radio choices. The default choice is the flights of the
    cheapest total that keeps the connection rule, else each segment's cheapest; a flight that
    breaks the rule with the previous segment's default is marked (the hold checks it again).

    A flight selling fare families is chosen in one of them: its comparison's radio buttons share the
    segment's group (`flight_<n>=<id>-<code>`), its cheapest family being the default's choice."""
    cabins = dict(Cabin.choices)
    sold = any(flight.row["family_fares"] for segment in journey.segments for flight in segment.flights)
    catalogue = fare_family_catalogue_cached() if sold else {}
    chosen_ids = set(journey.cheapest_total.flight_ids) if journey.cheapest_total else set()
    segments, previous = [], None
    for segment in journey.segments:
        default = next((f for f in segment.flights if f.id in chosen_ids), None) or min(
            segment.flights, key=lambda f: (f.price, f.departure_time), default=None
        )
        choices = []
        for flight in segment.flights:
            row = flight.row
            departs = flight.departure_time.astimezone(ZoneInfo(row["departure_airport__time_zone"]))
            arrives = flight.arrival_time.astimezone(ZoneInfo(row["arrival_airport__time_zone"]))
            days = (arrives.date() - departs.date()).days
            options = fare_options(row["family_fares"], catalogue, journey.passengers)
            cheapest = min(options, key=lambda option: option.price, default=None)
            choices.append(
                JourneyChoice(
                    flight=flight,
                    departs=f"{departs:%H:%M}",
                    arrives=f"{arrives:%H:%M}",
                    day_offset=f"+{days}" if days > 0 else "",
                    day=f"{departs:%a} {departs.day} {departs:%b}",
                    duration=hours_minutes(flight.arrival_time - flight.departure_time),
                    cabin=cabins.get(flight.cabin, flight.cabin),
                    checked=flight is default,
                    problem=journey_connection_problem(previous, flight) if previous else None,
                    fares=[
                        FareChoice(
                            option=option,
                            field=f"flight_{segment.position}",
                            value=f"{flight.id}-{option.family.code}",
                            checked=flight is default and option is cheapest,
                        )
                        for option in options
                    ],
                    position=segment.position,
                )
            )
        segments.append((segment, choices, default))
        previous = default
    response = render(
        request,
        "flights/journey_results.html",
        {
            "form": form,
            "journey": journey,
            "segments": segments,
            "travellers": journey.passengers,
            "bookable": all(segment.flights for segment in journey.segments),
            "trip_label": dict(TRIP_CHOICES)[journey.trip],
            "min_connection": settings.JOURNEY_MIN_CONNECTION_MINUTES,
        },
    )
    response["X-Cache"] = "hit" if all(journey.hits) else "miss"
    return response


JOURNEY_FLIGHT_PARAMETERS = [f"flight_{position}" for position in range(1, MAX_SEGMENTS + 1)]


def journey_continue(request: HttpRequest) -> HttpResponse:
    """The results page's Continue: the chosen flight of each segment (radio groups flight_1,
    flight_2…, one per segment, since radios sharing a name are one choice), with its fare family
    where it was chosen in one (`57-ECO_FLEX`), as the booking page takes them,
    `/bookings/new/?flights=12&flights=57&count=2&family_2=ECO_FLEX`, in segment order."""
    flights, families = [], {}
    for position, name in enumerate(JOURNEY_FLIGHT_PARAMETERS, start=1):
        value = request.GET.get(name, "").strip()
        if not value:
            break
        try:
            flight_id, family = journey_flight_choice_parse(value)
        except JourneyLinkInvalid as error:
            return HttpResponseBadRequest(str(error))
        flights.append(flight_id)
        if family:
            families[position] = family
    count = request.GET.get("count", "").strip()
    if not flights or not (count.isascii() and count.isdigit() and 1 <= int(count) <= MAX_PARTY_SIZE):
        return HttpResponseBadRequest("Choose one flight for each part of the trip.")
    journey = JourneyLink(flight_ids=tuple(flights), count=int(count), seats={}, families=families)
    return redirect(journey.passengers_url())


def _results_page(criteria: FlightSearchCriteria, number: str | None) -> tuple[Page, bool]:
    """One page of results through the API's search cache (same catalogue version, same TTL), and
    whether it came from the cache.

    Cached: the total and the page's flights, with the airports, cities and airplane the page shows
    already joined. A staff edit bumps the catalogue version, so the next search misses; shown
    availability may lag by at most the TTL, and booking never trusts it.
    """
    requested = max(int(number), 1) if number and number.isascii() and number.isdigit() else 1
    token = search_token(
        scope="page:flights:results",
        criteria_token=criteria.cache_token(),
        page=str(requested),
        page_size=RESULTS_PER_PAGE,
    )

    def search() -> tuple[int, int, list[Flight]]:
        number = requested
        found = flight_search_page(criteria=criteria, page=number, page_size=RESULTS_PER_PAGE)
        if not found.rows and found.count:  # past the last page: the last one, as Paginator.get_page
            number = Paginator(range(found.count), RESULTS_PER_PAGE).num_pages
            found = flight_search_page(criteria=criteria, page=number, page_size=RESULTS_PER_PAGE)
        return found.count, number, flight_list(flight_ids=[row["id"] for row in found.rows])

    (count, page_number, flights), hit = cached_search(token, lambda: catalogue_read(search))
    # Paginating a stand-in of the right length gives the page its numbers without the rows.
    return Page(flights, page_number, Paginator(range(count), RESULTS_PER_PAGE)), hit


@dataclass(frozen=True)
class FareDayLink:
    day: date
    lowest_fare: Decimal | None
    currency: str | None
    url: str | None  # that day's search; None for a day that has passed
    chosen: bool


def _fare_days(
    criteria: FlightSearchCriteria, chosen: date, query: QueryDict, today: date
) -> list[FareDayLink]:
    """The lowest fare of each day around the chosen one (apps/flights/selectors.py:
    flight_fares_by_day), cached as the results are, each with the link to that day's search."""
    travellers = criteria.travellers or 1
    route = FlightSearchCriteria(
        departure_codes=criteria.departure_codes,
        arrival_codes=criteria.arrival_codes,
        travellers=travellers,
        trip_date=chosen,
    )
    token = search_token(
        scope="page:flights:fares-by-day", criteria_token=route.cache_token(), page="1", page_size=0
    )
    days, _ = cached_search(
        token,
        lambda: catalogue_read(
            lambda: flight_fares_by_day(
                departure_codes=route.departure_codes,
                arrival_codes=route.arrival_codes,
                day=chosen,
                travellers=travellers,
            )
        ),
    )
    query.pop("page", None)
    links = []
    for found in days:
        query["date"] = found.day.isoformat()
        links.append(
            FareDayLink(
                day=found.day,
                lowest_fare=found.lowest_fare,
                currency=found.currency,
                url=f"?{query.urlencode()}" if found.day >= today else None,
                chosen=found.day == chosen,
            )
        )
    return links


def flight_detail(request: HttpRequest, flight_id: int) -> HttpResponse:
    """The flight and its seat map: one seat per traveller, chosen on the map or in plain selects.

    One-way, from the results: `travellers`, `infants` (on laps, no seat: carried to the passenger
    page) and `fare_family` where one was chosen. With a journey in its address
    (`flights=…&count=…&family_<n>=…&seats_<n>=…`, apps/flights/journey_links.py) it is that journey's
    flight n in journey mode: its form answers `journey_seats`, which returns to the journey's
    passenger page with these seats put in and the other flights' choices kept. Either way a fare
    family offers only its cabin's seats, at its price (the hold takes seats in that cabin only:
    apps/bookings/services/holds.py).
    """
    journey, position, infants = None, 0, 0
    if "flights" in request.GET:
        mode = _journey_mode(request, flight_id)
        if isinstance(mode, HttpResponse):
            return mode
        journey, position = mode
        travellers, infants = journey.count, journey.infants
    else:
        choice = SeatChoiceForm(request.GET)
        valid = choice.is_valid()
        travellers = (valid and choice.cleaned_data["travellers"]) or 1
        infants = min((valid and choice.cleaned_data["infants"]) or 0, travellers)
    try:  # display only: the hold decides on the primary (apps/core/db_router.py)
        flight, seat_map = catalogue_read(
            lambda: (flight_get(flight_id=flight_id), flight_seat_map(flight_id=flight_id))
        )
    except FlightNotFound:
        raise Http404("No such flight") from None
    closed = _sale_closed_page(request, flight, travellers)
    if closed is not None:
        return closed
    code = journey.families.get(position, "") if journey is not None else _family_code(request)
    fare_family = fare_option(
        flight.family_fares, code, travellers, infants=infants, currency=flight.currency
    )
    if journey is not None and code and fare_family is None:
        return _family_not_sold(request, journey, position, flight)
    seats = seat_map.seats
    if fare_family is not None:
        seats = [
            dataclasses.replace(
                seat, fare=fare_family.price if seat.cabin == fare_family.family.cabin else None
            )
            for seat in seats
        ]
    cabins = _cabins(seats)
    available = [seat for seat in seats if seat.status == "available" and seat.fare is not None]
    # Seats chosen before (e.g. when one of them was taken meanwhile) stay chosen while still free.
    free = {seat.code for seat in available}
    if journey is None:
        previous = [code.strip().upper() for code in request.GET.getlist("seats")][:travellers]
    else:
        previous = list(journey.seats.get(position, []))[:travellers]
    chosen = [code if code in free else "" for code in previous] + [""] * (travellers - len(previous))
    # The seat map is one tab stop (arrow keys move within it, airline.js): the first chosen seat, else
    # the first free one, else the first seat.
    first_seat = next(iter(available or seats), None)
    tab_stop = next((code for code in chosen if code), first_seat.code if first_seat else None)
    journey_mode = (
        _journey_seat_map_mode(journey, position, sells_families=bool(flight.family_fares))
        if journey is not None
        else None
    )
    return render(
        request,
        "flights/flight_detail.html",
        {
            "flight": flight,
            "cabins": cabins,
            "available": available,
            "available_by_cabin": [
                (cabin.label, [seat for seat in available if seat.cabin == cabin.cabin]) for cabin in cabins
            ],
            "traveller_seats": list(enumerate(chosen, start=1)),
            "travellers": travellers,
            "infants": infants,
            "tab_stop": tab_stop,
            "fare_family": fare_family,
            "journey": journey_mode,
        },
    )


def flight_fares(request: HttpRequest, flight_id: int) -> HttpResponse:
    """The fare families of flight n of a journey (its address as the seat map's in journey mode),
    compared for the journey's travellers and infants; choosing one returns to the journey's passenger
    page with that flight's family changed (its seats chosen anew) and every other choice kept.
    Without a journey in its address it is the flight's seat map."""
    if "flights" not in request.GET:
        return redirect("flights:detail", flight_id=flight_id)
    mode = _journey_mode(request, flight_id)
    if isinstance(mode, HttpResponse):
        return mode
    journey, position = mode
    try:
        flight = catalogue_read(lambda: flight_get(flight_id=flight_id))
    except FlightNotFound:
        raise Http404("No such flight") from None
    closed = _sale_closed_page(request, flight, journey.count)
    if closed is not None:
        return closed
    chosen = journey.families.get(position)
    options = fare_options(
        flight.family_fares,
        fare_family_catalogue_cached(),
        journey.count,
        infants=journey.infants,
        currency=flight.currency,
    )
    if chosen and chosen not in {option.family.code for option in options}:
        return _family_not_sold(request, journey, position, flight)
    return render(
        request,
        "flights/flight_fares.html",
        {
            "flight": flight,
            "position": position,
            "flights": len(journey.flight_ids),
            "travellers": journey.count,
            "infants": journey.infants,
            "label": _flight_label(flight),
            "choices": [
                FareChoice(
                    option=option,
                    url=journey.with_family(position, option.family.code).passengers_url(),
                    chosen=option.family.code == chosen,
                )
                for option in options
            ],
            "back_url": journey.passengers_url(),
        },
    )


def _journey_mode(request: HttpRequest, flight_id: int) -> tuple[JourneyLink, int] | HttpResponse:
    """The journey in a seat map's or fares page's address and this flight's position in it, or the
    way back to the search, saying what is wrong with the address."""
    try:
        journey = journey_link_parse(request.GET)
    except JourneyLinkInvalid as error:
        messages.error(request, f"{error} Please search again.")
        return redirect("flights:search")
    if flight_id not in journey.flight_ids:
        messages.error(request, "This flight is not part of the journey. Please search again.")
        return redirect("flights:search")
    return journey, journey.flight_ids.index(flight_id) + 1


def _sale_closed_page(request: HttpRequest, flight: Flight, travellers: int) -> HttpResponse | None:
    """A flight no longer on sale (cancelled, departed, or inside the booking cutoff: the sale rule,
    Flight.sale_closed_reason) says why and offers nothing to choose; None while it is on sale."""
    sale_closed = flight.sale_closed_reason(timezone.now())
    if not sale_closed:
        return None
    departs = flight.departure_time.astimezone(ZoneInfo(flight.departure_airport.time_zone)).date()
    search = urlencode(
        {
            "origin": flight.departure_airport.iata_code,
            "destination": flight.arrival_airport.iata_code,
            "date": departs.isoformat(),
            "travellers": travellers,
        }
    )
    return render(
        request,
        "flights/flight_closed.html",
        {"flight": flight, "reason": sale_closed, "search_url": f"{reverse('flights:results')}?{search}"},
    )


def _family_not_sold(
    request: HttpRequest, journey: JourneyLink, position: int, flight: Flight
) -> HttpResponse:
    """A journey's address naming a fare family flight `position` does not sell (any more): said, and
    that flight's fares shown to choose from, the other flights' choices kept."""
    messages.error(
        request,
        f"Flight {position} ({flight.flight_number}) does not sell the fare "
        f"{journey.families[position]}: choose one of its fares.",
    )
    return redirect(journey.with_family(position, None).fares_url(position))


def _family_code(request: HttpRequest) -> str:
    """The fare family named in the address (a code, upper-cased; "" for none)."""
    return request.GET.get("fare_family", "").strip().upper()[:20]


def _journey_seat_map_mode(journey: JourneyLink, position: int, *, sells_families: bool) -> dict:
    """What a seat map in journey mode adds: which flight it is, the rest of the journey as hidden
    fields (its travellers, infants, fare families and the other flights' seats as they were), and
    the ways back to the passenger page and to this flight's fares."""
    return {
        "position": position,
        "flights": len(journey.flight_ids),
        "hidden": [*journey.query_pairs(without_seats_of=position), ("segment", position)],
        "back_url": journey.passengers_url(),
        "fares_url": journey.fares_url(position) if sells_families else None,
    }


def journey_seats(request: HttpRequest) -> HttpResponse:
    """A journey's seat map answered: its flight's seats (`segment`, one `seats` per traveller, all
    chosen or all "any seat") put into the journey, then back to its passenger page. A choice that
    does not fit (some travellers without a seat, a seat twice) goes back to that seat map, saying so."""
    try:
        journey = journey_link_parse(request.GET)
    except JourneyLinkInvalid as error:
        messages.error(request, f"{error} Please search again.")
        return redirect("flights:search")
    segment = request.GET.get("segment", "").strip()
    if not (segment.isascii() and segment.isdigit() and 1 <= int(segment) <= len(journey.flight_ids)):
        messages.error(request, "Choose seats from one of the journey's seat maps.")
        return redirect(journey.passengers_url())
    position = int(segment)
    given = [code.strip().upper() for code in request.GET.getlist("seats")]
    chosen = [code for code in given if code]
    problem = None
    if chosen and len(given) != len(chosen):
        problem = "Choose a seat for every traveller, or leave all of them on “Any seat”."
    elif chosen:
        problem = journey_seat_problem(chosen, count=journey.count)
    journey = journey.with_seats(position, chosen)
    if problem is not None:
        messages.error(request, problem)
        return redirect(journey.seat_map_url(position))
    return redirect(journey.passengers_url())


@dataclass(frozen=True)
class CabinBlock:
    cabin: str
    label: str
    fare: Decimal | None
    letters: list[str | None]  # None marks an aisle
    rows: list[tuple[int, list[SeatStatus | None | str]]]  # "aisle" marks an aisle, None a gap


def _cabins(seats: list[SeatStatus]) -> list[CabinBlock]:
    """Group the seat map into cabins, rows and aisles for display."""
    labels = dict(Cabin.choices)
    order = [Cabin.FIRST, Cabin.BUSINESS, Cabin.PREMIUM_ECONOMY, Cabin.ECONOMY]
    blocks = []
    for cabin in sorted(
        {seat.cabin for seat in seats},
        key=lambda c: (min(s.row for s in seats if s.cabin == c), order.index(c)),
    ):
        cabin_seats = [seat for seat in seats if seat.cabin == cabin]
        letters = sorted({seat.letter for seat in cabin_seats})
        layout: list[str | None] = []
        position = 0
        for block_size in _SEAT_BLOCKS.get(len(letters), [len(letters)]):
            if layout:
                layout.append(None)
            layout.extend(letters[position : position + block_size])
            position += block_size
        by_row: dict[int, dict[str, SeatStatus]] = {}
        for seat in cabin_seats:
            by_row.setdefault(seat.row, {})[seat.letter] = seat
        rows = [
            (row, [by_row[row].get(letter) if letter else "aisle" for letter in layout])
            for row in sorted(by_row)
        ]
        blocks.append(
            CabinBlock(cabin=cabin, label=labels[cabin], fare=cabin_seats[0].fare, letters=layout, rows=rows)
        )
    return blocks


def _travellers(form: FlightSearchForm) -> int:
    return form.cleaned_data.get("travellers") or 1 if form.is_bound and form.is_valid() else 1
