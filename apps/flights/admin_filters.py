"""The list filters and search of the flights admin, shared by the lists that show a flight (bookings).

Each takes the path from the list's model to its flight ("" for flights, "flight__" for bookings).
"""

import re
from datetime import date
from typing import Any

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from apps.flights.models import Airport, Flight
from apps.flights.selectors import local_day_window, trip_date_searchable

# "MEL-SYD", "mel - syd", "MEL→SYD", "Melbourne-Sydney": a route is two places around a dash or arrow.
ROUTE_PATTERN = re.compile(r"^\s*(?P<origin>[^\-–→>]+?)\s*(?:-|–|→|->|>)\s*(?P<destination>[^\-–→>]+?)\s*$")


def airport_ids_matching(term: str) -> list[int]:
    """Airports a staff member may mean by `term`: an IATA code, the start of a city's or airport's name.

    The airports table is small (hundreds of rows); flights are then found by their airport ids, which
    lead the route index (apps/flights/models.py: flight_route_idx) and the arrival airport's key.
    """
    term = term.strip()
    if not term:
        return []
    return list(
        Airport.objects.filter(
            Q(iata_code=term.upper()) | Q(city__name__istartswith=term) | Q(name__istartswith=term)
        ).values_list("pk", flat=True)
    )


def flight_search_filter(term: str, *, path: str = "") -> Q:
    """What a search term finds among flights (under `path`): a route, a place, a flight number."""
    route = ROUTE_PATTERN.match(term)
    if route:
        origins = airport_ids_matching(route["origin"])
        destinations = airport_ids_matching(route["destination"])
        if origins and destinations:
            return Q(
                **{f"{path}departure_airport_id__in": origins, f"{path}arrival_airport_id__in": destinations}
            )
    condition = Q(**{f"{path}flight_number__istartswith": term.strip()})
    airports = airport_ids_matching(term)
    if airports:
        condition |= Q(**{f"{path}departure_airport_id__in": airports})
        condition |= Q(**{f"{path}arrival_airport_id__in": airports})
    return condition


class LocalDepartureDateFilter(admin.SimpleListFilter):
    """Flights departing on a calendar day as the departure airport's clock shows it.

    "20 Dec" at Sydney is 19 Dec 13:00 to 20 Dec 13:00 UTC, at Mumbai 19 Dec 18:30 to 20 Dec 18:30
    UTC: one UTC window per time zone among the airports (apps/flights/selectors.py:
    local_day_window, what the flight search does for its trip date). The windows are OR-ed, each
    with its zone, inside one overall bound on departure_time (the earliest start to the latest end),
    so the database range-scans the departure-time index instead of converting every row's time.
    """

    title = "departure date (local)"
    parameter_name = "departure_date"
    template = "admin/airline/date_filter.html"
    path = ""

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return []

    def has_output(self) -> bool:
        return True

    def choices(self, changelist: Any) -> list[dict[str, Any]]:
        # One entry for the template: the form's hidden fields keep the other filters and the search.
        kept = {
            name: values for name, values in changelist.filter_params.items() if name != self.parameter_name
        }
        return [
            {
                "value": self.value() or "",
                "parameter_name": self.parameter_name,
                "hidden": [(name, value) for name, values in kept.items() for value in values],
                "clear_url": changelist.get_query_string(remove=[self.parameter_name]),
                "selected": bool(self.value()),
            }
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet | None:
        if not self.value():
            return None
        try:
            day = date.fromisoformat(self.value())
        except ValueError as error:
            raise IncorrectLookupParameters(error) from error
        if not trip_date_searchable(day):
            raise IncorrectLookupParameters(f"{day} is too far from today.")
        zones = Airport.objects.order_by().values_list("time_zone", flat=True).distinct()
        windows = {zone: local_day_window(day, zone) for zone in zones}
        if not windows:
            return queryset.none()
        time, zone_field = f"{self.path}departure_time", f"{self.path}departure_airport__time_zone"
        each_zone = Q()
        for zone, (start, end) in sorted(windows.items()):
            each_zone |= Q(**{zone_field: zone, f"{time}__gte": start, f"{time}__lt": end})
        overall = Q(
            **{
                f"{time}__gte": min(start for start, _ in windows.values()),
                f"{time}__lt": max(end for _, end in windows.values()),
            }
        )
        return queryset.filter(overall & each_zone)


class DepartureWhenFilter(admin.SimpleListFilter):
    """Upcoming flights by default: staff work on what is about to fly, not on last year's schedule.

    The default gives way to a search or a chosen date, which find past flights too.
    """

    title = "departure"
    parameter_name = "when"
    path = ""
    UPCOMING, PAST, ANY = "upcoming", "past", "any"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(self.UPCOMING, "Upcoming"), (self.PAST, "Departed"), (self.ANY, "Any time")]

    def _default_applies(self, request: HttpRequest) -> bool:
        return not request.GET.get("q") and not request.GET.get(LocalDepartureDateFilter.parameter_name)

    def value(self) -> str | None:
        value = super().value()
        if value is None and self._default_applies(self.request):
            return self.UPCOMING
        return value

    def choices(self, changelist: Any):
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet | None:
        now = timezone.now()
        if self.value() == self.UPCOMING:
            return queryset.filter(**{f"{self.path}departure_time__gte": now})
        if self.value() == self.PAST:
            return queryset.filter(**{f"{self.path}departure_time__lt": now})
        return None


class RouteFilter(admin.SimpleListFilter):
    """The routes flown, as "MEL → SYD"; read from the route index, not from every flight."""

    title = "route"
    parameter_name = "route"
    path = ""

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        pairs = (
            Flight.objects.order_by()
            .values_list("departure_airport__iata_code", "arrival_airport__iata_code")
            .distinct()
        )
        return [
            (f"{origin}-{destination}", f"{origin} → {destination}") for origin, destination in sorted(pairs)
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet | None:
        if not self.value():
            return None
        origin, _, destination = self.value().partition("-")
        return queryset.filter(
            **{
                f"{self.path}departure_airport__iata_code": origin,
                f"{self.path}arrival_airport__iata_code": destination,
            }
        )
