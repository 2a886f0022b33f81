"""The traveller changing a flight on the website: the flights of a day on the route, each with what the
change costs (docs/FARES.md, "Changing a flight"). Choosing one opens the confirm page, which charges or
refunds and so is the payments app's (apps/payments/views.py: booking_change_confirm)."""

from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from apps.bookings.access import booking_for_visitor, booking_visitor_required
from apps.bookings.forms import ChangeDayForm
from apps.bookings.services.flight_changes import flight_change_options
from apps.core.exceptions import ApplicationError, ValidationFailed

NEARBY_DAYS = 3


@dataclass(frozen=True)
class NearbyDay:
    day: date
    url: str
    chosen: bool


@booking_visitor_required
def booking_change_options_page(request: HttpRequest, reference: str, segment: int) -> HttpResponse:
    """The flights flight `segment` of the booking could change to on a day (its own unless `date` says
    another), with a strip of the days around it; each flight says what changing to it costs, or why it
    cannot be had. A booking that cannot change (not paid, flown, a fare without changes) goes back to
    its page with the reason."""
    booking, actor = booking_for_visitor(request, reference)
    form = ChangeDayForm(request.GET if "date" in request.GET else None)
    status, day = 200, None
    if form.is_bound:
        if form.is_valid():
            day = form.cleaned_data["date"]
        else:
            status = 400
    try:
        from_flight, day, options = flight_change_options(
            booking=booking, segment=segment, day=day, actor=actor
        )
    except ValidationFailed:
        raise Http404("No such flight in this booking") from None
    except ApplicationError as error:
        messages.error(request, f"This flight cannot be changed: {error.detail}")
        return redirect("bookings:detail", reference=booking.reference)
    zone = ZoneInfo(from_flight.departure_airport.time_zone)
    today = timezone.now().astimezone(zone).date()
    page = reverse("bookings:change", args=[booking.reference, segment])
    nearby = [
        NearbyDay(day=near, url=f"{page}?{urlencode({'date': near.isoformat()})}", chosen=near == day)
        for offset in range(-NEARBY_DAYS, NEARBY_DAYS + 1)
        if (near := day + timedelta(days=offset)) >= today
    ]
    return render(
        request,
        "bookings/change_options.html",
        {
            "booking": booking,
            "segment": segment,
            "from_flight": from_flight,
            "day": day,
            "options": options,
            "nearby": nearby,
            "form": form if form.is_bound else ChangeDayForm(initial={"date": day}),
        },
        status=status,
    )
