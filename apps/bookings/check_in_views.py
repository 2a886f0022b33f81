"""The website's online check-in: the check-in page of a booking and each passenger's boarding pass."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from apps.accounts.models import User
from apps.bookings.access import booking_for_visitor, booking_visitor_required
from apps.bookings.boarding import boarding_pass
from apps.bookings.models import Booking, SeatAssignment
from apps.bookings.selectors import booking_segment_flights
from apps.bookings.services import booking_check_in
from apps.bookings.services.check_in import check_in_refusal, check_in_window
from apps.core.exceptions import ApplicationError
from apps.flights.seating import airplane_layout, is_taken, layout_seats


@booking_visitor_required
def check_in_page(request: HttpRequest, reference: str) -> HttpResponse:
    """GET: who is checked in, who can be, and the free seats each may move to; POST: check them in.

    A journey's flights are checked in one at a time: `?flight=N` (1-based) names which, the first by
    default; the page links to the others."""
    booking, actor = _owners_booking(request, reference)
    segment = _segment(request, booking)
    flights = booking_segment_flights(booking)
    flight = flights[segment - 1]
    refusal = check_in_refusal(booking, flight, timezone.now())
    errors: list[str] = []
    if request.method == "POST" and refusal is None:
        positions = [int(value) for value in request.POST.getlist("passenger") if _is_number(value)]
        seats = {
            int(name.removeprefix("seat-")): value
            for name, value in request.POST.items()
            if name.startswith("seat-") and _is_number(name.removeprefix("seat-")) and value
        }
        try:
            booking_check_in(
                booking=booking, actor=actor, passenger_positions=positions, seats=seats, segment=segment
            )
        except ApplicationError as error:
            errors = [message for messages_ in (error.errors or {}).values() for message in messages_]
            errors = errors or [error.detail]
        else:
            messages.success(
                request, "You are checked in: your boarding passes are below and on their way by e-mail."
            )
            return redirect("bookings:detail", reference=booking.reference)
    passengers = list(booking.passengers.prefetch_related("seat_assignments").order_by("position"))
    return render(
        request,
        "bookings/check_in.html",
        {
            "booking": booking,
            "flight": flight,
            "segment": segment,
            "flights": list(enumerate(flights, start=1)),
            "refusal": refusal,
            "window": check_in_window(flight),
            "errors": errors,
            "rows": [
                (passenger, passenger.seat_on(segment), _seat_choices(flight, passenger.seat_on(segment)))
                for passenger in passengers
            ],
        },
        status=400 if errors else 200,
    )


@booking_visitor_required
def boarding_pass_page(request: HttpRequest, reference: str, position: int, segment: int = 1) -> HttpResponse:
    """The boarding pass of the passenger at `position` for the journey's flight `segment`."""
    booking, _ = _owners_booking(request, reference)
    seat = (
        SeatAssignment.objects.filter(booking_id=booking.pk, segment=segment, passenger__position=position)
        .select_related("passenger", "flight__departure_airport__city", "flight__arrival_airport__city")
        .first()
    )
    if seat is None or seat.check_in_number is None or booking.status != Booking.Status.CONFIRMED:
        raise Http404("No boarding pass")
    return render(
        request,
        "bookings/boarding_pass.html",
        {"booking": booking, "flight": seat.flight, "boarding": boarding_pass(booking, seat)},
    )


def _segment(request: HttpRequest, booking: Booking) -> int:
    """Which flight of the journey the check-in page is for (`flight`, 1-based; the first if absent)."""
    value = request.GET.get("flight", "1")
    if not _is_number(value) or not 1 <= int(value) <= booking.segment_count:
        raise Http404("No such flight on this booking")
    return int(value)


def _seat_choices(flight, current) -> list[str]:
    """The passenger's seat, then every free seat of its cabin, in seat order (read, not locked: the
    check-in itself decides under the flight's lock)."""
    if current is None or current.active is None:
        return []
    layout = airplane_layout(flight.airplane_id, flight.airplane.updated_at)
    free = [
        seat.code
        for seat in layout_seats(layout)
        if seat.cabin == current.cabin and not is_taken(flight.seats_taken, seat.position)
    ]
    return [current.seat_code, *free]


def _owners_booking(request: HttpRequest, reference: str) -> tuple[Booking, User]:
    """The booking and its owner acting (signed in, or through Manage booking): only they check in and
    carry its boarding passes, not staff."""
    booking, actor = booking_for_visitor(request, reference)
    if actor.pk != booking.owner_id:
        raise Http404("No such booking")
    return booking, actor


def _is_number(text: str) -> bool:
    """ASCII digits only: str.isdigit() also admits "²", which int() refuses."""
    return text.isascii() and text.isdigit()
