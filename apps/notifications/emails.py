"""Rendering of the outbox emails: subject, text and HTML from templates/notifications/.

Emails are rendered when the outbox row is written, so they say what was true at the moment of
the change, except the kinds in RENDERED_AT_SEND: the "booking held" email is written on the
booking hot path, inside the hold's transaction (under the flight row's lock with the pessimistic
strategy), so only a bare row is written there and the worker renders it before sending
(`render_at_send`); what it shows (reference, seats, fare, pay-by time) does not change meanwhile.
Times are shown in the local time of the airport they happen at (what the boarding
pass and the airport screens say), with the zone's abbreviation.
"""

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Prefetch
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import dateformat

from apps.bookings.access import manage_link_token
from apps.bookings.boarding import boarding_pass_path, boarding_passes
from apps.bookings.events import BookingSegmentMoved, PaymentReceipt
from apps.bookings.models import Booking, Passenger, SeatAssignment
from apps.bookings.pricing import price_breakdown
from apps.bookings.services.check_in import check_in_window
from apps.core.money import money_display
from apps.core.templatetags.airline import local_time
from apps.flights.models import Airport, Cabin, Flight
from apps.notifications.models import Notification

Kind = Notification.Kind

# Subjects stay ASCII where we write them: a non-ASCII subject is RFC 2047-encoded and folded, and
# some clients then show it with a leading space.
SUBJECTS: dict[str, str] = {
    Kind.BOOKING_HELD: "Seats held on {flight_number}: pay by {pay_by} (booking {reference})",
    Kind.BOOKING_CONFIRMED: "Your e-ticket {reference}: {flight_number} {origin} to {destination}, {date}",
    Kind.PAYMENT_RECEIPT: "Payment receipt: {amount} for booking {reference}",
    Kind.BOOKING_CANCELLED: "Booking {reference} cancelled{refund_note}",
    Kind.HOLD_EXPIRED: "Your hold {reference} has expired",
    Kind.FLIGHT_REMINDER: "Reminder: {flight_number} to {destination} departs {departure}",
    Kind.FLIGHT_CANCELLED: "Flight {flight_number} on {date} is cancelled (booking {reference})",
    Kind.BOARDING_PASSES: "Boarding passes: {flight_number} to {destination}, {date} (booking {reference})",
}

# Subjects that name every flight of a journey (the others are about one flight: the first, or the one
# cancelled).
_JOURNEY_SUBJECTS = frozenset({Kind.BOOKING_HELD, Kind.BOOKING_CONFIRMED})
_CANCELLED_FLIGHT_KEYS = ("number", "date", "departure", "arrival", "duration", "cancellation_reason")

_BLANK_LINES = re.compile(r"\n[ \t]*(\n[ \t]*)+\n")


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def render_booking_email(kind: str, context: dict[str, Any]) -> RenderedEmail:
    """The email of `kind` from a `booking_email_context`.

    A journey's subject names all its flights; its flight-cancelled e-mail speaks of the flight the
    airline cancelled, whichever segment it is.
    """
    flight, payment, segments = context["flight"], context["payment"], context.get("segments") or []
    cancelled = next((segment for segment in segments if segment["cancelled"]), None)
    if kind == Kind.FLIGHT_CANCELLED and cancelled is not None:
        flight = {**flight, **{key: cancelled[key] for key in _CANCELLED_FLIGHT_KEYS}}
        context = {**context, "flight": flight}
    numbers = flight["number"]
    if segments and kind in _JOURNEY_SUBJECTS:
        numbers = " + ".join(segment["number"] for segment in segments)
    subject = SUBJECTS[kind].format(
        reference=context["reference"],
        flight_number=numbers,
        origin=context["origin"]["city"],
        destination=context["destination"]["city"],
        date=flight["date"],
        departure=flight["departure"],
        pay_by=context["pay_by"],
        amount=payment["amount"] if payment else "",
        refund_note=", refund issued" if context["refunded"] and not context["nothing_refunded"] else "",
    )
    context = {**context, "subject": subject}
    text = render_to_string(f"notifications/{kind}.txt", context)
    html = render_to_string(f"notifications/{kind}.html", context)
    return RenderedEmail(subject=subject, text=_BLANK_LINES.sub("\n\n", text).strip() + "\n", html=html)


