"""Bookings in the admin: read-only records; staff act on them only through the services."""

import re

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.auth import get_user_model
from django.db.models import Prefetch, Q, QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode

from apps.bookings.flight_operations.forms import candidate_label
from apps.bookings.models import (
    REFERENCE_ALPHABET,
    REFERENCE_LENGTH,
    Booking,
    FlightChange,
    Passenger,
    SeatAssignment,
)
from apps.bookings.selectors import booking_get
from apps.bookings.services import booking_cancel
from apps.bookings.services.changes import MOVE_PERMISSIONS
from apps.bookings.services.rebooking import bookings_rebook, flights_shared, rebooking_candidates_for
from apps.core.admin_display import amount, local_and_utc, local_moment, utc_moment
from apps.core.exceptions import ApplicationError
from apps.core.permissions import staff_may
from apps.core.templatetags.airline import local_time
from apps.flights.admin_filters import LocalDepartureDateFilter, RouteFilter, flight_search_filter
from apps.flights.models import Flight

User = get_user_model()


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Booking | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Booking | None = None) -> bool:
        return False


class PassengerInline(_ReadOnlyInline):
    model = Passenger
    fields = ["position", "first_name", "last_name", "type", "date_of_birth", "travelling_with", "lap_fares"]
    readonly_fields = fields

    @admin.display(description="Infant fares (no seat)")
    def lap_fares(self, passenger: Passenger) -> str:
        """An infant's price on each flight of the journey (docs/PASSENGERS.md); read for infants only."""
        if not passenger.is_infant:
            return "—"
        return "; ".join(f"flight {line.segment}: {line.fare}" for line in passenger.infant_fares.all())


class SeatAssignmentInline(_ReadOnlyInline):
    model = SeatAssignment
    fields = ["segment", "flight", "seat_code", "cabin", "fare", "passenger", "active", "released_at"]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[SeatAssignment]:
        return (
            super()
            .get_queryset(request)
            .select_related("flight", "passenger")
            .order_by("segment", "passenger__position")
        )


class FlightChangeInline(_ReadOnlyInline):
    """The booking's change history: each flight change its traveller asked for, what it cost and how
    it ended (docs/FARES.md, "Changing a flight"); its payments are in the payments below, its audit rows
    behind "Audit trail"."""

    model = FlightChange
    verbose_name = "flight change"
    verbose_name_plural = "Flight changes (by the traveller)"
    fields = [
        "created",
        "segment",
        "from_flight",
        "to_flight",
        "status",
        "fare_difference",
        "change_fee",
        "residual_kept",
        "amount_due",
        "refund_due",
        "failure_reason",
    ]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[FlightChange]:
        return (
            super()
            .get_queryset(request)
            .select_related("from_flight", "to_flight")
            .order_by("-created_at", "-id")
        )

    @admin.display(description="Asked (UTC)")
    def created(self, change: FlightChange) -> str:
        return utc_moment(change.created_at)


class FlightFilter(admin.SimpleListFilter):
    """One flight's bookings: the "Bookings" link of a flight (apps/flights/admin.py) lands here."""

    title = "flight"
    parameter_name = "flight"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        # Only the chosen flight: listing every flight would read the whole schedule on each page.
        if not _is_id(self.value() or ""):
            return []
        flight = Flight.objects.select_related("departure_airport", "arrival_airport").filter(pk=self.value())
        return [
            (
                str(f.pk),
                f"{f.flight_number} {f.departure_airport.iata_code}→{f.arrival_airport.iata_code} "
                f"{local_time(f.departure_time, f.departure_airport, 'j M H:i T')}",
            )
            for f in flight
        ]

    def has_output(self) -> bool:
        # Django applies only the filters it shows: shown whenever a flight is asked for, even one
        # that does not exist (the list is then empty, not every booking).
        return self.value() is not None

    def queryset(self, request: HttpRequest, queryset: QuerySet[Booking]) -> QuerySet[Booking] | None:
        if self.value() is None:
            return None
        if not _is_id(self.value()):
            raise IncorrectLookupParameters("A flight is named by its id.")
        return queryset.filter(bookings_on_flights([int(self.value())]))


