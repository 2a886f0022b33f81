"""A booking's price breakdown in pages (templates/bookings/_price_breakdown.html; docs/FARES.md)."""

from django import template

from apps.bookings.models import Booking, InfantFare
from apps.bookings.pricing import PriceBreakdown, price_breakdown

register = template.Library()


@register.filter
def booking_price(booking: Booking) -> PriceBreakdown:
    """Base fares, each tax summed by name, and the total of every seat and infant's fare of the booking."""
    return price_breakdown(
        booking.seat_assignments.all(), InfantFare.objects.filter(passenger__booking_id=booking.pk)
    )