def render_flight_changed_email(booking: Booking, moved: BookingSegmentMoved) -> RenderedEmail:
    """The "your flight has changed" e-mail of a segment move: the old and the new flight (local times)
    and each passenger's new seat; the flight card below shows the journey as it now is."""
    context = booking_email_context(booking)
    old, new = moved.from_flight, moved.to_flight
    airports = Airport.objects.in_bulk(
        {old.departure_airport_id, new.departure_airport_id, new.arrival_airport_id}
    )
    cabins = dict(Cabin.choices)
    context["change"] = {
        "by_airline": moved.by_airline,
        "from": {
            "number": old.flight_number,
            "departure": local_time(old.departure_time, airports[old.departure_airport_id]),
            "cancelled": moved.flight_cancelled,
            "reason": moved.reason,
        },
        "to": {
            "number": new.flight_number,
            "departure": local_time(new.departure_time, airports[new.departure_airport_id]),
            "arrival": local_time(new.arrival_time, airports[new.arrival_airport_id]),
        },
        "seats": [
            {
                "name": f"{move.passenger.first_name} {move.passenger.last_name}",
                "from": move.from_seat,
                "to": move.to_seat,
                "cabin": cabins.get(move.cabin, move.cabin),
            }
            for move in moved.seats
        ],
        "check_in_voided": moved.check_in_voided,
        "money": _change_money(booking, moved),
    }
    subject = f"Your flight has changed: {old.flight_number} is now {new.flight_number}"
    subject += f" (booking {booking.reference})"
    context["subject"] = subject
    text = render_to_string("notifications/flight_changed.txt", context)
    html = render_to_string("notifications/flight_changed.html", context)
    return RenderedEmail(subject=subject, text=_BLANK_LINES.sub("\n\n", text).strip() + "\n", html=html)


def _change_money(booking: Booking, moved: BookingSegmentMoved) -> dict[str, str] | None:
    """What a traveller's own change cost, as the e-mail says it (None: the airline's move, free)."""
    if moved.by_airline:
        return None

    def shown(amount: Decimal) -> str:
        return money_display(amount, booking.currency, symbol=False)

    difference = moved.fare_difference
    return {
        "difference": ("+" if difference > 0 else "-" if difference < 0 else "") + shown(abs(difference)),
        "fee": shown(moved.change_fee),
        "kept": shown(moved.residual_kept) if moved.residual_kept else "",
        "charged": shown(moved.amount_charged) if moved.amount_charged else "",
        "refunded": shown(moved.amount_refunded) if moved.amount_refunded else "",
    }


def render_password_reset_email(*, name: str, link: str) -> RenderedEmail:
    """The password reset e-mail; `link` still carries the token's mark (apps/accounts/events.py)."""
    subject = "Reset your Airline password"
    context = {
        "subject": subject,
        "customer_name": name,
        "link": link,
        "valid_minutes": settings.PASSWORD_RESET_TIMEOUT // 60,
    }
    text = render_to_string("notifications/password_reset.txt", context)
    html = render_to_string("notifications/password_reset.html", context)
    return RenderedEmail(subject=subject, text=_BLANK_LINES.sub("\n\n", text).strip() + "\n", html=html)


# Kinds written without their text and rendered by the sender: they need no payment or refund detail,
# and they are written under a flight lock (a hold; the sweeper's batch of expiries; a check-in), where
# rendering would make every other buyer of that flight wait. The boarding passes e-mail also shows
# every passenger checked in by the time it is sent (a later check-in of the rest sends it again).
RENDERED_AT_SEND = frozenset({Kind.BOOKING_HELD, Kind.HOLD_EXPIRED, Kind.BOARDING_PASSES})


