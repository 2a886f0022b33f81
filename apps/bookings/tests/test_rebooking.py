"""Staff rebooking a cancelled flight's passengers (apps/bookings/services/rebooking.py): the flight
operations page's "cancel and rebook", the bookings admin's bulk action, and who may use them, with the
real services (payments, refunds, the outbox)."""

from datetime import timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from apps.accounts.tests.factories import with_permissions
from apps.bookings.models import Booking, SeatAssignment
from apps.bookings.selectors import inventory_violations
from apps.bookings.tests.factories import booking_flight, hold
from apps.bookings.tests.test_flight_operations import REASON, cancel_url, page_url, paid
from apps.core.models import AuditEvent
from apps.flights.models import Flight
from apps.notifications.models import Notification
from apps.payments.models import Payment, Refund

pytestmark = pytest.mark.django_db


def later_flight(flight: Flight, *, hours: int = 5, rows: int = 20, business_rows: int = 2) -> Flight:
    departs = flight.departure_time + timedelta(hours=hours)
    return booking_flight(
        rows=rows,
        business_rows=business_rows,
        departure_airport=flight.departure_airport,
        arrival_airport=flight.arrival_airport,
        departure_time=departs,
        arrival_time=departs + (flight.arrival_time - flight.departure_time),
    )


@pytest.fixture
def staff(client, staff_user):
    client.force_login(staff_user)
    return client


def test_the_page_offers_later_flights_on_the_route_with_their_free_seats(staff, customer, flight):
    earlier = later_flight(flight, hours=-3)
    replacement = later_flight(flight)
    full = later_flight(flight, hours=6, rows=1, business_rows=0)
    hold(customer, full, count=6)
    cancelled = later_flight(flight, hours=7)
    Flight.objects.filter(pk=cancelled.pk).update(status=Flight.Status.CANCELLED)

    page = staff.get(page_url(flight)).content.decode()

    assert f'<option value="{replacement.pk}">' in page
    assert f"{replacement.available_seats} free seats" in page
    for excluded in (earlier, full, cancelled, flight):
        assert f'<option value="{excluded.pk}">' not in page


def test_the_confirmation_says_how_many_bookings_move_and_changes_nothing(staff, customer, flight):
    paid(customer, flight, count=2)
    replacement = later_flight(flight)

    response = staff.post(cancel_url(flight), {"reason": REASON, "rebook_to": replacement.pk})

    plan = response.content.decode()
    assert response.status_code == 200
    assert "1 confirmed booking (2 passengers) will first be moved to" in plan
    assert f'name="rebook_to" value="{replacement.pk}"' in plan
    assert Flight.objects.get(pk=flight.pk).status == Flight.Status.SCHEDULED
    assert not AuditEvent.objects.filter(action="rebooked").exists()


def test_cancel_and_rebook_moves_confirmed_bookings_and_refunds_only_the_rest(
    staff, staff_user, customer, other_customer, flight, django_capture_on_commit_callbacks
):
    # given two confirmed bookings in economy, one in business and a hold, and a replacement flight with
    # room for the economy passengers but only one business seat left
    economy_a = paid(customer, flight, count=2, seats=["5A", "5B"])
    economy_b = paid(other_customer, flight, count=1, seats=["6A"])
    business = paid(customer, flight, count=2, seats=["1A", "1C"])
    held = hold(other_customer, flight, seats=["7A"])
    replacement = later_flight(flight)
    hold(other_customer, replacement, count=7, seats=["1A", "1C", "1D", "1F", "2A", "2C", "2D"])
    before = Flight.objects.get(pk=replacement.pk).available_seats

    # when staff confirm "cancel and rebook onto" the replacement
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(
            cancel_url(flight),
            {"reason": REASON, "rebook_to": replacement.pk, "confirmed": "on"},
            follow=True,
        )

    # then the page reports the counts
    assert response.redirect_chain == [(page_url(flight), 302)]
    shown = [str(message) for message in response.context["messages"]]
    assert shown[0] == (
        f"{flight.flight_number} is cancelled. 2 bookings rebooked onto {replacement.flight_number} at no "
        "charge, their travellers e-mailed; 2 cancelled, 1 of them refunded."
    )
    assert shown[1].startswith(f"{business.reference} could not be rebooked")
    # the flight is cancelled, every seat on it released
    flight.refresh_from_db()
    assert flight.status == Flight.Status.CANCELLED
    assert flight.available_seats == flight.total_seats
    # the economy bookings are confirmed on the replacement, not refunded, e-mailed their new seats
    for booking in (economy_a, economy_b):
        booking.refresh_from_db()
        assert booking.status == Booking.Status.CONFIRMED
        assert booking.flight_id == replacement.pk
        assert set(booking.seat_assignments.values_list("flight_id", "active")) == {(replacement.pk, True)}
        assert Payment.objects.get(booking=booking).status == Payment.Status.SUCCEEDED
    assert Flight.objects.get(pk=replacement.pk).available_seats == before - 3
    changed = Notification.objects.filter(kind=Notification.Kind.FLIGHT_CHANGED)
    assert sorted(changed.values_list("booking_id", "recipient")) == sorted(
        [(economy_a.pk, customer.email), (economy_b.pk, other_customer.email)]
    )
    for email in changed:
        assert replacement.flight_number in email.subject
        assert "because flight" in email.body_text
        assert f"Reason: {REASON}" in email.body_text
    # the business booking (no room) is refunded and the hold cancelled, as a plain cancel does
    assert Booking.objects.get(pk=business.pk).status == Booking.Status.CANCELLED
    assert Booking.objects.get(pk=held.pk).status == Booking.Status.CANCELLED
    assert list(Refund.objects.values_list("payment__booking_id", flat=True)) == [business.pk]
    cancelled_emails = Notification.objects.filter(kind=Notification.Kind.FLIGHT_CANCELLED)
    assert sorted(cancelled_emails.values_list("booking_id", flat=True)) == sorted([business.pk, held.pk])
    # audit rows: one "rebooked" per moved booking, by the staff member, and the flight's cancel
    rebooked = AuditEvent.objects.filter(action="rebooked")
    assert sorted(rebooked.values_list("subject_ref", flat=True)) == sorted(
        [economy_a.reference, economy_b.reference]
    )
    assert set(rebooked.values_list("actor_id", flat=True)) == {staff_user.pk}
    assert AuditEvent.objects.filter(action=AuditEvent.Action.FLIGHT_CANCELLED).count() == 1
    assert inventory_violations() == []


