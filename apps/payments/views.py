from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from apps.bookings.access import booking_for_visitor, booking_visitor_required
from apps.bookings.models import Booking
from apps.core.exceptions import ApplicationError
from apps.core.ratelimit import user_key
from apps.core.views import page_rate_limit
from apps.payments.exceptions import AlreadyPaid, PaymentDeclined, PaymentGatewayTimeout
from apps.payments.forms import TEST_CARDS, PayForm
from apps.payments.services import payment_create


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
