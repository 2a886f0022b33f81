"""A fare family's rules as the website writes them (docs/FARES.md): the results' comparison
(templates/flights/_fare_families.html) and the passenger page's chosen fare say them the same way."""

from django import template

from apps.core.money import money_display
from apps.flights.models import FareFamily

register = template.Library()


@register.filter
def fare_bags(family: FareFamily) -> str:
    """ "Cabin 7 kg, 1 × 25 kg checked", or "Cabin 7 kg, no checked bag"."""
    if not family.checked_bags:
        return f"Cabin {family.cabin_bag_kg} kg, no checked bag"
    return f"Cabin {family.cabin_bag_kg} kg, {family.checked_bags} × {family.checked_bag_kg} kg checked"


@register.filter
def fare_refund(family: FareFamily, currency: str) -> str:
    """ "Full refund", "Refund less ₹1,500" or "Taxes only" (what cancelling gives back)."""
    if family.refund_rule == FareFamily.RefundRule.FULL:
        return "Full refund"
    if family.refund_rule == FareFamily.RefundRule.FEE:
        return f"Refund less {money_display(family.refund_fee, currency)}"
    return "Taxes only"


@register.filter
def fare_change(family: FareFamily, currency: str) -> str:
    """ "Not allowed", "Fee ₹3,000" or "Free"."""
    if not family.change_allowed:
        return "Not allowed"
    if family.change_fee:
        return f"Fee {money_display(family.change_fee, currency)}"
    return "Free"
