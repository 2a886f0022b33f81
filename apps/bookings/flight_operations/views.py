"""The flight operations page (apps/bookings/flight_operations/__init__.py says what it shows).

Each view is wrapped in `admin.site.admin_view` (urls.py): anyone who is not active staff goes to the
admin's sign-in page. Staff without the grants below are refused (403), as the admin refuses a
model's pages to staff without its permissions.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST

from apps.bookings.flight_operations.forms import FlightCancelForm
from apps.bookings.flight_operations.manifest_csv import CHUNK_SIZE, manifest_csv_lines, manifest_filename
from apps.bookings.flight_operations.selectors import (
    flight_load,
    flight_manifest,
    flight_operations_get,
    flight_rebookable_count,
)
from apps.bookings.services.rebooking import flight_cancel_and_rebook, rebooking_candidates
from apps.core.exceptions import ApplicationError
from apps.core.permissions import staff_may
from apps.flights.exceptions import FlightNotFound
from apps.flights.models import Flight
from apps.flights.services import FLIGHT_CANCEL_PERMISSIONS, flight_cancel

MANIFEST_PAGE_SIZE = 100


def _may_view(user) -> bool:
    """The flight and its bookings may be seen: the view (or change) permission of each, as the admin
    asks for a model's pages."""
    return all(
        staff_may(user, f"{app}.view_{model}") or staff_may(user, f"{app}.change_{model}")
        for app, model in (("flights", "flight"), ("bookings", "booking"))
    )


def _flight_or_404(flight_id: int) -> Flight:
    try:
        return flight_operations_get(flight_id=flight_id)
    except FlightNotFound:
        raise Http404("No such flight") from None


def _cancellable(flight: Flight) -> bool:
    return flight.status == Flight.Status.SCHEDULED and not flight.has_departed(timezone.now())


def _context(request: HttpRequest, flight: Flight, **extra) -> dict:
    return {
        **admin.site.each_context(request),
        "opts": Flight._meta,
        "flight": flight,
        "title": f"Operations: {flight.flight_number} "
        f"{flight.departure_airport.iata_code} → {flight.arrival_airport.iata_code}",
        "load": flight_load(flight=flight, now=timezone.now()),
        "may_cancel": staff_may(request.user, *FLIGHT_CANCEL_PERMISSIONS),
        "cancellable": _cancellable(flight),
        **extra,
    }


@require_GET
def flight_operations_page(request: HttpRequest, flight_id: int) -> HttpResponse:
    """The flight's load per cabin, its manifest (a page of it) and its cancel form."""
    if not _may_view(request.user):
        raise PermissionDenied
    flight = _flight_or_404(flight_id)
    return _operations_page(request, flight, _cancel_form(flight))


def _cancel_form(flight: Flight, data=None) -> FlightCancelForm:
    return FlightCancelForm(data, candidates=rebooking_candidates(flight=flight, now=timezone.now()))


def _operations_page(
    request: HttpRequest, flight: Flight, cancel_form: FlightCancelForm, status: int = 200
) -> HttpResponse:
    include_ended = request.GET.get("seats") == "all"
    seats = flight_manifest(flight_id=flight.pk, include_ended=include_ended)
    manifest = Paginator(seats, MANIFEST_PAGE_SIZE)
    return TemplateResponse(
        request,
        "admin/bookings/flight_operations.html",
        _context(
            request,
            flight,
            manifest=manifest.get_page(request.GET.get("page")),
            include_ended=include_ended,
            seats_query=urlencode({"seats": "all"}) if include_ended else "",
            cancel_form=cancel_form,
        ),
        status=status,
    )


@require_GET
def flight_manifest_csv(request: HttpRequest, flight_id: int) -> StreamingHttpResponse:
    """The manifest as a CSV download, streamed: a full flight never sits in memory."""
    if not _may_view(request.user):
        raise PermissionDenied
    flight = _flight_or_404(flight_id)
    seats = flight_manifest(flight_id=flight.pk, include_ended=request.GET.get("seats") == "all")
    response = StreamingHttpResponse(
        manifest_csv_lines(seats.iterator(chunk_size=CHUNK_SIZE)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{manifest_filename(flight)}"'
    return response


@require_POST
def flight_cancel_page(request: HttpRequest, flight_id: int) -> HttpResponse:
    """Cancel the flight with a reason: the first submit asks to confirm, the confirmed one cancels it
    through `flight_cancel` (the admin action's service) and returns to the operations page."""
    if not (_may_view(request.user) and staff_may(request.user, *FLIGHT_CANCEL_PERMISSIONS)):
        raise PermissionDenied
    flight = _flight_or_404(flight_id)
    page = reverse("flight_operations:page", args=[flight.pk])
    form = _cancel_form(flight, request.POST)
    if not form.is_valid():
        return _operations_page(request, flight, form, status=400)
    reason, rebook_to = form.cleaned_data["reason"], form.cleaned_data["rebook_to"]
    if not form.cleaned_data["confirmed"]:
        return TemplateResponse(
            request,
            "admin/bookings/flight_operations_cancel.html",
            _context(
                request,
                flight,
                reason=reason,
                rebook_to=rebook_to,
                rebookable=flight_rebookable_count(flight_id=flight.pk) if rebook_to else None,
            ),
        )
    if rebook_to is not None:
        return _cancel_and_rebook(request, flight, rebook_to, reason, page)
    try:
        flight_cancel(flight_id=flight.pk, actor=request.user, reason=reason)
    except ApplicationError as error:
        messages.error(request, f"{flight.flight_number} was not cancelled: {error.detail}")
        return redirect(page)
    messages.success(
        request,
        f"{flight.flight_number} is cancelled. Its bookings are cancelled, the confirmed ones refunded, and "
        "their travellers told why; one being paid right now follows when its payment ends.",
    )
    return redirect(page)


def _cancel_and_rebook(request: HttpRequest, flight: Flight, rebook_to: Flight, reason: str, page: str):
    try:
        outcome = flight_cancel_and_rebook(
            flight_id=flight.pk, to_flight_id=rebook_to.pk, actor=request.user, reason=reason
        )
    except ApplicationError as error:
        messages.error(request, f"{flight.flight_number} was not cancelled: {error.detail}")
        return redirect(page)
    messages.success(
        request,
        f"{flight.flight_number} is cancelled. {len(outcome.rebooked)} booking"
        f"{'s' if len(outcome.rebooked) != 1 else ''} rebooked onto {rebook_to.flight_number} at no charge, "
        f"their travellers e-mailed; {outcome.cancelled} cancelled, {outcome.refunded} of them refunded.",
    )
    for reference, why in outcome.not_rebooked.items():
        messages.warning(
            request,
            f"{reference} could not be rebooked ({why}); it is cancelled with the flight, refunded if paid.",
        )
    return redirect(page)
