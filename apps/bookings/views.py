import re
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods

from apps.bookings.access import booking_for_visitor, booking_visitor_required
from apps.bookings.calendar import CONTENT_TYPE as CALENDAR_CONTENT_TYPE
from apps.bookings.calendar import booking_calendar, booking_calendar_filename
from apps.bookings.exceptions import (
    BookingNotFound,
    FlightNotBookable,
    QuoteChanged,
    SeatUnavailable,
    SeatUnknown,
    SoldOut,
)
from apps.bookings.forms import CancelConfirmForm, HoldForm, HoldStartForm, passenger_formset
from apps.bookings.models import Booking, Passenger
from apps.bookings.pricing import passenger_fare
from apps.bookings.selectors import (
    booking_get,
    booking_get_owned,
    booking_journey_flight_ids,
    booking_list,
    booking_money_record,
    booking_own_hold_with_names,
    booking_own_with_seats,
    bookings_money_attach,
)
from apps.bookings.services import booking_cancel, booking_hold_create
from apps.bookings.services.cancellation import booking_cancel_refusal
from apps.bookings.services.flight_changes import flight_change_refusal
from apps.bookings.services.holds import journey_refusal
from apps.bookings.services.quotes import booking_cancellation_quote
from apps.core.exceptions import ApplicationError, ValidationFailed
from apps.core.idempotency import (
    IdempotencyKeyInUse,
    IdempotencyKeyReused,
    IdempotencyKeyTaken,
    TransactionalKey,
    idempotency_answer_recorded,
    request_fingerprint,
)
from apps.core.money import money_display
from apps.core.ratelimit import user_key
from apps.core.views import page_rate_limit
from apps.flights.exceptions import FlightNotFound
from apps.flights.fares import FareOption, fare_family_catalogue_cached, fare_option
from apps.flights.journey_links import JourneyLink, journey_seat_problem
from apps.flights.models import MAX_PARTY_SIZE, Cabin, Flight
from apps.flights.selectors import SeatStatus, flight_get, flight_list, flight_seat_map


