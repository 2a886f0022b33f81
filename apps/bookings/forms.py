from django import forms

from apps.core.forms import IdempotentForm
from apps.flights.models import MAX_PARTY_SIZE


class HoldStartForm(forms.Form):
    """The query the seat map sends: the flight and one seat per traveller ("" = any seat)."""

    flight = forms.IntegerField(min_value=1)
    travellers = forms.IntegerField(min_value=1, max_value=MAX_PARTY_SIZE, required=False)

    def __init__(self, data, *args, **kwargs):
        super().__init__(data, *args, **kwargs)
        self.seat_values = [value.strip().upper() for value in data.getlist("seats")]

    def clean(self):
        data = super().clean()
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
        data["count"] = len(seats) or data.get("travellers") or 1
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