def render_at_send(notification: Notification) -> RenderedEmail:
    """The email of an outbox row written without its text (a kind of RENDERED_AT_SEND)."""
    booking = Booking.objects.select_related("owner", "flight").get(pk=notification.booking_id)
    context = booking_email_context(booking)
    if notification.kind == Kind.BOARDING_PASSES:
        context["boarding_passes"] = [
            {
                "name": f"{boarding.passenger.first_name} {boarding.passenger.last_name}"
                + (
                    f" + INF {boarding.infant.first_name} {boarding.infant.last_name}"
                    if boarding.infant
                    else ""
                ),
                "seat": boarding.seat_code,
                "cabin": Cabin(boarding.cabin).label,
                "number": boarding.check_in_number,
                "boarding": local_time(boarding.boarding_at, boarding.flight.departure_airport),
                "flight": boarding.flight.flight_number,
                "url": _site_url(boarding_pass_path(booking, boarding)),
            }
            for boarding in boarding_passes(booking)
        ]
    return render_booking_email(notification.kind, context)


def _site_url(path: str) -> str:
    """An absolute link when the site's address is known (SITE_URL), else none."""
    return f"{settings.SITE_URL.rstrip('/')}{path}" if settings.SITE_URL else ""


def _airport(airport: Airport) -> dict[str, str]:
    return {"code": airport.iata_code, "name": airport.name, "city": airport.city.name}


def booking_email_context(
    booking: Booking,
    *,
    receipt: PaymentReceipt | None = None,
    refunded: bool = False,
    refund_amount: Decimal | None = None,
    segment: int | None = None,
) -> dict[str, Any]:
    """What the emails about `booking` show (`receipt` for the receipt, `refunded` and `refund_amount`
    for cancellations: the amount actually refunded, None for the whole total);
    `segment` (1-based) makes it an e-mail about that one flight of a journey (a reminder), not all.

    Three queries (four if the owner is not loaded yet), a journey's too: its later flights are read
    with the seats. This usually runs inside the transaction of a booking change, maybe while the
    flight row is locked, so every round trip counts.
    """
    # Each seat with its flight and airports in the same query: a journey's later flights come with them.
    booked = list(
        booking.passengers.prefetch_related(
            Prefetch(
                "seat_assignments",
                queryset=SeatAssignment.objects.select_related(
                    "flight__departure_airport__city", "flight__arrival_airport__city"
                ),
            )
        ).order_by("position")
    )
    focus = segment or 1
    if focus == 1:
        flight = booking.flight
        airports = {
            airport.pk: airport
            for airport in Airport.objects.select_related("city").filter(
                pk__in=[flight.departure_airport_id, flight.arrival_airport_id]
            )
        }
        departure_airport, arrival_airport = (
            airports[flight.departure_airport_id],
            airports[flight.arrival_airport_id],
        )
    else:
        flight = next(seat.flight for passenger in booked if (seat := passenger.seat_on(focus)) is not None)
        departure_airport, arrival_airport = flight.departure_airport, flight.arrival_airport
    passengers = []
    for passenger in booked:
        # A released seat keeps its row (active NULL): the emails still name the seat that was held.
        seat = passenger.seat_on(focus)
        passengers.append(
            {
                "name": passenger_name(passenger),
                "seat": seat.seat_code if seat else "",
                "cabin": Cabin(seat.cabin).label if seat else "",
            }
        )
    duration_minutes = _minutes(flight)
    context: dict[str, Any] = {
        "reference": booking.reference,
        "customer_name": booking.owner.name or booking.owner.email,
        "total": money_display(booking.total_amount, booking.currency, symbol=False),
        "passengers": passengers,
        "origin": _airport(departure_airport),
        "destination": _airport(arrival_airport),
        "flight": {
            "number": flight.flight_number,
            "date": local_time(flight.departure_time, departure_airport, "D j M Y"),
            "departure": local_time(flight.departure_time, departure_airport),
            "arrival": local_time(flight.arrival_time, arrival_airport),
            "duration": f"{duration_minutes // 60} h {duration_minutes % 60:02d} min",
            "gate": flight.gate or "Shown at the airport",
            "check_in_opens": local_time(check_in_window(flight).opens_at, departure_airport),
            "check_in_closes": local_time(check_in_window(flight).closes_at, departure_airport),
            # What the airline told its travellers when it cancelled the flight (flight_cancel).
            "cancellation_reason": flight.cancellation_reason,
        },
        # Every flight of the journey with each passenger's seat on it; one-way e-mails do not use it.
        "segments": _segments(booking, booked) if booking.segment_count > 1 and segment is None else [],
        "pay_by": local_time(booking.hold_expires_at, departure_airport),
        "pay_by_utc": dateformat.format(booking.hold_expires_at.astimezone(ZoneInfo("UTC")), "D j M Y, H:i"),
        "refunded": refunded,
        # What the cancellation gave back: the total, part of it under the fare's rules, or nothing.
        "refund": money_display(
            booking.total_amount if refund_amount is None else refund_amount, booking.currency, symbol=False
        ),
        "refund_is_partial": refund_amount is not None and refund_amount < booking.total_amount,
        "nothing_refunded": refunded and refund_amount is not None and refund_amount == 0,
        "payment": None,
        # Opens the booking without an account (apps/bookings/access.py).
        "manage_url": _site_url(reverse("bookings:manage_link", args=[manage_link_token(booking)])),
    }
    if receipt is not None:
        # How the amount is made (docs/FARES.md), from the seats already read: base fares, each tax.
        breakdown = price_breakdown(
            (seat for passenger in booked for seat in passenger.seats()),
            (line for passenger in booked for line in passenger.lap_fares()),
        )
        context["payment"] = {
            "amount": money_display(receipt.amount, receipt.currency, symbol=False),
            "reference": receipt.gateway_reference,
            "method": _payment_method_label(receipt.payment_method),
            "date": local_time(receipt.paid_at, departure_airport),
            "price": [
                {
                    "name": "Base fare",
                    "amount": money_display(breakdown.base_fare, booking.currency, symbol=False),
                },
                *(
                    {"name": tax.name, "amount": money_display(tax.amount, booking.currency, symbol=False)}
                    for tax in breakdown.taxes
                ),
            ],
        }
    return context