@login_required
@page_rate_limit(group="booking", key=user_key, rate_setting="RATELIMIT_BOOKING", fail_open=True)
def booking_new(request: HttpRequest) -> HttpResponse:
    """Passenger details for the seats chosen on the seat map; submitting holds the seats.

    The page carries an idempotency key made when it is rendered: submitting it again (a double
    click, a reload, back-and-submit) leads to the first hold instead of holding more seats.
    """
    start = HoldStartForm(request.GET)
    if not start.is_valid():
        if start.flight_values:  # a journey from the search: every problem said, then back to it
            for errors in start.errors.values():
                for error in errors:
                    messages.error(request, error)
            return redirect("flights:search")
        for error in start.non_field_errors():
            messages.error(request, error)
        flight_id = start.cleaned_data.get("flight")
        return redirect(
            _seat_map_url(flight_id, len(start.seat_values)) if flight_id else reverse("flights:search")
        )
    if start.cleaned_data["flights"]:
        return _journey_new(
            request,
            JourneyLink(
                flight_ids=tuple(start.cleaned_data["flights"]),
                count=start.cleaned_data["count"],
                seats=start.cleaned_data["journey_seats"],
                families=start.cleaned_data["journey_families"],
                infants=start.cleaned_data["infants"],
            ),
        )
    flight_id, seats, count, infants = (
        start.cleaned_data["flight"],
        start.cleaned_data["seats"],
        start.cleaned_data["count"],
        start.cleaned_data["infants"],
    )
    fare_family = start.cleaned_data["fare_family"].strip().upper() or None
    formset, hold_form, status, passengers = _passenger_forms(request, count, infants)
    if passengers is not None:
        if not seats:
            earlier = booking_own_hold_with_names(
                user=request.user,
                flight_ids=[flight_id],
                names=[(p["first_name"], p["last_name"]) for p in passengers],
            )
            if earlier is not None:
                return _resume(request, earlier, passengers)
        try:
            reference, replayed = _hold_once(
                request,
                key=hold_form.cleaned_data["idempotency_key"],
                passengers=passengers,
                # The family only when chosen: a page without one keeps its key's fingerprint.
                segments=[
                    {"flight_id": flight_id, "seats": seats}
                    | ({"fare_family": fare_family} if fare_family else {})
                ],
            )
        except SeatUnavailable as error:
            earlier, own = booking_own_with_seats(user=request.user, flight_id=flight_id, seats=seats)
            if earlier is not None:
                return _resume(request, earlier, passengers)
            if own:
                messages.error(
                    request,
                    f"You already hold seat(s) {', '.join(own)} on this flight in another booking (see My "
                    "bookings). Choose other seats, or cancel that booking first.",
                )
            else:
                messages.error(
                    request,
                    f"{error.detail} Someone else got there first: here is the seat map as it is now.",
                )
            return redirect(_seat_map_url(flight_id, count, seats, fare_family, infants))
        except SeatUnknown as error:
            messages.error(request, f"{error.detail} Here is the seat map as it is now.")
            return redirect(_seat_map_url(flight_id, count, seats, fare_family, infants))
        except SoldOut as error:
            messages.error(request, f"Sorry, this flight no longer has {count} seat(s) free. {error.detail}")
            return redirect(_seat_map_url(flight_id, count, fare_family=fare_family, infants=infants))
        except (FlightNotBookable, FlightNotFound) as error:
            messages.error(request, f"{error.detail} Please choose another flight.")
            return redirect("flights:search")
        except (IdempotencyKeyInUse, IdempotencyKeyReused) as error:
            return _key_conflict(
                request, error, key=hold_form.cleaned_data["idempotency_key"], passengers=passengers
            )
        except ValidationFailed as error:
            status = _passenger_errors_show(request, formset, error)
        except ApplicationError as error:
            messages.error(request, error.detail)
        else:
            return _held(request, reference, replayed=replayed)
    try:
        flight = flight_get(flight_id=flight_id)
        seat_map = flight_seat_map(flight_id=flight_id)
    except FlightNotFound:
        raise Http404("No such flight") from None
    fares = {seat.code: seat for seat in seat_map.seats}
    chosen = [fares[code] for code in seats if code in fares]
    family = fare_option(
        flight.family_fares, fare_family or "", count, infants=infants, currency=flight.currency
    )
    infant_fares = _infant_fares(flight, chosen, infants, family)
    if family is not None:  # every seat at the family's price (apps/flights/fares.py)
        estimated_total = family.total
    else:
        estimated_total = sum(seat.fare or 0 for seat in chosen) if chosen else flight.base_fare * count
        estimated_total += sum(infant_fares)
    return render(
        request,
        "bookings/passengers.html",
        {
            "flight": flight,
            "formset": formset,
            "hold_form": hold_form,
            "chosen": chosen,
            "count": count,
            "estimated_total": estimated_total,
            "fare_family": family,
            "infants": infants,
            "infant_fares": infant_fares,
            "add_infant_url": _add_infant_url(request, count, infants),
            "seat_map_url": _seat_map_url(flight_id, count, seats, fare_family, infants),
            "hold_minutes": settings.BOOKING_HOLD_SECONDS // 60,
            "child_percent": settings.CHILD_FARE_PERCENT,
            "infant_percent": settings.INFANT_FARE_PERCENT,
        },
        status=status,
    )


