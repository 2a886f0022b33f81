"""Staff see a booking's flight changes in the admin: the change history on the booking's page (what each
change cost, how it ended), its payments of kind change beside the booking's own, and the payments list
filtered by kind."""

import html
import re

import pytest
from django.test import Client
from django.urls import reverse

from apps.payments.models import Payment
from apps.payments.tests.changing import change_made, change_route, paid_in

pytestmark = pytest.mark.django_db


def text(page) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page.content.decode())))


@pytest.fixture
def staff_browser(staff_user) -> Client:
    client = Client()
    client.force_login(staff_user)
    return client


def test_the_bookings_page_shows_its_changes_and_their_payments(staff_browser, customer):
    old, new = change_route()
    booking = paid_in(customer, old, "ECO_SAVER")
    change_made(booking, new)
    change_payment = Payment.objects.get(kind=Payment.Kind.CHANGE)

    page = staff_browser.get(reverse("admin:bookings_booking_change", args=[booking.pk]))

    assert page.status_code == 200
    words = text(page)
    assert "Flight changes (by the traveller)" in words
    assert str(old) in words
    assert str(new) in words
    assert "Done" in words
    assert "3500.00" in words  # the amount due of the change
    assert "Payments (the booking's and its flight changes')" in words
    assert f"Payment {change_payment.pk} Flight change ₹3,500 Succeeded" in words
    assert reverse("admin:payments_payment_change", args=[change_payment.pk]) in page.content.decode()
    assert f"Who did what to {booking.reference}" in words


def test_the_payments_list_filters_the_payments_of_changes(staff_browser, customer):
    old, new = change_route()
    booking = paid_in(customer, old, "ECO_SAVER")
    change_made(booking, new)

    page = staff_browser.get(reverse("admin:payments_payment_changelist"), {"kind__exact": "change"})

    assert page.status_code == 200
    rows = re.findall(r'<tr[^>]*>\s*<td class="action-checkbox">', page.content.decode())
    assert len(rows) == 1
    assert "Flight change" in text(page)