def test_a_flight_that_is_not_a_candidate_is_refused_before_anything_changes(staff, customer, flight):
    confirmed = paid(customer, flight)
    elsewhere = booking_flight(departure_time=flight.departure_time + timedelta(hours=5))

    response = staff.post(
        cancel_url(flight), {"reason": REASON, "rebook_to": elsewhere.pk, "confirmed": "on"}
    )

    assert response.status_code == 400
    assert Flight.objects.get(pk=flight.pk).status == Flight.Status.SCHEDULED
    assert Booking.objects.get(pk=confirmed.pk).flight_id == flight.pk
    assert not AuditEvent.objects.filter(action="rebooked").exists()


def test_staff_without_the_permissions_are_refused(client, bare_staff_user, customer, flight):
    viewer = with_permissions(bare_staff_user, "flights.view_flight", "bookings.view_booking")
    client.force_login(viewer)
    confirmed = paid(customer, flight)
    replacement = later_flight(flight)

    refused = client.post(
        cancel_url(flight), {"reason": REASON, "rebook_to": replacement.pk, "confirmed": "on"}
    )

    assert refused.status_code == 403
    assert Booking.objects.get(pk=confirmed.pk).flight_id == flight.pk
    assert Flight.objects.get(pk=flight.pk).status == Flight.Status.SCHEDULED


# --- The bookings admin's bulk action -----------------------------------------------------------------


def changelist() -> str:
    return reverse("admin:bookings_booking_changelist")


def test_the_admin_action_asks_for_the_flight_then_rebooks_the_selected_bookings(
    staff, staff_user, customer, other_customer, flight
):
    first = paid(customer, flight, count=2)
    second = hold(other_customer, flight)
    left_alone = paid(customer, flight)
    replacement = later_flight(flight)
    selected = {"action": "rebook_bookings", ACTION_CHECKBOX_NAME: [first.pk, second.pk]}

    # the first post shows the confirmation page with the candidates and changes nothing
    asked = staff.post(changelist(), selected)
    assert asked.status_code == 200
    page = asked.content.decode()
    assert f'<option value="{replacement.pk}">' in page
    assert first.reference in page
    assert second.reference in page
    assert not AuditEvent.objects.filter(action="rebooked").exists()

    # confirmed with a flight, both move
    done = staff.post(changelist(), {**selected, "to_flight": replacement.pk, "confirmed": "on"}, follow=True)

    shown = [str(message) for message in done.context["messages"]]
    assert shown == [f"2 bookings rebooked onto {replacement.flight_number}; their travellers are e-mailed."]
    for booking in (first, second):
        assert set(SeatAssignment.objects.filter(booking=booking).values_list("flight_id", flat=True)) == {
            replacement.pk
        }
    assert Booking.objects.get(pk=left_alone.pk).flight_id == flight.pk
    assert AuditEvent.objects.filter(action="rebooked", actor=staff_user).count() == 2
    assert Notification.objects.filter(kind=Notification.Kind.FLIGHT_CHANGED).count() == 2
    assert inventory_violations() == []


def test_the_admin_action_refuses_bookings_of_different_flights(staff, customer, flight):
    other_flight = later_flight(flight)
    bookings = [hold(customer, flight), hold(customer, other_flight)]

    response = staff.post(
        changelist(),
        {"action": "rebook_bookings", ACTION_CHECKBOX_NAME: [booking.pk for booking in bookings]},
        follow=True,
    )

    shown = [str(message) for message in response.context["messages"]]
    assert shown == ["Select bookings of one flight to rebook them together."]
    assert not AuditEvent.objects.filter(action="rebooked").exists()


def test_the_admin_action_is_offered_only_with_both_permissions(client, bare_staff_user, customer, flight):
    viewer = with_permissions(
        bare_staff_user, "flights.view_flight", "bookings.view_booking", "bookings.change_booking"
    )
    client.force_login(viewer)
    booking = hold(customer, flight)
    replacement = later_flight(flight)

    page = client.get(changelist()).content.decode()
    refused = client.post(
        changelist(),
        {
            "action": "rebook_bookings",
            ACTION_CHECKBOX_NAME: [booking.pk],
            "to_flight": replacement.pk,
            "confirmed": "on",
        },
    )

    assert "rebook_bookings" not in page
    assert refused.status_code == 302  # the admin answers an action it does not offer "No action selected"
    assert Booking.objects.get(pk=booking.pk).flight_id == flight.pk
    assert not AuditEvent.objects.filter(action="rebooked").exists()
