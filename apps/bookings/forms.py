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
        label="First name", max_length=100, widget=forms.TextInput(attrs={"autocomplete": "given-name"})
    )
    last_name = forms.CharField(
        label="Last name", max_length=100, widget=forms.TextInput(attrs={"autocomplete": "family-name"})
    )


def passenger_formset(count: int, data=None) -> forms.BaseFormSet:
    formset_class = forms.formset_factory(
        PassengerForm, extra=0, min_num=count, max_num=count, validate_min=True, validate_max=True
    )
    return formset_class(data, prefix="passenger")
