import re

from django import forms

from apps.flights.models import MAX_PARTY_SIZE
from apps.flights.selectors import TRIP_DATE_MAX_YEARS_AWAY, FlightSearchCriteria, trip_date_searchable

# "BOM", "bom" or what the autocomplete shows: "Mumbai (BOM)".
_CODE_IN_TEXT = re.compile(r"\(([A-Za-z]{3})\)\s*$|^\s*([A-Za-z]{3})\s*$")

SORT_CHOICES = [
    ("departure_time_asc", "Earliest departure"),
    ("departure_time_desc", "Latest departure"),
    ("price_asc", "Lowest price"),
    ("price_desc", "Highest price"),
    ("duration_asc", "Shortest flight"),
    ("arrival_time_asc", "Earliest arrival"),
]


class AirportCodeField(forms.CharField):
    default_error_messages = {"invalid": "Enter an airport code such as BOM, or pick one from the list."}

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return value
        match = _CODE_IN_TEXT.search(value)
        if not match:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return (match.group(1) or match.group(2)).upper()


class FlightSearchForm(forms.Form):
    """The search box (from, to, date, travellers) plus the results page's sort and price filter."""

    origin = AirportCodeField(
        label="From",
        max_length=120,
        widget=forms.TextInput(
            attrs={"placeholder": "City or airport", "autocomplete": "off", "data-airport-autocomplete": ""}
        ),
    )
    destination = AirportCodeField(
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

    def clean_date(self):
        day = self.cleaned_data.get("date")
        if day and not trip_date_searchable(day):
            raise forms.ValidationError(f"Choose a date within {TRIP_DATE_MAX_YEARS_AWAY} years of today.")
        return day

    def clean(self):
        data = super().clean()
        if data.get("origin") and data.get("origin") == data.get("destination"):
            self.add_error("destination", "Choose a destination other than where you leave from.")
        low, high = data.get("price_min"), data.get("price_max")
        if low is not None and high is not None and low > high:
            self.add_error("price_max", "The highest fare must be at least the lowest.")
        return data

    def criteria(self) -> FlightSearchCriteria:
        data = self.cleaned_data
        field, _, direction = (data.get("sort") or "departure_time_asc").rpartition("_")
        return FlightSearchCriteria(
            departure_code=data["origin"],
            arrival_code=data["destination"],
            trip_date=data.get("date"),
            travellers=data["travellers"],
            price_min=data.get("price_min"),
            price_max=data.get("price_max"),
            sort=((field, direction),),
        )


class SeatChoiceForm(forms.Form):
    """How many travellers the seat map is for (from the results page)."""

    travellers = forms.IntegerField(min_value=1, max_value=MAX_PARTY_SIZE, required=False)