def bookings_on_flights(flights) -> Q:
    """The bookings with a seat on one of `flights` (ids, or a subquery of them), whichever flight of
    their journey it is: the first by the booking's own column, a later one through its seats."""
    later = SeatAssignment.objects.filter(flight__in=flights, segment__gt=1).values("booking_id")
    return Q(flight__in=flights) | Q(segment_count__gt=1, pk__in=later)


class BookingDepartureDateFilter(LocalDepartureDateFilter):
    path = "flight__"


class BookingRouteFilter(RouteFilter):
    path = "flight__"


# A reference as apps/bookings/models.py writes one, and a name as travellers type one.
_REFERENCE = re.compile(rf"^[{REFERENCE_ALPHABET}]{{{REFERENCE_LENGTH}}}$")


def booking_search_filter(term: str) -> Q:
    """What staff find a booking by: its reference, a passenger's name, the owner's email, the flight.

    Each part reads an index (the unique reference, passenger_name_idx and passenger_first_name_idx,
    the unique email, the flight's number and route) in a subquery the database materializes once;
    the bookings are then read in the page's order and probed against those sets, with no join.
    """
    term = " ".join(term.split())
    condition = Q(pk__in=Passenger.objects.filter(_passenger_name(term)).values("booking_id"))
    if _REFERENCE.match(term.upper()):
        condition |= Q(reference=term.upper())
    if "@" in term:
        condition |= Q(owner__in=User.objects.filter(email__istartswith=term).values("pk"))
    condition |= bookings_on_flights(Flight.objects.filter(flight_search_filter(term)).values("pk"))
    return condition


def _passenger_name(term: str) -> Q:
    """ "Rao", "Asha" or "Asha Rao": the start of a first or last name, or of both in that order."""
    first, _, last = term.partition(" ")
    if last:
        return Q(first_name__istartswith=first, last_name__istartswith=last) | Q(last_name__istartswith=term)
    return Q(last_name__istartswith=term) | Q(first_name__istartswith=term)


