"""The flight operations page in the admin (apps/bookings/flight_operations/): load, manifest, CSV,
and cancelling the flight with a reason through the real services (payments, refunds, the outbox)."""

import csv
import io
import uuid
from datetime import UTC, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.accounts.tests.factories import with_permissions
from apps.bookings.flight_operations.manifest_csv import spreadsheet_safe
from apps.bookings.flight_operations.selectors import flight_load
from apps.bookings.models import Booking, SeatAssignment
from apps.bookings.services import booking_cancel, booking_hold_create
from apps.bookings.tests.factories import booking_flight, hold, make_overdue, make_status
from apps.core.models import AuditEvent
from apps.flights.models import Flight
from apps.flights.tests.factories import AirportFactory
from apps.notifications.models import Notification
from apps.payments.models import GatewayCharge, Payment, Refund
from apps.payments.services import payment_create

pytestmark = pytest.mark.django_db

REASON = "A technical fault on the aircraft: we are sorry. Call +91 22 6666 0000 to be rebooked."


def page_url(flight: Flight) -> str:
    return reverse("flight_operations:page", args=[flight.pk])


def csv_url(flight: Flight) -> str:
    return reverse("flight_operations:manifest_csv", args=[flight.pk])


def cancel_url(flight: Flight) -> str:
    return reverse("flight_operations:cancel", args=[flight.pk])


def paid(user, flight: Flight, count: int = 1, seats: list[str] | None = None) -> Booking:
    """A booking held and paid with the simulated gateway's test card: confirmed, charged."""
    booking = hold(user, flight, count=count, seats=seats)
    payment = payment_create(
        user=user,
        booking_reference=booking.reference,
        amount=booking.total_amount,
        currency=booking.currency,
        payment_method="tok_visa",
        idempotency_key=str(uuid.uuid4()),
    )
    assert payment.status == Payment.Status.SUCCEEDED
    booking.refresh_from_db()
    return booking


def one_per_passenger(user, flight: Flight, count: int) -> None:
    """`count` passengers on `flight`, in holds of at most nine."""
    while count:
        size = min(count, 9)
        hold(user, flight, count=size)
        count -= size


@pytest.fixture
def staff(client, staff_user):
    client.force_login(staff_user)
    return client


# --- Load ------------------------------------------------------------------------------------------


def test_load_counts_sold_held_being_paid_lapsed_and_free_seats_per_cabin(customer, flight):
    # given business rows 1-2 (8 seats) and economy rows 3-20 (108), with two business seats sold, three
    # economy seats held, one being paid, two in a hold past its expiry, and one cancelled hold
    paid(customer, flight, count=2, seats=["1A", "1C"])
    hold(customer, flight, count=3, seats=["3A", "3B", "3C"])
    make_status(hold(customer, flight, seats=["4A"]), Booking.Status.PAYING)
    make_overdue(hold(customer, flight, count=2, seats=["5A", "5B"]))
    booking_cancel(booking=hold(customer, flight, seats=["6A"]), actor=customer)

    # when the load is read
    load = flight_load(flight=flight, now=timezone.now())

    # then each cabin and the total add up to its seats
    rows = {
        cabin.label: (cabin.seats, cabin.sold, cabin.held, cabin.paying, cabin.lapsed, cabin.free)
        for cabin in [*load.cabins, load.total]
    }
    assert rows == {
        "Business": (8, 2, 0, 0, 0, 6),
        "Economy": (108, 0, 3, 1, 2, 102),
        "All cabins": (116, 2, 3, 1, 2, 108),
    }
    assert [cabin.label for cabin in load.cabins] == ["Business", "Economy"]
    assert (load.active_bookings, load.confirmed_bookings) == (4, 1)
    assert load.confirmed_amount == Booking.objects.get(status=Booking.Status.CONFIRMED).total_amount
    flight.refresh_from_db()
    assert load.total.free == flight.available_seats  # a lapsed hold's seats are taken until released


