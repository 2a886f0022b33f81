"""Manage booking without an account: a booking's reference and a passenger's last name (or the signed
link in its e-mails) open its pages for this browser session (apps/bookings/access.py)."""

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from apps.bookings.access import booking_access_grant, booking_find, manage_link_reference
from apps.bookings.selectors import booking_get_by_reference
from apps.core.ratelimit import ip_key
from apps.core.views import page_rate_limit

NOT_FOUND = "We found no booking with that reference and last name. Check both and try again."


class ManageBookingForm(forms.Form):
    reference = forms.CharField(
        label="Booking reference",
        max_length=12,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
        ),
        help_text="Six letters and digits, on your e-ticket and in every e-mail.",
    )
    last_name = forms.CharField(
        label="Last name",
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
        help_text="Of any passenger on the booking.",
    )


@page_rate_limit(group="manage_booking", key=ip_key, rate_setting="RATELIMIT_MANAGE_BOOKING", fail_open=False)
def manage_booking(request: HttpRequest) -> HttpResponse:
    form = ManageBookingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        booking = booking_find(**form.cleaned_data)
        if booking is not None:
            booking_access_grant(request, booking)
            return redirect("bookings:detail", reference=booking.reference)
        form.add_error(None, NOT_FOUND)
    return render(request, "bookings/manage.html", {"form": form}, status=400 if form.errors else 200)


def manage_link(request: HttpRequest, token: str) -> HttpResponse:
    """The link in a booking's e-mails: opens its page, signed in or not."""
    reference = manage_link_reference(token)
    booking = booking_get_by_reference(reference=reference) if reference else None
    if booking is None:
        messages.error(request, "That link does not open a booking. Enter its reference and last name.")
        return redirect("bookings:manage")
    booking_access_grant(request, booking)
    return redirect("bookings:detail", reference=booking.reference)