def passenger_name(passenger: Passenger) -> str:
    """A passenger as the e-mails list them: a child or an infant (no seat, on a lap) says so."""
    name = f"{passenger.first_name} {passenger.last_name}"
    if passenger.type == Passenger.Type.INFANT:
        return f"{name} (infant, on the lap of passenger {passenger.travelling_with})"
    if passenger.type == Passenger.Type.CHILD:
        return f"{name} (child)"
    return name


def _segments(booking: Booking, passengers: list[Passenger]) -> list[dict[str, Any]]:
    """The flights of a journey in travel order, each with its route, local times and the passengers'
    seats on it, from the passengers' seat assignments (their flights and airports read with them)."""
    segments = []
    for position in range(1, booking.segment_count + 1):
        seats = [(passenger, passenger.seat_on(position)) for passenger in passengers]
        flight = next(seat.flight for _, seat in seats if seat is not None)
        origin, destination = flight.departure_airport, flight.arrival_airport
        minutes = _minutes(flight)
        segments.append(
            {
                "position": position,
                "number": flight.flight_number,
                "origin": _airport(origin),
                "destination": _airport(destination),
                "date": local_time(flight.departure_time, origin, "D j M Y"),
                "departure": local_time(flight.departure_time, origin),
                "arrival": local_time(flight.arrival_time, destination),
                "duration": f"{minutes // 60} h {minutes % 60:02d} min",
                "cancelled": flight.status == Flight.Status.CANCELLED,
                "cancellation_reason": flight.cancellation_reason,
                "passengers": [
                    {
                        "name": passenger_name(passenger),
                        "seat": seat.seat_code if seat else "",
                        "cabin": Cabin(seat.cabin).label if seat else "",
                    }
                    for passenger, seat in seats
                ],
            }
        )
    return segments


def _minutes(flight: Flight) -> int:
    return int((flight.arrival_time - flight.departure_time).total_seconds() // 60)


def _payment_method_label(token: str) -> str:
    # The simulated gateway's tokens name the card brand ("tok_visa"); never print more than that.
    brand = token.removeprefix("tok_").split("_")[0]
    return f"Card ({brand.capitalize()})" if brand.isalpha() else "Card"