def _journey_new(request: HttpRequest, journey: JourneyLink) -> HttpResponse:
    """The passenger page of a journey (a return or multi-city trip): every flight with its fare
    family (its rules) where one was chosen, the estimated total for every traveller and infant, the
    names; submitting holds a seat for each traveller on every flight at once, in each flight's family,
    assigned, or the seats chosen on that flight's seat map (journey mode, linked from here per flight,
    as are its fares).

    A journey that cannot be booked (a flight unknown, off sale or too full, a connection too short:
    `booking_hold_create` says which) sends the traveller back to the search with the reason; chosen
    seats that do not fit (too few, twice, unknown, outside the family's cabin) or were taken meanwhile
    are named with their flight and lead back to that flight's seat map, and a family the flight does
    not sell to that flight's fares, the other flights' choices kept.
    """
    flight_ids, count = list(journey.flight_ids), journey.count
    chosen, seat_refusal = _journey_seats_read(journey)
    if seat_refusal is not None:
        position, message = seat_refusal
        messages.error(request, f"{message} Here is the seat map as it is now.")
        return redirect(journey.seat_map_url(position))
    formset, hold_form, status, passengers = _passenger_forms(request, count, journey.infants)
    if passengers is not None:
        if not journey.seats:
            earlier = booking_own_hold_with_names(
                user=request.user,
                flight_ids=flight_ids,
                names=[(p["first_name"], p["last_name"]) for p in passengers],
            )
            if earlier is not None:
                return _resume(request, earlier, passengers)
        try:
            reference, replayed = _hold_once(
                request,
                key=hold_form.cleaned_data["idempotency_key"],
                passengers=passengers,
                # Seats and family only where chosen: a page without them keeps its key's fingerprint.
                segments=[
                    {"flight_id": flight_id}
                    | ({"seats": journey.seats[position]} if position in journey.seats else {})
                    | ({"fare_family": journey.families[position]} if position in journey.families else {})
                    for position, flight_id in enumerate(flight_ids, start=1)
                ],
            )
        except (SeatUnavailable, SeatUnknown) as error:
            position = _segment_refused(error)
            if position is None or position not in journey.seats:
                messages.error(
                    request, f"This journey cannot be booked: {error.detail} Please choose other flights."
                )
                return redirect("flights:search")
            return _journey_seats_refused(request, journey, position, error, passengers)
        except ValidationFailed as error:
            family_position = _segment_refused(error, field="fare_family")
            if family_position is not None:  # no longer sold there: its fares page says so
                return redirect(journey.fares_url(family_position))
            if not any(field.startswith("passengers") for field in error.errors or {}):
                messages.error(
                    request, f"This journey cannot be booked: {error.detail} Please choose other flights."
                )
                return redirect("flights:search")
            status = _passenger_errors_show(request, formset, error)
        except (SoldOut, FlightNotBookable, FlightNotFound) as error:
            messages.error(
                request, f"This journey cannot be booked: {error.detail} Please choose other flights."
            )
            return redirect("flights:search")
        except (IdempotencyKeyInUse, IdempotencyKeyReused) as error:
            return _key_conflict(
                request, error, key=hold_form.cleaned_data["idempotency_key"], passengers=passengers
            )
        except ApplicationError as error:  # busy: nothing held, the page stays for another try
            messages.error(request, error.detail)
        else:
            return _held(request, reference, replayed=replayed)
    flights = flight_list(flight_ids=flight_ids)
    refusal = _journey_refusal(flight_ids, flights, count)
    if refusal is not None:
        messages.error(request, f"This journey cannot be booked: {refusal} Please choose other flights.")
        return redirect("flights:search")
    catalogue = fare_family_catalogue_cached() if any(flight.family_fares for flight in flights) else {}
    segments = []
    for position, flight in enumerate(flights, start=1):
        code = journey.families.get(position, "")
        fare = fare_option(
            flight.family_fares,
            code,
            count,
            infants=journey.infants,
            currency=flight.currency,
            catalogue=catalogue,
        )
        if code and fare is None:  # its fares page says the family is not sold there
            return redirect(journey.fares_url(position))
        seats = chosen.get(position, [])
        segments.append(
            JourneySegmentChoice(
                flight=flight,
                count=count,
                seats=seats,
                fare=fare,
                infant_fares=_infant_fares(flight, seats, journey.infants, fare),
                seat_map_url=journey.seat_map_url(position),
                fares_url=journey.fares_url(position) if flight.family_fares else None,
            )
        )
    return render(
        request,
        "bookings/passengers.html",
        {
            "journey": flights,
            "journey_segments": segments,
            "flight": flights[0],
            "formset": formset,
            "hold_form": hold_form,
            "chosen": [],
            "all_seats_chosen": all(segment.seats or segment.fare for segment in segments),
            "count": count,
            "infants": journey.infants,
            "add_infant_url": _add_infant_url(request, count, journey.infants),
            "estimated_total": sum(segment.estimated_total for segment in segments),
            "hold_minutes": settings.BOOKING_HOLD_SECONDS // 60,
            "child_percent": settings.CHILD_FARE_PERCENT,
            "infant_percent": settings.INFANT_FARE_PERCENT,
        },
        status=status,
    )


@dataclass(frozen=True)
class JourneySegmentChoice:
    """A flight of the journey on its passenger page: its fare family (None: each seat at its cabin's
    fare), the seats chosen on it (none: assigned) and what each infant pays on it."""

    flight: Flight
    count: int  # travellers with a seat
    seats: list[SeatStatus]
    fare: FareOption | None
    infant_fares: list[Decimal]
    seat_map_url: str
    fares_url: str | None  # None: the flight sells no families

    @property
    def estimated_total(self) -> Decimal:
        if self.fare is not None:
            seated = self.fare.price * self.count
        elif self.seats:
            seated = sum((seat.fare or Decimal(0) for seat in self.seats), Decimal(0))
        else:
            seated = self.flight.base_fare * self.count
        return seated + sum(self.infant_fares, Decimal(0))


