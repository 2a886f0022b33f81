from django import forms

from apps.core.forms import IdempotentForm
from apps.flights.journey_links import JourneyLinkInvalid, journey_seats_parse
from apps.flights.models import MAX_PARTY_SIZE, MAX_SEGMENTS


class HoldStartForm(forms.Form):
    """The query that opens the passenger page.

    One-way, from the seat map: `flight` and one `seats` value per traveller ("" = any seat), or
    `travellers`. A journey (return, multi-city), from the search's results: `flights` repeated in
    travel order (2 to MAX_SEGMENTS different flights) and `count` travellers; its seats are assigned,
    except on a flight n whose seats were chosen on its seat map: `seats_n=3A,3B`
    (apps/flights/journey_links.py). `cleaned_data["flights"]` is the journey's flight ids ([] for
    one-way), `cleaned_data["journey_seats"]` the chosen seats by flight position ({} for none).
    """

    flight = forms.IntegerField(min_value=1, required=False)
    # The fare family chosen on the search's results (one-way); the hold checks it is sold there.
    fare_family = forms.CharField(max_length=20, required=False)
    travellers = forms.IntegerField(min_value=1, max_value=MAX_PARTY_SIZE, required=False)
    count = forms.IntegerField(
        min_value=1,
        max_value=MAX_PARTY_SIZE,
        required=False,
        error_messages={
            "min_value": "At least one traveller is needed.",
            "max_value": f"At most {MAX_PARTY_SIZE} travellers can book together.",
            "invalid": "The number of travellers must be a whole number.",
        },
    )

    def __init__(self, data, *args, **kwargs):
        super().__init__(data, *args, **kwargs)
        self.seat_values = [value.strip().upper() for value in data.getlist("seats")]
        self.flight_values = [value.strip() for value in data.getlist("flights")]

    def clean(self):
        data = super().clean()
        if self.flight_values:
            return self._journey_clean(data)
        if data.get("flight") is None:
            if "flight" not in self.errors:
                self.add_error("flight", "This field is required.")
            return data
        data["flights"] = []
        seats = self.seat_values
        if len(seats) > MAX_PARTY_SIZE:
            raise forms.ValidationError(f"At most {MAX_PARTY_SIZE} travellers can book together.")
        chosen = [seat for seat in seats if seat]
        if chosen and len(chosen) != len(seats):
            raise forms.ValidationError(
                "Choose a seat for every traveller, or leave all of them on “Any seat”."
            )
        if len(set(chosen)) != len(chosen):
            raise forms.ValidationError("Each traveller needs a different seat.")
        data["seats"] = chosen
        data["count"] = len(seats) or data.get("travellers") or data.get("count") or 1
        return data

    def _journey_clean(self, data: dict) -> dict:
        values = self.flight_values
        if data.get("flight") is not None or self.seat_values:
            raise forms.ValidationError(
                "Choose either one flight and its seats, or the flights of a journey."
            )
        if not all(value.isascii() and value.isdigit() and int(value) >= 1 for value in values):
            raise forms.ValidationError("The journey's flights are not ones we know: please search again.")
        ids = [int(value) for value in values]
        travellers = data.get("count") or data.get("travellers") or 1
        if len(ids) == 1:  # a journey of one flight is a one-way trip, its seats assigned
            data.update(flights=[], flight=ids[0], seats=[], count=travellers)
            return data
        if len(ids) > MAX_SEGMENTS:
            raise forms.ValidationError(f"A journey has 2 to {MAX_SEGMENTS} flights: please search again.")
        if len(set(ids)) != len(ids):
            raise forms.ValidationError("A journey cannot take the same flight twice: please search again.")
        try:
            journey_seats = journey_seats_parse(self.data, segments=len(ids))
        except JourneyLinkInvalid as error:
            raise forms.ValidationError(f"{error} Please search again.") from None
        data.update(flights=ids, flight=ids[0], seats=[], count=travellers, journey_seats=journey_seats)
        return data


class HoldForm(IdempotentForm):
    """The passenger page's own key: however often that page is submitted, it holds seats once."""


class PassengerForm(forms.Form):
    first_name = forms.CharField(
        label="First name",
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
        error_messages={
            "required": "Enter this traveller's first name.",
            "max_length": "Shorten the first name to at most %(limit_value)d characters.",
        },
    )
    last_name = forms.CharField(
        label="Last name",
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
        error_messages={
            "required": "Enter this traveller's last name.",
            "max_length": "Shorten the last name to at most %(limit_value)d characters.",
        },
    )


def passenger_formset(count: int, data=None) -> forms.BaseFormSet:
    formset_class = forms.formset_factory(
        PassengerForm, extra=0, min_num=count, max_num=count, validate_min=True, validate_max=True
    )
    # Django's own words ("Please submit at least 2 forms.") speak of forms, not travellers.
    travellers = f"each of the {count} travellers" if count > 1 else "the traveller"
    return formset_class(
        data,
        prefix="passenger",
        error_messages={
            "too_few_forms": f"Enter a first and last name for {travellers}.",
            "too_many_forms": f"Enter one first and last name for {travellers}, no more.",
        },
    )
