from django import forms
from django.db.models import QuerySet

from apps.core.templatetags.airline import local_time
from apps.flights.models import CANCELLATION_REASON_MAX_LENGTH, Flight


class FlightCancelForm(forms.Form):
    """Cancel the flight: the reason its travellers are told, and whether staff have confirmed."""

    reason = forms.CharField(
        label="Reason, told to the travellers",
        max_length=CANCELLATION_REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Shown on the flight's page and the travellers' booking pages, and sent in their e-mail.",
    )
    # The flight its confirmed bookings move to first (apps/bookings/services/rebooking.py); empty:
    # every booking is cancelled and refunded.
    rebook_to = forms.ModelChoiceField(
        label="Rebook confirmed passengers onto",
        queryset=Flight.objects.none(),
        required=False,
        empty_label="No rebooking: cancel and refund every booking",
        help_text="Later flights on the same route, on sale, with free seats. Bookings that do not fit "
        "(no room left in their cabin) are refunded.",
    )
    # Set by the confirmation page: the first submit only asks "are you sure?".
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, candidates: QuerySet[Flight], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["rebook_to"]
        field.queryset = candidates
        field.label_from_instance = candidate_label


def candidate_label(flight: Flight) -> str:
    """ "AI 205 BOM → DEL, Sat 5 Dec 2026, 09:30 IST · 57 free seats" """
    departs = local_time(flight.departure_time, flight.departure_airport)
    return (
        f"{flight.flight_number} {flight.departure_airport.iata_code} → {flight.arrival_airport.iata_code}, "
        f"{departs} · {flight.available_seats} free seat{'s' if flight.available_seats != 1 else ''}"
    )
