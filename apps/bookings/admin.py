"""Bookings in the admin: read-only records; staff act on them only through the services."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode

from apps.bookings.models import Booking, Passenger, SeatAssignment
from apps.bookings.services import booking_cancel
from apps.core.exceptions import ApplicationError


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