def _infant_fares(
    flight: Flight, seats: list[SeatStatus], infants: int, fare: FareOption | None
) -> list[Decimal]:
    """What each infant would pay on `flight`, as the hold prices it (docs/PASSENGERS.md, "Fares"):
    infant k sits on traveller k's lap and pays its share of that traveller's fare, of the chosen
    family, else of the family its adult's seat is sold as (its cabin's cheapest; an assigned seat
    counted as economy). An estimate: the pay page has the exact amounts."""
    if fare is not None:
        return [fare.infant_price] * infants
    catalogue = fare_family_catalogue_cached() if infants and flight.family_fares else {}
    fares = []
    for k in range(infants):
        seat = seats[k] if k < len(seats) and seats[k].fare is not None else None
        cabin, adult_fare = (seat.cabin, seat.fare) if seat is not None else (Cabin.ECONOMY, flight.base_fare)
        family = catalogue.get(flight.cheapest_family(cabin))
        fares.append(passenger_fare(adult_fare, Passenger.Type.INFANT, family, currency=flight.currency))
    return fares


def _journey_seats_read(journey: JourneyLink) -> tuple[dict[int, list[SeatStatus]], tuple[int, str] | None]:
    """The seats chosen on each flight as its seat map shows them (their fares: the family's price
    where one is chosen), and the first flight whose choice cannot be held whoever else books, (its
    position, a sentence naming it), or None: not one seat per traveller, a seat twice, a seat not on
    its airplane, not sold on it or not in the chosen family's cabin. Whether a seat is still free is
    the hold's to say (a page rendered again after its seats were held must still lead to that hold),
    and whether the flight sells the family the page's."""
    chosen: dict[int, list[SeatStatus]] = {}
    for position, codes in sorted(journey.seats.items()):
        try:
            seat_map = flight_seat_map(flight_id=journey.flight_ids[position - 1])
        except FlightNotFound:
            continue  # the journey's own refusal names it
        label = f"Flight {position} ({seat_map.flight.flight_number}): "
        problem = journey_seat_problem(codes, count=journey.count)
        if problem is not None:
            return chosen, (position, label + problem)
        sold = {seat.code: seat for seat in seat_map.seats if seat.fare is not None}
        family = seat_map.flight.family_fare(journey.families.get(position, ""))
        if family is not None:
            cabin, price = family
            outside = [code for code in codes if code in sold and sold[code].cabin != cabin]
            if outside:
                name = Cabin(cabin).label.lower()
                return chosen, (
                    position,
                    f"{label}The fare chosen sells {name} seats only: not {', '.join(outside)}.",
                )
            sold = {code: replace(seat, fare=price) for code, seat in sold.items()}
        unknown = [code for code in codes if code not in sold]
        if unknown:
            return chosen, (position, f"{label}No such seat on this flight: {', '.join(unknown)}.")
        chosen[position] = [sold[code] for code in codes]
    return chosen, None


def _segment_refused(error: ApplicationError, field: str | None = None) -> int | None:
    """The journey position (1-based) a hold's refusal of a segment names (its errors'
    `segments.<i>.seats`, or only `segments.<i>.<field>` when `field` is given)."""
    for name in error.errors or {}:
        parts = name.split(".")
        if (
            len(parts) == 3
            and parts[0] == "segments"
            and parts[1].isdigit()
            and parts[2] == (field or parts[2])
        ):
            return int(parts[1]) + 1
    return None


def _journey_seats_refused(
    request: HttpRequest,
    journey: JourneyLink,
    position: int,
    error: SeatUnavailable | SeatUnknown,
    passengers: list[dict],
) -> HttpResponse:
    """Seats chosen on flight `position` that the hold refused: the traveller's own earlier hold of this
    very journey with them (a page sent again) is where they go; otherwise the flight is named and its
    seat map shown as it is now, the other flights' choices kept."""
    seats = journey.seats[position]
    if isinstance(error, SeatUnavailable):
        earlier, own = booking_own_with_seats(
            user=request.user, flight_id=journey.flight_ids[position - 1], seats=seats
        )
        if earlier is not None and booking_journey_flight_ids(earlier) == list(journey.flight_ids):
            return _resume(request, earlier, passengers)
        if own:
            messages.error(
                request,
                f"You already hold seat(s) {', '.join(own)} on flight {position} in another booking (see My "
                "bookings). Choose other seats, or cancel that booking first.",
            )
            return redirect(journey.seat_map_url(position))
        messages.error(
            request, f"{error.detail} Someone else got there first: here is the seat map as it is now."
        )
    else:
        messages.error(request, f"{error.detail} Here is the seat map as it is now.")
    return redirect(journey.seat_map_url(position))