def test_the_page_shows_the_flight_in_its_departure_airports_local_time_and_its_load(staff, customer):
    # given a flight leaving Mumbai at 20:00 UTC, which is 01:30 the next day there
    departs = (timezone.now() + timedelta(days=4)).replace(hour=20, minute=0, second=0, microsecond=0)
    flight = booking_flight(
        rows=4,
        letters="AB",
        business_fare=None,
        flight_number="AI777",
        departure_airport=AirportFactory(iata_code="BOM", time_zone="Asia/Kolkata"),
        departure_time=departs,
        arrival_time=departs + timedelta(hours=2),
    )
    hold(customer, flight, count=2)

    response = staff.get(page_url(flight))

    assert response.status_code == 200
    html = response.content.decode()
    local = departs.astimezone(timezone.get_fixed_timezone(330))
    assert f"{local:%a %-d %b %Y}, 01:30 IST" in html
    assert "Asia/Kolkata" in html
    assert '<tr data-cabin="economy"><th scope="row">Economy</th><td>8</td><td>0</td><td>2</td>' in html
    assert 'href="/admin/"' in html  # the admin's own header and navigation (each_context)


def test_the_page_costs_the_same_queries_for_5_and_50_passengers(staff, customer):
    # given two flights, one with 5 passengers and one with 50 (one of them paid for)
    small, large = booking_flight(rows=20, business_fare=None), booking_flight(rows=20, business_fare=None)
    one_per_passenger(customer, small, 5)
    one_per_passenger(customer, large, 49)
    paid(customer, large)

    # when staff open each flight's page
    counts = []
    for flight in (small, large):
        with CaptureQueriesContext(connection) as queries:
            response = staff.get(page_url(flight))
        assert response.status_code == 200
        counts.append(len(queries))

    # then both cost the same, and the large manifest shows all 50 seats
    assert counts[0] == counts[1]
    assert response.context["manifest"].paginator.count == 50
    assert len(response.context["manifest"].object_list) == 50


# --- Manifest --------------------------------------------------------------------------------------


def test_the_manifest_lists_each_passenger_by_seat_with_booking_state_and_link(staff, customer, flight):
    # given bookings whose seats, by text, would sort 10A before 3B
    confirmed = paid(customer, flight, seats=["10A"])
    held = booking_hold_create(
        user=customer,
        flight_id=flight.pk,
        passengers=[
            {"first_name": "Zoë", "last_name": "O'Brien"},
            {"first_name": "Ravi", "last_name": "Rao"},
        ],
        seats=["3B", "2C"],
    )
    cancelled = hold(customer, flight, seats=["4A"])
    booking_cancel(booking=cancelled, actor=customer)

    response = staff.get(page_url(flight))

    rows = [
        (seat.seat_code, seat.passenger.last_name, seat.booking.reference, seat.booking.status)
        for seat in response.context["manifest"]
    ]
    assert rows == [
        ("2C", "Rao", held.reference, "held"),
        ("3B", "O'Brien", held.reference, "held"),
        ("10A", "Traveller", confirmed.reference, "confirmed"),
    ]
    html = response.content.decode()
    assert reverse("admin:bookings_booking_change", args=[held.pk]) in html
    assert "O&#x27;BRIEN, Zoë" in html
    assert "Not checked in" in html

    # and with every seat, the cancelled booking's released seat is there too
    everything = staff.get(page_url(flight), {"seats": "all"})
    assert [seat.seat_code for seat in everything.context["manifest"]] == ["2C", "3B", "4A", "10A"]
    assert everything.context["manifest"][2].booking.status == Booking.Status.CANCELLED


def test_a_large_manifest_is_paginated(staff, customer):
    flight = booking_flight(rows=20, business_fare=None)
    one_per_passenger(customer, flight, 101)

    first = staff.get(page_url(flight))
    second = staff.get(page_url(flight), {"page": 2})

    codes = sorted(
        Booking.objects.filter(flight=flight).values_list("seat_assignments__seat_code", flat=True),
        key=lambda code: (int(code[:-1]), code[-1]),
    )
    assert [seat.seat_code for seat in first.context["manifest"]] == codes[:100]
    assert [seat.seat_code for seat in second.context["manifest"]] == codes[100:]
    assert len(codes) == 101
    assert "Page 2 of 2 (101 seats)" in second.content.decode()


# --- CSV -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("Asha", "Asha"),
        ("O'Brien", "O'Brien"),
    ],
)
def test_cells_a_spreadsheet_would_run_get_a_leading_apostrophe(value, written):
    assert spreadsheet_safe(value) == written


