from django import forms

from apps.flights.models import CANCELLATION_REASON_MAX_LENGTH


class FlightCancelForm(forms.Form):
    """Cancel the flight: the reason its travellers are told, and whether staff have confirmed."""

    reason = forms.CharField(
        label="Reason, told to the travellers",
        max_length=CANCELLATION_REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Shown on the flight's page and the travellers' booking pages, and sent in their e-mail.",
    )
    # Set by the confirmation page: the first submit only asks "are you sure?".
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)
