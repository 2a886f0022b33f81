from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from apps.bookings.access import booking_for_visitor, booking_visitor_required
from apps.bookings.exceptions import BookingNotMovable, QuoteChanged
from apps.bookings.models import Booking, FlightChange
from apps.bookings.services.flight_changes import flight_change_quote
from apps.core.exceptions import ApplicationError, ValidationFailed
from apps.core.money import money_display
from apps.core.ratelimit import user_key
from apps.core.views import page_rate_limit
from apps.payments.exceptions import AlreadyPaid, PaymentDeclined, PaymentGatewayTimeout
from apps.payments.forms import TEST_CARDS, ChangeConfirmForm, PayForm
from apps.payments.services import booking_flight_change, payment_create


@never_cache
@booking_visitor_required
@page_rate_limit(group="payment", key=user_key, rate_setting="RATELIMIT_PAYMENT", fail_open=True)
def booking_pay(request: HttpRequest, reference: str) -> HttpResponse:
    """The hold page: a countdown to the hold's expiry and the pay form (POST pays, then redirects)."""
    booking, actor = booking_for_visitor(request, reference)
    if request.method != "POST":
        if booking.status == Booking.Status.CONFIRMED:
            return redirect("bookings:detail", reference=booking.reference)
        return _render(request, booking, PayForm.fresh(payment_method="tok_visa"))
    form = PayForm(request.POST)
    if not form.is_valid():
        return _render(request, booking, form, status=400)
    try:
        payment_create(
            user=actor,
            booking_reference=booking.reference,
            amount=booking.total_amount,
            currency=booking.currency,
            payment_method=form.cleaned_data["payment_method"],
            idempotency_key=form.cleaned_data["idempotency_key"],
        )
    except AlreadyPaid:
        messages.info(request, "This booking is already paid; you have not been charged again.")
        return redirect("bookings:detail", reference=booking.reference)
    except PaymentDeclined as error:
        messages.error(request, f"Your card was not charged: {error.detail} Please try another card.")
    except PaymentGatewayTimeout:
        # Same key again on purpose: the retry resumes this payment and can never charge twice.
        messages.warning(
            request, "Your bank did not answer in time. Press Pay again: you will not be charged twice."
        )
        return _render(request, booking, form)
    except ApplicationError as error:  # expired, cancelled, in progress elsewhere, …
        messages.error(request, error.detail)
    else:
        messages.success(request, "Payment received. Your booking is confirmed: here is your e-ticket.")
        return redirect("bookings:detail", reference=booking.reference)
    return redirect("payments:pay", reference=booking.reference)


def _render(request: HttpRequest, booking: Booking, form: PayForm, *, status: int = 200) -> HttpResponse:
    expired = booking.status in (Booking.Status.EXPIRED, Booking.Status.CANCELLED) or (
        booking.status == Booking.Status.HELD and booking.hold_expires_at <= timezone.now()
    )
    return render(
        request,
        "payments/pay.html",
        {
            "booking": booking,
            "form": form,
            "cards": TEST_CARDS,
            "expired": expired,
            "paying": booking.status == Booking.Status.PAYING,
        },
        status=status,
    )


@never_cache
@booking_visitor_required
@page_rate_limit(group="payment", key=user_key, rate_setting="RATELIMIT_PAYMENT", fail_open=True)
def booking_change_confirm(
    request: HttpRequest, reference: str, segment: int, flight_id: int
) -> HttpResponse:
    """The confirm page of a flight change: the quote line by line (each passenger's fare now and on the
    new flight, the change fee, what is paid or refunded), the card when it costs something, and the
    confirm button. POST changes at that quote's price (`booking_flight_change`) and leads to the
    booking's page; a price that moved shows the new quote (409), a declined card says so, and a change
    no longer possible goes back to the day's flights with the reason; nothing is charged twice."""
    booking, actor = booking_for_visitor(request, reference)
    status = 200
    form = ChangeConfirmForm.fresh(payment_method="tok_visa")
    if request.method == "POST":
        form = ChangeConfirmForm(request.POST)
        if not form.is_valid():
            status = 400
        else:
            try:
                change = booking_flight_change(
                    booking=booking,
                    segment=segment,
                    to_flight_id=flight_id,
                    actor=actor,
                    quote=form.cleaned_data["quote"],
                    idempotency_key=form.cleaned_data["idempotency_key"],
                    payment_method=form.cleaned_data["payment_method"],
                )
            except QuoteChanged:
                messages.warning(
                    request, "The price of this change has changed. Check it below and confirm again."
                )
                form, status = (
                    ChangeConfirmForm.fresh(payment_method=form.cleaned_data["payment_method"]),
                    409,
                )
            except PaymentDeclined as error:
                messages.error(
                    request, f"Your card was not charged and your flight is unchanged: {error.detail}"
                )
                return redirect(
                    "payments:change_confirm",
                    reference=booking.reference,
                    segment=segment,
                    flight_id=flight_id,
                )
            except PaymentGatewayTimeout:
                # Same key again on purpose: the retry resumes this payment and can never charge twice.
                messages.warning(
                    request,
                    "Your bank did not answer in time. Press Confirm again: you will not be charged twice.",
                )
            except ValidationFailed as error:
                for field, problems in (error.errors or {}).items():
                    for problem in problems:
                        form.add_error(field if field in form.fields else None, problem)
                status = 400
            except ApplicationError as error:
                messages.error(request, f"Your flight was not changed: {error.detail}")
                return redirect("bookings:change", reference=booking.reference, segment=segment)
            else:
                messages.success(request, _changed_message(change))
                return redirect("bookings:detail", reference=booking.reference)
    try:
        quote = flight_change_quote(booking=booking, segment=segment, to_flight_id=flight_id, actor=actor)
    except ValidationFailed:
        raise Http404("No such flight in this booking") from None
    except BookingNotMovable as error:  # the booking itself cannot change now
        messages.error(request, f"This flight cannot be changed: {error.detail}")
        return redirect("bookings:detail", reference=booking.reference)
    except ApplicationError as error:  # not to this flight: the day's others
        messages.error(request, f"This change is not possible: {error.detail}")
        return redirect("bookings:change", reference=booking.reference, segment=segment)
    return render(
        request,
        "payments/change_confirm.html",
        {"booking": booking, "quote": quote, "form": form, "cards": TEST_CARDS},
        status=status,
    )


def _changed_message(change: FlightChange) -> str:
    said = f"Your flight is changed to {change.to_flight.flight_number}."
    if change.amount_due:
        return f"{said} We charged {money_display(change.amount_due, change.currency)} to your card."
    if change.refund_due:
        return f"{said} {money_display(change.refund_due, change.currency)} will be refunded to your card."
    return f"{said} There was nothing to pay."