def test_the_manifest_downloads_as_a_streamed_utf8_csv_named_by_flight_and_local_date(staff, customer):
    # given a flight leaving Mumbai at 20:00 UTC (01:30 the next day, local), with a passenger whose
    # name a spreadsheet would run as a formula
    departs = (timezone.now() + timedelta(days=4)).replace(hour=20, minute=0, second=0, microsecond=0)
    flight = booking_flight(
        rows=12,
        letters="ABC",
        business_fare=None,
        flight_number="AI205",
        departure_airport=AirportFactory(iata_code="BOM", time_zone="Asia/Kolkata"),
        departure_time=departs,
        arrival_time=departs + timedelta(hours=2),
    )
    confirmed = paid(customer, flight, seats=["10A"])
    held = booking_hold_create(
        user=customer,
        flight_id=flight.pk,
        passengers=[{"first_name": "=cmd|' /C calc'!A0", "last_name": "Zoë"}],
        seats=["2B"],
    )

    # checked in online (its own tests: apps/bookings/tests/test_check_in.py)
    SeatAssignment.objects.filter(booking=confirmed).update(check_in_number=7, checked_in_at=timezone.now())

    # when staff download the manifest
    response = staff.get(csv_url(flight))

    # then it is streamed, named after the flight and its local date, and says who sits where
    assert response.status_code == 200
    assert response.streaming
    local_date = (departs + timedelta(hours=5, minutes=30)).date()
    assert response["Content-Disposition"] == f'attachment; filename="manifest-AI205-{local_date}.csv"'
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows == [
        [
            "Seat",
            "Cabin",
            "First name",
            "Last name",
            "Type",
            "Booking",
            "Booking state",
            "Checked in",
            "Infant on lap",
        ],
        ["2B", "Economy", "'=cmd|' /C calc'!A0", "Zoë", "Adult", held.reference, "Held", "no", ""],
        ["10A", "Economy", "Pax1", "Traveller", "Adult", confirmed.reference, "Confirmed", "yes, no. 7", ""],
    ]
    assert departs.astimezone(UTC).date() != local_date  # the name's date is the local one


# --- Cancelling with a reason ----------------------------------------------------------------------


def test_cancelling_asks_to_confirm_first_and_changes_nothing_until_then(staff, customer, flight):
    confirmed = paid(customer, flight, count=2)
    hold(customer, flight)

    response = staff.post(cancel_url(flight), {"reason": REASON})

    assert response.status_code == 200
    assert "admin/bookings/flight_operations_cancel.html" in [t.name for t in response.templates]
    consequences = response.content.decode()
    assert "2 bookings will be cancelled" in consequences
    assert "1 confirmed booking will be refunded in full" in consequences
    assert f'name="reason" value="{REASON}"' in consequences.replace("&#x27;", "'")
    flight.refresh_from_db()
    assert flight.status == Flight.Status.SCHEDULED
    assert flight.cancellation_reason == ""
    assert Booking.objects.get(pk=confirmed.pk).status == Booking.Status.CONFIRMED
    assert not Refund.objects.exists()
    assert not Notification.objects.filter(kind=Notification.Kind.FLIGHT_CANCELLED).exists()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.FLIGHT_CANCELLED).exists()