def _passenger_forms(
    request: HttpRequest, count: int, infants: int = 0
) -> tuple[Any, HoldForm, int, list[dict] | None]:
    """A passenger page's travellers formset (`count` seated, then `infants`), its idempotency key
    form, its status, and the passengers as the hold takes them when it was submitted whole (None
    otherwise: shown, or shown again with its errors)."""
    posted = request.method == "POST"
    formset = passenger_formset(count, request.POST if posted else None, infants=infants)
    hold_form = HoldForm(request.POST) if posted else HoldForm.fresh()
    if posted and not hold_form.is_valid():
        # Only a tampered or truncated page lacks its key: nothing is held, the page gets a new one.
        messages.error(
            request, "Something went wrong with this page. Please check the names and submit again."
        )
        return formset, HoldForm.fresh(), 400, None
    if posted and formset.is_valid():
        return formset, hold_form, 200, [form.hold_passenger() for form in formset]
    return formset, hold_form, 200, None


_PASSENGER_FIELD = re.compile(r"passengers\.(\d+)\.(\w+)$")


def _passenger_errors_show(request: HttpRequest, formset: Any, error: ValidationFailed) -> int:
    """The hold's refusal of the travellers (ages, types, who carries which infant, the seats' count)
    shown on their forms, each under its field; the rest as the page's message. Returns 400."""
    forms_ = list(formset)
    for field, problems in (error.errors or {}).items():
        match = _PASSENGER_FIELD.match(field)
        if match and int(match[1]) < len(forms_) and match[2] in forms_[int(match[1])].fields:
            for problem in problems:
                forms_[int(match[1])].add_error(match[2], problem)
        else:
            for problem in problems:
                messages.error(request, problem)
    return 400


def _add_infant_url(request: HttpRequest, count: int, infants: int) -> str | None:
    """This page with one more infant (on a lap, no seat), while every infant can have its own adult
    and the party stays within MAX_PARTY_SIZE; None otherwise."""
    if infants >= count or count + infants >= MAX_PARTY_SIZE:
        return None
    query = request.GET.copy()
    query["infants"] = str(infants + 1)
    return f"{request.path}?{query.urlencode()}"


def _journey_refusal(flight_ids: list[int], flights: list[Flight], count: int) -> str | None:
    """Why the journey shown cannot be booked now (a sentence), or None: the hold's own rules
    (`journey_refusal`), which spare the traveller typing names for a journey that cannot be held."""
    if len(flights) != len(flight_ids):
        return "One of its flights does not exist."
    return journey_refusal(flights, count=count, now=timezone.now())


def _held(request: HttpRequest, reference: str, *, replayed: bool) -> HttpResponse:
    if replayed:
        messages.info(
            request,
            f"These seats are already held for you in booking {reference}: nothing was booked twice.",
        )
    else:
        messages.success(
            request,
            f"Your seats are held. Pay before the timer runs out to confirm booking {reference}.",
        )
    return redirect("payments:pay", reference=reference)


def _key_conflict(
    request: HttpRequest,
    error: IdempotencyKeyInUse | IdempotencyKeyReused,
    *,
    key: str,
    passengers: list[dict],
) -> HttpResponse:
    """A passenger page's key already at work: its first submission still holding, or used already."""
    if isinstance(error, IdempotencyKeyInUse):
        # The first submission of this page is holding the seats right now; by the time the
        # browser follows this redirect it has finished, and the list shows its booking.
        messages.info(request, "We are holding your seats from your first click: your booking is below.")
        return redirect("bookings:list")
    answer = idempotency_answer_recorded(owner=request.user, key=key)
    earlier = _own_booking(request, (answer or {}).get("reference", ""))
    if earlier is not None:
        return _resume(request, earlier, passengers)
    messages.error(
        request,
        "This page was already used to hold seats with other details: that booking is below. "
        "To book again, start from the seat map.",
    )
    return redirect("bookings:list")


