"""Bookings in the admin: read-only records; staff act on them only through the services."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode

from apps.bookings.models import Booking, Passenger, SeatAssignment
from apps.bookings.selectors import flight_active_booking_count
from apps.bookings.services import booking_cancel, flight_cancel
from apps.core.exceptions import ApplicationError
from apps.flights.admin import FlightAdmin
from apps.flights.models import Flight


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Booking | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Booking | None = None) -> bool:
        return False


class PassengerInline(_ReadOnlyInline):
    model = Passenger
    fields = ["position", "first_name", "last_name"]
    readonly_fields = fields


class SeatAssignmentInline(_ReadOnlyInline):
    model = SeatAssignment
    fields = ["seat_code", "cabin", "fare", "passenger", "active", "released_at"]
    readonly_fields = fields


@admin.register(Booking)
class BookingAdmin(admin.ModelAdmin):
    list_display = [
        "reference",
        "owner",
        "flight",
        "status",
        "total_amount",
        "currency",
        "hold_expires_at",
        "created_at",
    ]
    list_filter = ["status"]
    search_fields = ["reference", "owner__email", "flight__flight_number"]
    list_select_related = ["owner", "flight"]
    date_hierarchy = "created_at"
    inlines = [PassengerInline, SeatAssignmentInline]
    actions = ["cancel_bookings"]
    fields = [
        "reference",
        "owner",
        "flight",
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


admin.site.unregister(Flight)


@admin.register(Flight)
class FlightWithCancelAdmin(FlightAdmin):
    """The catalogue's flight admin plus "cancel flight", which needs the booking services."""

    actions = ["cancel_flights"]

    def has_cancel_flight_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("flights.change_flight") and request.user.has_perm(
            "bookings.change_booking"
        )

    @admin.action(
        description="Cancel selected flights (cancels their bookings, refunds confirmed ones)",
        permissions=["cancel_flight"],
    )
    def cancel_flights(self, request: HttpRequest, queryset: QuerySet[Flight]) -> None:
        for flight in queryset.order_by("pk"):
            try:
                cancelled = flight_cancel(flight=flight, actor=request.user)
            except ApplicationError as error:
                self.message_user(request, f"{flight}: {error.detail}", messages.ERROR)
                continue
            self.message_user(request, f"{flight}: cancelled, with {cancelled} booking(s).", messages.SUCCESS)
            still_active = flight_active_booking_count(flight_id=flight.pk)
            if still_active:
                self.message_user(
                    request,
                    f"{flight}: {still_active} booking(s) still active (a payment in progress or a refund "
                    "that failed); run the action again shortly.",
                    messages.WARNING,
                )
