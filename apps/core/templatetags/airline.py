"""Presentation filters for the website (and the emails' local times): money, times, countdowns."""

import math
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Protocol
from zoneinfo import ZoneInfo

from django import template
from django.utils import dateformat, timezone

from apps.core.money import money_display

register = template.Library()


@register.filter
def money(amount: Decimal | None, currency: str = "") -> str:
    """4500 with "INR" → "₹4,500": the rule is apps/core/money.py's, for every page and email."""
    if amount in (None, ""):
        return ""
    return money_display(amount, currency)


class Located(Protocol):
    """Anything with an IANA time zone, such as an airport (core imports no other app)."""

    time_zone: str


@register.filter
def local_time(moment: datetime | None, place: Located, fmt: str = "D j M Y, H:i T") -> str:
    """`moment` on the clock of `place`, with the zone named: "Tue 15 Dec 2026, 09:30 IST".

    Times are shown where they happen (what the boarding pass and the airport screens say).
    """
    if moment is None:
        return ""
    return dateformat.format(moment.astimezone(ZoneInfo(place.time_zone)), fmt)


@register.filter
def local_clock(moment: datetime | None, place: Located) -> str:
    """Only the time of day of `local_time`, for deadlines minutes away: "09:30 IST"."""
    return local_time(moment, place, "H:i T")


@register.filter
def hours_minutes(value: timedelta | None) -> str:
    """A duration as "2h 10m" (minutes dropped when zero)."""
    if value is None:
        return ""
    minutes = int(value.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    if not hours:
        return f"{minutes}m"
    return f"{hours}h {minutes:02d}m" if minutes else f"{hours}h"


@register.filter
def flight_duration(flight) -> str:
    return hours_minutes(flight.arrival_time - flight.departure_time)


@register.filter
def day_offset(flight) -> str:
    """ "+1" when the flight lands on a later local calendar day than it left."""
    departs = flight.departure_time.astimezone(ZoneInfo(flight.departure_airport.time_zone)).date()
    arrives = flight.arrival_time.astimezone(ZoneInfo(flight.arrival_airport.time_zone)).date()
    days = (arrives - departs).days
    return f"+{days}" if days > 0 else ""


@register.filter
def seconds_until(moment: datetime | None) -> int:
    """Seconds from now until `moment`, rounded up (a countdown must never end early), never negative."""
    if moment is None:
        return 0
    return max(0, math.ceil((moment - timezone.now()).total_seconds()))


@register.filter
def mm_ss(seconds: int) -> str:
    minutes, seconds = divmod(max(0, int(seconds)), 60)
    return f"{minutes:02d}:{seconds:02d}"