def test_confirmed_cancel_refunds_releases_seats_emails_the_reason_and_audits(
    staff, staff_user, customer, other_customer, flight, django_capture_on_commit_callbacks
):
    # given a confirmed booking of two and another customer's hold
    confirmed = paid(customer, flight, count=2)
    held = hold(other_customer, flight)
    payment = Payment.objects.get(booking=confirmed)

    # when staff confirm the cancel with a reason (its bookings follow when it commits, as in production)
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(cancel_url(flight), {"reason": f"  {REASON}  ", "confirmed": "on"}, follow=True)

    # then the page says so, and the flight is cancelled with the reason
    assert response.redirect_chain == [(page_url(flight), 302)]
    shown = [str(message) for message in response.context["messages"]]
    assert any(message.startswith(f"{flight.flight_number} is cancelled.") for message in shown)
    assert REASON in response.content.decode().replace("&#x27;", "'")
    flight.refresh_from_db()
    assert flight.status == Flight.Status.CANCELLED
    assert flight.cancellation_reason == REASON
    assert flight.available_seats == flight.total_seats
    # both bookings are cancelled, the paid one refunded once at the gateway
    assert Booking.objects.get(pk=confirmed.pk).status == Booking.Status.CANCELLED
    assert Booking.objects.get(pk=held.pk).status == Booking.Status.CANCELLED
    payment.refresh_from_db()
    assert payment.status == Payment.Status.REFUNDED
    assert Refund.objects.get(payment=payment).amount == confirmed.total_amount
    assert GatewayCharge.objects.get(reference=payment.gateway_reference).refunded_at is not None
    # each traveller is e-mailed the reason, through the outbox
    emails = Notification.objects.filter(kind=Notification.Kind.FLIGHT_CANCELLED).order_by("booking_id")
    assert [email.booking_id for email in emails] == [confirmed.pk, held.pk]
    for email in emails:
        assert f"Reason: {REASON}" in email.body_text
        assert "A technical fault on the aircraft: we are sorry." in email.body_html
    assert "A full refund" in emails[0].body_text
    assert "No payment was taken" in emails[1].body_text
    # and the audit trail has the flight's cancel with its reason, and each booking's
    flight_event = AuditEvent.objects.get(action=AuditEvent.Action.FLIGHT_CANCELLED)
    assert (flight_event.subject_ref, flight_event.actor_id) == (str(flight.pk), staff_user.pk)
    assert flight_event.detail["reason"] == REASON
    assert set(
        AuditEvent.objects.filter(action=AuditEvent.Action.STAFF_CANCELLED).values_list(
            "subject_ref", flat=True
        )
    ) == {confirmed.reference, held.reference}
    refund_event = AuditEvent.objects.get(action=AuditEvent.Action.STAFF_REFUNDED)
    assert (refund_event.subject_ref, refund_event.actor_id) == (str(payment.pk), staff_user.pk)


def test_a_cancel_without_the_pages_csrf_token_is_refused(staff_user, customer, flight):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(staff_user)
    booking = hold(customer, flight)

    response = browser.post(cancel_url(flight), {"reason": REASON, "confirmed": "on"})

    assert response.status_code == 403
    flight.refresh_from_db()
    assert flight.status == Flight.Status.SCHEDULED
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.HELD


def test_a_cancel_without_a_reason_is_refused_with_the_form_again(staff, customer, flight):
    booking = hold(customer, flight)

    response = staff.post(cancel_url(flight), {"reason": "   ", "confirmed": "on"})

    assert response.status_code == 400
    assert response.context["cancel_form"].errors == {"reason": ["This field is required."]}
    flight.refresh_from_db()
    assert flight.status == Flight.Status.SCHEDULED
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.HELD


def test_a_departed_flight_is_not_cancelled_and_staff_are_told(staff, customer, flight):
    booking = paid(customer, flight)
    Flight.objects.filter(pk=flight.pk).update(status=Flight.Status.DEPARTED)

    page = staff.get(page_url(flight))
    response = staff.post(cancel_url(flight), {"reason": REASON, "confirmed": "on"}, follow=True)

    assert "it can no longer be cancelled" in page.content.decode()
    assert 'action="' + cancel_url(flight) not in page.content.decode()
    shown = [str(message) for message in response.context["messages"]]
    assert shown == [f"{flight.flight_number} was not cancelled: The flight has departed."]
    flight.refresh_from_db()
    assert (flight.status, flight.cancellation_reason) == (Flight.Status.DEPARTED, "")
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.CONFIRMED
    assert not Refund.objects.exists()


def test_staff_who_may_look_but_not_cancel_see_the_page_without_the_form_and_are_refused(
    client, bare_staff_user, customer, flight
):
    viewer = with_permissions(bare_staff_user, "flights.view_flight", "bookings.view_booking")
    client.force_login(viewer)
    booking = hold(customer, flight)

    page = client.get(page_url(flight))
    refused = client.post(cancel_url(flight), {"reason": REASON, "confirmed": "on"})

    assert page.status_code == 200
    assert booking.reference in page.content.decode()
    assert 'action="' + cancel_url(flight) not in page.content.decode()
    assert "needs the permissions to change flights and bookings" in page.content.decode()
    assert refused.status_code == 403
    flight.refresh_from_db()
    assert flight.status == Flight.Status.SCHEDULED
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.HELD


# --- Where staff find it ---------------------------------------------------------------------------


def test_the_flight_list_and_change_page_link_to_the_operations_page(staff, flight):
    listing = staff.get(reverse("admin:flights_flight_changelist"))
    change = staff.get(reverse("admin:flights_flight_change", args=[flight.pk]))

    link = f'<a href="{page_url(flight)}">Operations</a>'
    assert link in listing.content.decode()
    assert link in change.content.decode()
