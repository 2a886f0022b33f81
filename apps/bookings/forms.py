import datetime

from django import forms

from apps.bookings.models import Passenger
from apps.core.forms import IdempotentForm
from apps.flights.journey_links import (
    JourneyLinkInvalid,
    journey_families_parse,
    journey_infants_parse,
    journey_seats_parse,
)
from apps.flights.models import MAX_PARTY_SIZE, MAX_SEGMENTS
from apps.flights.selectors import trip_date_searchable


class HoldStartForm(forms.Form):
    """The query that opens the passenger page.

    One-way, from the seat map: `flight` and one `seats` value per traveller ("" = any seat), or
    `travellers`. A journey (return, multi-city), from the search's results: `flights` repeated in
    travel order (2 to MAX_SEGMENTS different flights) and `count` travellers; its seats are assigned,
    except on a flight n whose seats were chosen on its seat map: `seats_n=3A,3B`, each flight's fare
    family `family_n=ECO_FLEX` where one was chosen (apps/flights/journey_links.py).
    `cleaned_data["flights"]` is the journey's flight ids ([] for one-way), `cleaned_data["journey_seats"]`
    the chosen seats and `cleaned_data["journey_families"]` the chosen families by flight position ({}
    for none). `infants` (on laps, no seat) may come with either.
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
    # Infants travel on a lap and take no seat: they come on top of the seats chosen (docs/PASSENGERS.md).
    infants = forms.IntegerField(
        min_value=0,
        max_value=MAX_PARTY_SIZE - 1,
        required=False,
        error_messages={"invalid": "The number of infants must be a whole number."},
    )

    def __init__(self, data, *args, **kwargs):
        super().__init__(data, *args, **kwargs)
        self.seat_values = [value.strip().upper() for value in data.getlist("seats")]
        self.flight_values = [value.strip() for value in data.getlist("flights")]

    def clean(self):
        data = super().clean()
        data["infants"] = data.get("infants") or 0
        data = self._journey_clean(data) if self.flight_values else self._one_way_clean(data)
        if data.get("count") and data["count"] + data["infants"] > MAX_PARTY_SIZE:
            raise forms.ValidationError(
                f"At most {MAX_PARTY_SIZE} travellers, infants included, can book together."
            )
        return data

    def _one_way_clean(self, data: dict) -> dict:
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
        if len(ids) > MAX_SEGMENTS:
            raise forms.ValidationError(f"A journey has 2 to {MAX_SEGMENTS} flights: please search again.")
        if len(set(ids)) != len(ids):
            raise forms.ValidationError("A journey cannot take the same flight twice: please search again.")
        try:
            journey_families = journey_families_parse(self.data, segments=len(ids))
            if len(ids) == 1:  # a journey of one flight is a one-way trip, its seats assigned
                family = journey_families.get(1, data.get("fare_family", ""))
                data.update(flights=[], flight=ids[0], seats=[], count=travellers, fare_family=family)
                return data
            journey_seats = journey_seats_parse(self.data, segments=len(ids))
            if "infants" not in self.errors:  # one infant per traveller, as the journey's other pages read it
                journey_infants_parse(self.data, count=travellers)
        except JourneyLinkInvalid as error:
            raise forms.ValidationError(f"{error} Please search again.") from None
        data.update(
            flights=ids,
            flight=ids[0],
            seats=[],
            count=travellers,
            journey_seats=journey_seats,
            journey_families=journey_families,
        )
        return data


class HoldForm(IdempotentForm):
    """The passenger page's own key: however often that page is submitted, it holds seats once."""


class PassengerTypeField(forms.ChoiceField):
    """The traveller's type, "adult" when left out: a form left as it was shown (an adult, no name)
    counts as empty, so the page asks for the names in words rather than field by field."""

    def has_changed(self, initial, data) -> bool:
        return (data or Passenger.Type.ADULT) != (initial or Passenger.Type.ADULT)


