"""What paying does to a booking: the booking side of the payment flow (payments calls these).

A payment marks its booking PAYING in a short transaction, charges with no lock held, then settles
in another short transaction (docs/ARCHITECTURE.md, "Request path of a payment"). The payments app
owns the payment rows and the gateway; these services own every booking change along the way and
the rules they depend on: the hold must be live and the flight on sale (the same rule as holding,
`Flight.sale_closed_reason`), and a flight cancelled while its passenger paid ends the booking
cancelled, refunded, with the passenger told.
"""

from datetime import datetime

from apps.bookings import events
from apps.bookings.exceptions import BookingNotPayable, FlightNotBookable, PaymentInProgress
from apps.bookings.locks import booking_flight_ids
from apps.bookings.models import Booking
from apps.bookings.services.lifecycle import cancel_locked, status_change
from apps.flights.models import Flight

Status = Booking.Status


def booking_payment_start(*, booking: Booking, now: datetime) -> None:
    """HELD → PAYING for a payment about to charge; the caller has locked the booking.

    Raises PaymentInProgress (409) while another payment runs, BookingNotPayable (409) when the booking
    is no longer held or its hold has run out, FlightNotBookable (409) when its flight is not on sale.
    """
    if booking.status == Status.PAYING:
        raise PaymentInProgress("Another payment for this booking is in progress.")
    if booking.status != Status.HELD:
        raise BookingNotPayable(f"This booking is {booking.get_status_display().lower()} and cannot be paid.")
    if booking.hold_expires_at <= now:
        raise BookingNotPayable("The hold on this booking has expired; its seats are released.")
    booking_sale_open_ensure(booking=booking, now=now)
    status_change(booking, Status.PAYING, now=now)


def booking_sale_open_ensure(*, booking: Booking, now: datetime) -> None:
    """Raise FlightNotBookable (409) unless each of the booking's flights is still on sale (a plain
    read: a flight cancelled after it is caught when the payment is settled, under the flights' locks)."""
    columns = ("status", "departure_time", "flight_number")
    if booking.segment_count == 1:
        flights = [Flight.objects.only(*columns).get(pk=booking.flight_id)]
    else:
        flights = list(Flight.objects.only(*columns).filter(pk__in=booking_flight_ids(booking_id=booking.pk)))
    reason = _sale_closed_reason(flights, now)
    if reason is not None:
        raise FlightNotBookable(f"{reason} This booking cannot be paid.")


def _sale_closed_reason(flights: list[Flight], now: datetime) -> str | None:
    """Why one of a booking's flights is not on sale at `now`, naming it when there are several."""
    for flight in flights:
        reason = flight.sale_closed_reason(now)
        if reason is not None:
            return reason if len(flights) == 1 else f"Flight {flight.flight_number}: {reason}"
    return None


def booking_payment_succeeded(
    *, booking: Booking, receipt: events.PaymentReceipt, now: datetime
) -> str | None:
    """Confirm a booking whose payment was charged; None when confirmed, else why it was not.

    The caller has locked the booking with its flights (`booking_lock_with_flight`). PAYING with every
    flight still on sale → CONFIRMED and `booking_confirmed` published. Otherwise the charge must go
    back (the caller refunds it) and the reason is returned: with a cancelled flight the booking is
    cancelled by the airline as refunded (the passenger is told), after a closed sale it is HELD
    again (its hold runs out as usual), and a booking no longer PAYING is left as it is.
    """
    if booking.status != Status.PAYING:
        return f"The booking was {booking.status} when the charge succeeded."
    if _any_cancelled(booking):
        cancel_locked(booking, refunded=True, by_airline=True, actor=None, now=now)
        return "The flight was cancelled when the charge succeeded."
    reason = _sale_closed_reason(booking.segment_flights, now)
    if reason is not None:
        status_change(booking, Status.HELD, now=now)
        return f"{reason} (when the charge succeeded)"
    status_change(booking, Status.CONFIRMED, now=now)
    events.booking_confirmed.publish(events.BookingConfirmed(booking=booking, receipt=receipt))
    return None


def booking_payment_failed(*, booking: Booking, now: datetime) -> None:
    """A payment ended without a charge (declined, or given up): PAYING → HELD, payable again until its
    hold runs out; on a cancelled flight the booking is cancelled by the airline instead (nothing was
    charged, the passenger is told). The caller has locked the booking with its flight; a booking no
    longer PAYING is left as it is."""
    if booking.status != Status.PAYING:
        return
    if _any_cancelled(booking):
        cancel_locked(booking, refunded=False, by_airline=True, actor=None, now=now)
    else:
        status_change(booking, Status.HELD, now=now)


def _any_cancelled(booking: Booking) -> bool:
    return any(flight.status == Flight.Status.CANCELLED for flight in booking.segment_flights)