def _resume(request: HttpRequest, booking: Booking, passengers: list[dict]) -> HttpResponse:
    """Lead a passenger form sent again (back, then submit) to the traveller's own earlier booking of
    the same seats or people, saying so, instead of holding seats a second time."""
    seats = _seats_named(booking)
    if booking.status == Booking.Status.CONFIRMED:
        messages.info(
            request, f"You already booked this in booking {booking.reference}: nothing was booked twice."
        )
        return redirect("bookings:detail", reference=booking.reference)
    if booking.status == Booking.Status.HELD and booking.hold_expires_at <= timezone.now():
        messages.error(
            request,
            f"Your earlier hold of seat(s) {seats} (booking {booking.reference}) has run out and nothing was "
            "charged. Its seats are released within a minute; then choose them again.",
        )
        return redirect("payments:pay", reference=booking.reference)
    note = (
        f"Seat(s) {seats} are already held for you in booking {booking.reference}: nothing was booked twice."
    )
    held_names = [(p.first_name, p.last_name) for p in booking.passengers.all()]
    if held_names != [(p["first_name"].strip(), p["last_name"].strip()) for p in passengers]:
        note += " It keeps the names you entered first; to change them, cancel it and book again."
    messages.info(request, note)
    return redirect("payments:pay", reference=booking.reference)


def _seats_named(booking: Booking) -> str:
    """A booking's seats as a sentence names them: "3A, 3B", or per flight for a journey
    ("3A, 3B on AI205; 7C, 7D on AI806")."""
    if booking.segment_count == 1:
        return ", ".join(p.seat_assignment.seat_code for p in booking.passengers.all() if p.seat_assignment)
    return "; ".join(
        f"{', '.join(seat.seat_code for _, seat in segment.seats if seat)} on {segment.flight.flight_number}"
        for segment in booking.journey()
    )


def _own_booking(request: HttpRequest, reference: str) -> Booking | None:
    if not reference:
        return None
    try:
        return booking_get(booking_id=booking_get_owned(reference=reference, user=request.user).pk)
    except BookingNotFound:
        return None


def _hold_once(
    request: HttpRequest, *, key: str, passengers: list[dict], segments: list[dict[str, Any]]
) -> tuple[str, bool]:
    """Hold the seats at most once per key: (booking reference, whether an earlier submission held them).

    `segments` as `booking_hold_create` takes them: one {"flight_id", "seats"} for a one-way page,
    one {"flight_id"} per flight of a journey.

    The key is recorded in the hold's own transaction with the API's rules (apps/core/idempotency.py),
    its answer the booking's reference: a second submission of the page waits for the first and is
    led to its booking; a hold that failed recorded nothing, so submitting again runs again and shows
    the outcome as it is then.

    Raises what `booking_hold_create` raises, IdempotencyKeyReused when the key was used with other
    passengers or seats, and IdempotencyKeyInUse when it is held by a request not finished yet.
    """
    idempotency = TransactionalKey(
        owner=request.user,
        key=key,
        method="POST",
        route=request.path,
        fingerprint=request_fingerprint(
            method="POST",
            route=request.path,
            # A one-way page's body is the flight and its seats, as it was before journeys.
            body={**segments[0], "passengers": passengers}
            if len(segments) == 1
            else {"segments": segments, "passengers": passengers},
        ),
    )

    def record(booking: Booking) -> None:
        idempotency.record(
            status=302,
            headers={"Location": reverse("payments:pay", args=[booking.reference])},
            body={"reference": booking.reference},
        )

    try:
        booking = booking_hold_create(
            user=request.user, passengers=passengers, segments=segments, before_commit=record
        )
    except IdempotencyKeyTaken:
        return idempotency.stored().response_body["reference"], True
    return booking.reference, False


@login_required
def booking_list_page(request: HttpRequest) -> HttpResponse:
    bookings = bookings_money_attach(booking_list(user=request.user).filter(owner=request.user))
    return render(request, "bookings/list.html", {"bookings": bookings})


