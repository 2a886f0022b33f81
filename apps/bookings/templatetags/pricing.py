"""A booking's price breakdown in pages (templates/bookings/_price_breakdown.html; docs/FARES.md)."""

from decimal import Decimal

from django import template

from apps.bookings.models import Booking, InfantFare
from apps.bookings.pricing import PriceBreakdown, price_breakdown
from apps.core.money import money_display

register = template.Library()


@register.filter
def booking_price(booking: Booking) -> PriceBreakdown:
    """Base fares, each tax summed by name, and the total of every seat and infant's fare of the booking."""
    return price_breakdown(
        booking.seat_assignments.all(), InfantFare.objects.filter(passenger__booking_id=booking.pk)
    )


@register.filter
def fare_difference(amount: Decimal, currency: str) -> str:
    """A change's fare difference in words (docs/FARES.md, "Changing a flight"): "₹500 more", "₹200
    less" or "the same fare"."""
    if amount > 0:
        return f"{money_display(amount, currency)} more"
    if amount < 0:
        return f"{money_display(-amount, currency)} less"
    return "the same fare"