class BookingRebookForm(forms.Form):
    """The bulk rebooking's question: onto which flight (a later one on the route, on sale, with seats)."""

    to_flight = forms.ModelChoiceField(label="Rebook onto", queryset=Flight.objects.none())
    confirmed = forms.BooleanField(widget=forms.HiddenInput, initial=True)

    def __init__(self, *args, candidates: QuerySet[Flight], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["to_flight"]
        field.queryset = candidates.order_by("departure_time", "pk")
        field.label_from_instance = candidate_label


@admin.register(Booking)
class BookingAdmin(admin.ModelAdmin):
    # What staff look for at 1366 px beside the filters (apps/bookings/tests/test_admin_lists.py).
    list_display = ["reference", "passenger_names", "flight_column", "departure", "status", "total", "owner"]
    list_filter = [
        "status",
        FlightFilter,
        BookingDepartureDateFilter,
        BookingRouteFilter,
    ]
    search_fields = ["reference"]  # the search itself: get_search_results
    search_help_text = (
        'Booking reference, passenger name ("Asha Rao"), owner\'s email, flight number or route.'
    )
    # No join in the page's query: joined to the airports, MariaDB starts from that small table and
    # sorts every booking to find the newest 50 (1.4 s on 100,000). The page's rows come from the
    # created_at index alone; their owners, flights, airports and passengers are fetched for those
    # rows only, one query each (get_queryset).
    list_select_related = ()
    ordering = ["-created_at", "-id"]
    show_full_result_count = False
    list_per_page = 50
    # apps/payments/admin.py adds the booking's payments (bookings does not import payments).
    inlines = [PassengerInline, SeatAssignmentInline, FlightChangeInline]
    actions = ["cancel_bookings", "rebook_bookings"]
    fields = [
        "reference",
        "owner",
        "flight",
        "flight_departure",
        "journey",
        "status",
        "total_amount",
        "currency",
        "hold_expires_at",
        "confirmed_at",
        "cancelled_at",
        "expired_at",
        "created_at",
        "updated_at",
        "audit_trail",
    ]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Booking]:
        return (
            super()
            .get_queryset(request)
            .prefetch_related(
                "owner",
                Prefetch(
                    "flight", queryset=Flight.objects.select_related("departure_airport", "arrival_airport")
                ),
                Prefetch("passengers", queryset=Passenger.objects.order_by("position")),
                # A journey's later flights, for its route: one query for the page, whatever it holds.
                Prefetch(
                    "seat_assignments",
                    queryset=SeatAssignment.objects.filter(segment__gt=1)
                    .select_related("flight__departure_airport", "flight__arrival_airport")
                    .order_by("segment"),
                    to_attr="later_segment_seats",
                ),
            )
        )

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Booking], search_term: str
    ) -> tuple[QuerySet[Booking], bool]:
        if not search_term.strip():
            return queryset, False
        return queryset.filter(booking_search_filter(search_term)), False

    @admin.display(description="Passengers")
    def passenger_names(self, booking: Booking) -> str:
        names = [str(passenger) for passenger in booking.passengers.all()]
        if not names:
            return "–"
        more = f" +{len(names) - 1}" if len(names) > 1 else ""
        return format_html('<span title="{}">{}{}</span>', ", ".join(names), names[0], more)

    @admin.display(description="Flight", ordering="flight__departure_time")
    def flight_column(self, booking: Booking) -> str:
        """The flight and its route; a journey's first flight, how many more, and its whole route
        ("AI205 +1 BOM → DEL → BOM"), every flight number on hover."""
        flight = booking.flight
        later = getattr(booking, "later_segment_seats", None)
        if booking.segment_count == 1 or not later:
            return format_html(
                "{} {}&nbsp;→&nbsp;{}",
                flight.flight_number,
                flight.departure_airport.iata_code,
                flight.arrival_airport.iata_code,
            )
        flights = [flight, *{seat.segment: seat.flight for seat in later}.values()]
        return format_html(
            '<span title="{}">{} +{} {}</span>',
            ", ".join(f.flight_number for f in flights),
            flight.flight_number,
            len(flights) - 1,
            journey_route(flights),
        )

    @admin.display(description="Departs (local)", ordering="flight__departure_time")
    def departure(self, booking: Booking) -> str:
        return local_moment(booking.flight.departure_time, booking.flight.departure_airport)

    @admin.display(description="Departs (local time at the airport)")
    def flight_departure(self, booking: Booking) -> str:
        flight = booking.flight
        return local_and_utc(flight.departure_time, flight.departure_airport)

    @admin.display(description="Flights")
    def journey(self, booking: Booking) -> str:
        """Each flight of the booking with its local times and the passengers' seats on it."""
        segments = booking_get(booking_id=booking.pk).journey()
        rows = format_html_join(
            "",
            '<tr><td>{}</td><td><a href="{}">{}</a></td><td>{}&nbsp;→&nbsp;{}</td><td>{}</td><td>{}</td>'
            "<td>{}</td></tr>",
            (
                (
                    segment.position,
                    reverse("admin:flights_flight_change", args=[segment.flight.pk]),
                    segment.flight.flight_number,
                    segment.flight.departure_airport.iata_code,
                    segment.flight.arrival_airport.iata_code,
                    local_and_utc(segment.flight.departure_time, segment.flight.departure_airport),
                    local_and_utc(segment.flight.arrival_time, segment.flight.arrival_airport),
                    ", ".join(f"{passenger} {_seat_text(seat)}" for passenger, seat in segment.seats),
                )
                for segment in segments
            ),
        )
        return format_html(
            '<table class="journey"><thead><tr><th scope="col">#</th><th scope="col">Flight</th>'
            '<th scope="col">Route</th><th scope="col">Departs (local)</th>'
            '<th scope="col">Arrives (local)</th>'
            '<th scope="col">Seats</th></tr></thead><tbody>{}</tbody></table>',
            rows,
        )

    @admin.display(description="Total", ordering="total_amount")
    def total(self, booking: Booking) -> str:
        return amount(booking.total_amount, booking.currency)

    @admin.display(description="Audit trail")
    def audit_trail(self, obj: Booking) -> str:
        """The booking's events and its payments' (they carry its reference), newest first."""
        url = f"{reverse('admin:core_auditevent_changelist')}?{urlencode({'q': obj.reference})}"
        return format_html('<a href="{}">Who did what to {}</a>', url, obj.reference)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Booking | None = None) -> bool:
        return False  # bookings change only through services (the actions below)

    def has_delete_permission(self, request: HttpRequest, obj: Booking | None = None) -> bool:
        return False

    def has_cancel_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("bookings.change_booking")

    @admin.action(
        description="Cancel selected bookings (confirmed ones are refunded)", permissions=["cancel"]
    )
    def cancel_bookings(self, request: HttpRequest, queryset: QuerySet[Booking]) -> None:
        cancelled = 0
        for booking in queryset.order_by("pk"):
            try:
                booking_cancel(booking=booking, actor=request.user)
            except ApplicationError as error:
                self.message_user(request, f"{booking.reference}: {error.detail}", messages.ERROR)
            else:
                cancelled += 1
        if cancelled:
            self.message_user(request, f"Cancelled {cancelled} booking(s).", messages.SUCCESS)

    def has_rebook_permission(self, request: HttpRequest) -> bool:
        return staff_may(request.user, *MOVE_PERMISSIONS)

    @admin.action(description="Rebook onto another flight…", permissions=["rebook"])
    def rebook_bookings(self, request: HttpRequest, queryset: QuerySet[Booking]) -> TemplateResponse | None:
        """Move the selected bookings off a flight they share to a later flight on its route, at no charge
        (`booking_segment_move` by the airline): the first submit asks which flight, the second moves."""
        bookings = list(queryset.order_by("pk"))
        shared = flights_shared(bookings=bookings)
        if not shared:
            self.message_user(
                request, "Select bookings of one flight to rebook them together.", messages.ERROR
            )
            return None
        candidates = rebooking_candidates_for(flights=shared, now=timezone.now())
        form = BookingRebookForm(
            request.POST if request.POST.get("confirmed") else None, candidates=candidates
        )
        if not form.is_valid():
            return TemplateResponse(
                request,
                "admin/bookings/booking_rebook.html",
                {
                    **self.admin_site.each_context(request),
                    "opts": self.model._meta,
                    "title": "Rebook onto another flight",
                    "bookings": bookings,
                    "shared": shared,
                    "form": form,
                    "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                },
            )
        to_flight = form.cleaned_data["to_flight"]
        outcome = bookings_rebook(
            bookings=bookings, from_flights=shared, to_flight=to_flight, actor=request.user
        )
        for reference, why in outcome.not_rebooked.items():
            self.message_user(request, f"{reference}: {why}", messages.ERROR)
        if rebooked := len(outcome.rebooked):
            self.message_user(
                request,
                f"{rebooked} booking{'s' if rebooked != 1 else ''} rebooked onto {to_flight.flight_number}; "
                "their travellers are e-mailed.",
                messages.SUCCESS,
            )
        return None


def journey_route(flights: list[Flight]) -> str:
    """The airports of flights in travel order: "BOM → DEL → BOM"; where one leaves from elsewhere than
    the previous landed, " · " starts the next leg ("BOM → DEL · BLR → MAA")."""
    route = flights[0].departure_airport.iata_code
    for previous, flight in zip([None, *flights], flights, strict=False):
        if previous is not None and previous.arrival_airport_id != flight.departure_airport_id:
            route += f" · {flight.departure_airport.iata_code}"
        route += f" → {flight.arrival_airport.iata_code}"
    return route


def _seat_text(seat: SeatAssignment | None) -> str:
    if seat is None:
        return "–"
    return seat.seat_code if seat.active else f"{seat.seat_code} (released)"


def _is_id(text: str) -> bool:
    """ASCII digits only: str.isdigit() also admits "²", which int() refuses."""
    return text.isascii() and text.isdigit()
