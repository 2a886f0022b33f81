from collections.abc import Callable
from datetime import date
from zoneinfo import ZoneInfo

from django import forms
from django.utils import timezone

from apps.flights.models import MAX_PARTY_SIZE
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


class FlightSearchForm(forms.Form):
    """The search box (from, to, date, travellers) plus the results page's sort and price filter."""

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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._places: PlaceIndex | None = None
        for name in ("origin", "destination"):
            self.fields[name].index_of = self.places
        # The date picker offers no day that has passed everywhere (the server checks the origin's).
        self.fields["date"].widget.attrs["min"] = local_today(_LATEST_ZONE).isoformat()

    def clean_date(self):
        day = self.cleaned_data.get("date")
        if day and not trip_date_searchable(day):
            raise forms.ValidationError(f"Choose a date within {TRIP_DATE_MAX_YEARS_AWAY} years of today.")
        return day

    def clean_travellers(self):
        return self.cleaned_data.get("travellers") or 1

    def clean(self):
        data = super().clean()
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
    """How many travellers the seat map is for (from the results page)."""

    travellers = forms.IntegerField(min_value=1, max_value=MAX_PARTY_SIZE, required=False)