@booking_visitor_required
def booking_detail(request: HttpRequest, reference: str) -> HttpResponse:
    """The e-ticket of a confirmed booking (with its cancel button while it can be cancelled, and a
    "Change flight" link on each flight its fare lets its traveller change), or what became of a
    cancelled or expired one and its money; a hold goes to its pay page."""
    booking, actor = booking_for_visitor(request, reference)
    if booking.status in (Booking.Status.HELD, Booking.Status.PAYING):
        return redirect("payments:pay", reference=booking.reference)
    (booking,) = bookings_money_attach([booking])
    now = timezone.now()
    cancellable = (
        booking.status == Booking.Status.CONFIRMED
        and booking_cancel_refusal(booking, booking.flight, now, by_owner=True) is None
    )
    # Which flights its traveller may change (docs/FARES.md, "Changing a flight"): "Change flight" on each.
    changeable = (
        [
            segment.position
            for segment in booking.journey()
            if flight_change_refusal(booking, segment.position, now) is None
        ]
        if booking.status == Booking.Status.CONFIRMED and actor.pk == booking.owner_id
        else []
    )
    return render(
        request,
        "bookings/ticket.html",
        {"booking": booking, "cancellable": cancellable, "changeable": changeable},
    )


@booking_visitor_required
def booking_calendar_download(request: HttpRequest, reference: str) -> HttpResponse:
    """The confirmed booking's flight as a calendar entry (.ics); a booking not confirmed has none."""
    booking, _ = booking_for_visitor(request, reference)
    if booking.status != Booking.Status.CONFIRMED:
        raise Http404("Only a confirmed booking has a calendar entry")
    response = HttpResponse(booking_calendar(booking), content_type=CALENDAR_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{booking_calendar_filename(booking)}"'
    return response


@booking_visitor_required
@require_http_methods(["GET", "POST"])
def booking_cancel_page(request: HttpRequest, reference: str) -> HttpResponse:
    """GET: the confirmation page, the cancellation quote line by line (each flight and passenger, its
    fare's rule, what comes back) and the total, with the confirm button. POST: cancel, refunding that
    total only if it is still what cancelling refunds (`expected_refund`); if it changed meanwhile, the
    page again with the new quote (409) and nothing cancelled or refunded."""
    booking, actor = booking_for_visitor(request, reference)
    status = 200
    if request.method == "POST":
        form = CancelConfirmForm(request.POST)
        if form.is_valid():
            expected = form.cleaned_data["expected_refund"]
            was_confirmed = booking.status == Booking.Status.CONFIRMED
            try:
                booking_cancel(booking=booking, actor=actor, expected_refund=expected)
            except QuoteChanged:
                messages.warning(
                    request, "What you get back has changed. Check the new amount and confirm again."
                )
                status = 409
            except ApplicationError as error:
                messages.error(request, f"Booking {booking.reference} was not cancelled: {error.detail}")
                return _after_cancel(request, booking)
            else:
                messages.success(request, _cancelled_message(booking, was_confirmed=was_confirmed))
                return _after_cancel(request, booking)
        else:
            messages.error(request, "The refund amount sent is not valid; check it below and confirm again.")
            status = 400
    if booking.status not in (Booking.Status.HELD, Booking.Status.CONFIRMED):
        messages.error(request, f"Booking {booking.reference} is {booking.get_status_display().lower()}.")
        return _after_cancel(request, booking)
    quote = booking_cancellation_quote(booking=booking, actor=actor)
    return render(
        request, "bookings/cancel_confirm.html", {"booking": booking, "quote": quote}, status=status
    )


def _cancelled_message(booking: Booking, *, was_confirmed: bool) -> str:
    said = f"Booking {booking.reference} is cancelled and its seats released."
    if not was_confirmed:
        return said
    refunded = booking_money_record(booking).refunded or Decimal("0")
    if refunded == 0:
        return f"{said} Under your fare's rules nothing is refunded."
    return f"{said} {money_display(refunded, booking.currency)} will be refunded to your card."


def _after_cancel(request: HttpRequest, booking: Booking) -> HttpResponse:
    if not request.user.is_authenticated:  # a visitor through Manage booking has no list to go back to
        return redirect("bookings:detail", reference=booking.reference)
    return redirect("bookings:list")


def _seat_map_url(
    flight_id: int,
    travellers: int,
    seats: list[str] | None = None,
    fare_family: str | None = None,
    infants: int = 0,
) -> str:
    """The one-way seat map for these travellers, their seats, family and infants (which its form
    carries back to the passenger page)."""
    query = urlencode(
        {
            "travellers": max(1, travellers),
            "seats": seats or [],
            **({"fare_family": fare_family} if fare_family else {}),
            **({"infants": infants} if infants else {}),
        },
        doseq=True,
    )
    return f"{reverse('flights:detail', args=[flight_id])}?{query}"