class PassengerForm(forms.Form):
    """One traveller: the name, and the type with the date of birth and an infant's adult; the hold
    checks ages and who travels with whom (apps/bookings/services/holds.py: passenger_types_ensure)."""

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
    type = PassengerTypeField(
        label="Travelling as",
        choices=[
            (Passenger.Type.ADULT, "Adult (12 or older)"),
            (Passenger.Type.CHILD, "Child (2 to 11)"),
            (Passenger.Type.INFANT, "Infant (under 2, on a lap)"),
        ],
        required=False,  # left out: an adult (the first choice, so the one a browser shows selected)
    )
    date_of_birth = forms.DateField(
        label="Date of birth",
        required=False,
        help_text="Needed for a child or an infant: their age on the day of travel decides.",
        widget=forms.DateInput(attrs={"type": "date", "autocomplete": "bday"}, format="%Y-%m-%d"),
        error_messages={"invalid": "Enter the date of birth as YYYY-MM-DD."},
    )
    travelling_with = forms.TypedChoiceField(
        label="On the lap of (infants only)",
        coerce=int,
        empty_value=None,
        required=False,
    )

    def __init__(self, *args, travellers: int = 1, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["travelling_with"].choices = [("", "—")] + [
            (position, f"Traveller {position}") for position in range(1, travellers + 1)
        ]

    def hold_passenger(self) -> dict:
        """What the hold takes for this traveller (text only: the page's idempotency fingerprint is JSON)."""
        data = self.cleaned_data
        passenger = {"first_name": data["first_name"], "last_name": data["last_name"]}
        kind, born, lap = (
            data.get("type") or Passenger.Type.ADULT,
            data.get("date_of_birth"),
            data.get("travelling_with"),
        )
        if kind == Passenger.Type.ADULT and born is None and lap is None:
            return passenger  # as before passenger types: an adult's page keeps its fingerprint
        return passenger | {
            "type": kind,
            "date_of_birth": born.isoformat() if born else None,
            "travelling_with": lap,
        }


class _TravellersFormSet(forms.BaseFormSet):
    """The seated travellers' forms, then the infants': an infant's form starts as an infant on the lap
    of the traveller of its own number. Given per form rather than as the formset's `initial`, so
    every form stays an extra one and a form left empty still counts as missing."""

    seated: int = 0

    def get_form_kwargs(self, index: int | None) -> dict:
        kwargs = super().get_form_kwargs(index)
        if index is not None and index >= self.seated:
            kwargs["initial"] = {"type": Passenger.Type.INFANT, "travelling_with": index - self.seated + 1}
        return kwargs


def passenger_formset(count: int, data=None, *, infants: int = 0) -> forms.BaseFormSet:
    """The travellers' forms: `count` with a seat, then `infants` infants, the k-th on traveller k's lap."""
    total = count + infants
    formset_class = forms.formset_factory(
        PassengerForm,
        formset=_TravellersFormSet,
        extra=0,
        min_num=total,
        max_num=total,
        validate_min=True,
        validate_max=True,
    )
    formset_class.seated = count
    # Django's own words ("Please submit at least 2 forms.") speak of forms, not travellers.
    travellers = f"each of the {total} travellers" if total > 1 else "the traveller"
    return formset_class(
        data,
        form_kwargs={"travellers": total},
        prefix="passenger",
        error_messages={
            "too_few_forms": f"Enter a first and last name for {travellers}.",
            "too_many_forms": f"Enter one first and last name for {travellers}, no more.",
        },
    )


class CancelConfirmForm(forms.Form):
    """The confirmation page's form: the refund the traveller was shown (blank: cancel whatever it is)."""

    expected_refund = forms.DecimalField(required=False, min_value=0, max_digits=12, decimal_places=2)


class ChangeDayForm(forms.Form):
    """The day a flight change lists the route's flights of (apps/bookings/change_views.py)."""

    date = forms.DateField(
        label="Another day",
        required=False,
        # A date input takes its value as YYYY-MM-DD whatever the language writes dates as.
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="Local date at the departure airport.",
    )

    def clean_date(self) -> datetime.date | None:
        day = self.cleaned_data["date"]
        if day is not None and not trip_date_searchable(day):
            raise forms.ValidationError("Choose a day within five years of today.")
        return day
