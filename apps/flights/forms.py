from collections.abc import Callable
from datetime import date
from zoneinfo import ZoneInfo

from django import forms
from django.utils import timezone

from apps.flights.journeys import JourneySegmentQuery, TripKind
from apps.flights.models import MAX_PARTY_SIZE, MAX_SEGMENTS
from apps.flights.places import Place, PlaceIndex, PlaceNotFound, place_index, place_resolve
from apps.flights.selectors import TRIP_DATE_MAX_YEARS_AWAY, FlightSearchCriteria, trip_date_searchable

# The last time zone to start a day: before its today, a date is past everywhere.
_LATEST_ZONE = "Etc/GMT+12"

SORT_CHOICES = [
    ("departure_time_asc", "Earliest departure"),
    ("departure_time_desc", "Latest departure"),
    ("price_asc", "Lowest price"),
    ("price_desc", "Highest price"),
    ("duration_asc", "Shortest flight"),
    ("arrival_time_asc", "Earliest arrival"),
]


def local_today(time_zone: str) -> date:
    return timezone.now().astimezone(ZoneInfo(time_zone)).date()


class PlaceField(forms.CharField):
    """A city, an airport's name or its code, as apps/flights/places.py resolves it (to a Place).
    A form gives its fields one index (`index_of`), so the cache is asked once per form."""

    index_of: Callable[[], PlaceIndex] = staticmethod(place_index)

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return value
        try:
            return place_resolve(value, self.index_of())
        except PlaceNotFound as error:
            raise forms.ValidationError(str(error), code="unknown_place") from None


TRIP_CHOICES = [
    (TripKind.ONE_WAY, "One way"),
    (TripKind.RETURN, "Return"),
    (TripKind.MULTI_CITY, "Multi-city"),
]
# The multi-city rows after the first (From, To and Date are the first flight's).
MULTI_CITY_ROWS = range(2, MAX_SEGMENTS + 1)
# Their labels say neither "from", "to" nor "date", which name the first flight's fields.
JOURNEY_FIELDS = (
    "return_date",
    *(f"{name}_{row}" for row in MULTI_CITY_ROWS for name in ("origin", "destination", "date")),
)


def _place_field(label: str, *, required: bool = True) -> "PlaceField":
    return PlaceField(
        label=label,
        max_length=120,
        required=required,
        widget=forms.TextInput(
            attrs={"placeholder": "City or airport", "autocomplete": "off", "data-airport-autocomplete": ""}
        ),
    )


def _date_field(label: str) -> forms.DateField:
    return forms.DateField(
        label=label, required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )


class FlightSearchForm(forms.Form):
    """The search box (trip, from, to, date, travellers; a return's date, the multi-city rows) plus
    the results page's sort and price filter. A one-way search ignores the return and multi-city
    fields entirely, so its pages and links are as they were."""

    trip = forms.ChoiceField(
        label="Trip", choices=TRIP_CHOICES, required=False, initial=TripKind.ONE_WAY, widget=forms.RadioSelect
    )

    origin = PlaceField(
        label="From",
        max_length=120,
        widget=forms.TextInput(
            attrs={"placeholder": "City or airport", "autocomplete": "off", "data-airport-autocomplete": ""}
        ),
    )
    destination = PlaceField(
        label="To",
        max_length=120,
        widget=forms.TextInput(
            attrs={"placeholder": "City or airport", "autocomplete": "off", "data-airport-autocomplete": ""}
        ),
    )
    date = forms.DateField(
        label="Date", required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    travellers = forms.IntegerField(
        label="Travellers",
        required=False,  # a shared link without it is for one
        min_value=1,
        max_value=MAX_PARTY_SIZE,
        initial=1,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    sort = forms.ChoiceField(label="Sort by", choices=SORT_CHOICES, required=False)
    price_min = forms.DecimalField(
        label="Lowest fare", min_value=0, max_digits=10, decimal_places=2, required=False
    )
    price_max = forms.DecimalField(
        label="Highest fare", min_value=0, max_digits=10, decimal_places=2, required=False
    )
    return_date = _date_field("Returning")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.is_bound and not self.data.get("trip"):  # a search from before trips: one way, shown so
            self.data = self.data.copy()
            self.data["trip"] = TripKind.ONE_WAY.value
        self._places: PlaceIndex | None = None
        for row in MULTI_CITY_ROWS:
            self.fields[f"origin_{row}"] = _place_field(f"Flight {row} origin", required=False)
            self.fields[f"destination_{row}"] = _place_field(f"Flight {row} destination", required=False)
            self.fields[f"date_{row}"] = _date_field(f"Flight {row} day")
        for place_field in self.fields.values():
            if isinstance(place_field, PlaceField):
                place_field.index_of = self.places
        # The date picker offers no day that has passed everywhere (the server checks the origin's).
        earliest = local_today(_LATEST_ZONE).isoformat()
        for name in ("date", *(name for name in JOURNEY_FIELDS if "date" in name)):
            self.fields[name].widget.attrs["min"] = earliest

    def clean_date(self):
        day = self.cleaned_data.get("date")
        if day and not trip_date_searchable(day):
            raise forms.ValidationError(f"Choose a date within {TRIP_DATE_MAX_YEARS_AWAY} years of today.")
        return day

    def clean_travellers(self):
        return self.cleaned_data.get("travellers") or 1

    def clean_trip(self):
        return TripKind(self.cleaned_data.get("trip") or TripKind.ONE_WAY)

    def clean(self):
        data = super().clean()
        if data.get("trip", TripKind.ONE_WAY) == TripKind.ONE_WAY:
            for name in JOURNEY_FIELDS:  # not part of a one-way search, whatever they hold
                self.errors.pop(name, None)
                data.pop(name, None)
        else:
            self._journey_clean(data)
        origin, destination = data.get("origin"), data.get("destination")
        if origin and destination and set(origin.codes) & set(destination.codes):
            self.add_error("destination", "Choose a destination other than where you leave from.")
        day = data.get("date")
        if day and day < self.origin_today():
            self.add_error("date", "That day has passed where you leave from: choose today or a later date.")
        low, high = data.get("price_min"), data.get("price_max")
        if low is not None and high is not None and low > high:
            self.add_error("price_max", "The highest fare must be at least the lowest.")
        return data

    def _journey_clean(self, data: dict) -> None:
        """A return needs its date and the return date; multi-city rows are taken up to the last one
        filled in (at least the second), each complete. The journey service checks the rest."""
        if not self["date"].errors and not data.get("date"):
            self.add_error("date", "Choose the day of the first flight.")
        if data["trip"] == TripKind.RETURN:
            if not self["return_date"].errors and not data.get("return_date"):
                self.add_error("return_date", "Choose the day you fly back.")
            return
        for row in self.multi_city_rows():
            for name, message in (
                ("origin", "where it leaves from"),
                ("destination", "where it goes"),
                ("date", "its day"),
            ):
                field = f"{name}_{row}"
                if not self[field].errors and not data.get(field):
                    self.add_error(field, f"Flight {row}: choose {message}.")

    def multi_city_fields(self) -> list[tuple[int, list[forms.BoundField]]]:
        """The multi-city rows after the first, each with its three fields, as the search box shows them."""
        return [
            (row, [self[f"{name}_{row}"] for name in ("origin", "destination", "date")])
            for row in MULTI_CITY_ROWS
        ]

    def multi_city_rows(self) -> list[int]:
        """The multi-city rows after the first that are part of the trip: up to the last one with
        anything filled in, at least the second."""
        filled = [
            row
            for row in MULTI_CITY_ROWS
            if any(
                (self.data.get(f"{name}_{row}") or "").strip() for name in ("origin", "destination", "date")
            )
        ]
        return list(range(2, max(filled, default=2) + 1))

    def journey_segments(self) -> list[JourneySegmentQuery]:
        """The segments of a valid return or multi-city search."""
        data = self.cleaned_data
        first = JourneySegmentQuery(data["origin"], data["destination"], data["date"])
        if data["trip"] == TripKind.RETURN:
            return [first, JourneySegmentQuery(first.destination, first.origin, data["return_date"])]
        return [first] + [
            JourneySegmentQuery(data[f"origin_{row}"], data[f"destination_{row}"], data[f"date_{row}"])
            for row in self.multi_city_rows()
        ]

    def journey_field_name(self, position: int, field: str) -> str:
        """The form field of a journey segment's field (apps/flights/journeys.py: JourneyProblem)."""
        if position == 1:
            return field
        if self.cleaned_data["trip"] == TripKind.RETURN:
            return "return_date" if field == "date" else field
        return f"{field}_{position}"

    def places(self) -> PlaceIndex:
        """The place index, read once for this form."""
        if self._places is None:
            self._places = place_index()
        return self._places

    def origin_today(self) -> date:
        """Today at the departure airport (the first of a city's; they share a time zone in practice),
        or, before the origin is known, the earliest today anywhere."""
        origin: Place | None = self.cleaned_data.get("origin") if hasattr(self, "cleaned_data") else None
        zone = self.places().time_zones.get(origin.codes[0], _LATEST_ZONE) if origin else _LATEST_ZONE
        return local_today(zone)

    def criteria(self) -> FlightSearchCriteria:
        data = self.cleaned_data
        field, _, direction = (data.get("sort") or "departure_time_asc").rpartition("_")
        return FlightSearchCriteria(
            departure_codes=data["origin"].codes,
            arrival_codes=data["destination"].codes,
            trip_date=data.get("date"),
            travellers=data["travellers"],
            price_min=data.get("price_min"),
            price_max=data.get("price_max"),
            sort=((field, direction),),
        )


class SeatChoiceForm(forms.Form):
    """How many travellers the seat map is for (from the results page), and the infants on their laps
    (no seat: from the passenger page, carried back to it)."""

    travellers = forms.IntegerField(min_value=1, max_value=MAX_PARTY_SIZE, required=False)
    infants = forms.IntegerField(min_value=0, max_value=MAX_PARTY_SIZE - 1, required=False)
