"""Online check-in: the window, sequence numbers, seat moves under the flight's lock, boarding passes
with their IATA BCBP barcode, the e-mail, and the cancel rule once check-in has closed."""

import io
from datetime import timedelta

import pytest
import zxingcpp
from django.core import mail
from django.test import Client
from django.utils import timezone
from PIL import Image

from apps.accounts.tests.factories import UserFactory
from apps.bookings.boarding import bcbp_fields, bcbp_string, boarding_passes
from apps.bookings.exceptions import BookingNotCancellable, CheckInUnavailable, SeatUnavailable, SeatUnknown
from apps.bookings.models import Booking, SeatAssignment
from apps.bookings.selectors import inventory_violations
from apps.bookings.services import booking_cancel, booking_check_in, booking_hold_create
from apps.bookings.tests.factories import booking_flight
from apps.bookings.tests.racing import outcome_counts, race
from apps.core.models import AuditEvent
from apps.core.templatetags.airline import local_time
from apps.flights.models import Cabin, Flight
from apps.flights.seating import airplane_positions, is_taken
from apps.notifications.models import Notification
from apps.notifications.services import notification_send
from apps.payments.tests.factories import booking_paid

pytestmark = pytest.mark.django_db


def departure_moved(flight: Flight, hours: float) -> None:
    """Move the flight's departure (and arrival) to `hours` from now: the clock, not a workflow."""
    departure = timezone.now() + timedelta(hours=hours)
    Flight.objects.filter(pk=flight.pk).update(
        departure_time=departure, arrival_time=departure + timedelta(hours=2)
    )


def flight_in(hours: float, **fields) -> Flight:
    departure = timezone.now().replace(microsecond=0) + timedelta(hours=hours)
    return booking_flight(departure_time=departure, arrival_time=departure + timedelta(hours=2), **fields)


def paid(owner, flight: Flight, seats: list[str], names=(("Asha", "Rao"), ("Vikram", "Rao"))) -> Booking:
    names = names[: len(seats)]
    passengers = [{"first_name": first, "last_name": last} for first, last in names]
    return booking_paid(
        booking_hold_create(user=owner, flight_id=flight.pk, passengers=passengers, seats=seats)
    )


def seat_of(booking: Booking, position: int) -> str:
    return SeatAssignment.objects.get(passenger__booking=booking, passenger__position=position).seat_code


def send_all() -> None:
    for pk in Notification.objects.order_by("pk").values_list("pk", flat=True):
        notification_send(notification_id=pk)


def test_checked_in_passengers_get_the_flights_next_numbers_in_order():
    flight = flight_in(24)
    first, second = UserFactory(), UserFactory()
    one = paid(first, flight, ["3A", "3B"])
    two = paid(second, flight, ["5C"])

    booking_check_in(booking=two, actor=second, passenger_positions=[1])
    booking_check_in(booking=one, actor=first, passenger_positions=[2, 1])

    numbers = dict(SeatAssignment.objects.filter(flight=flight).values_list("seat_code", "check_in_number"))
    assert numbers == {"5C": 1, "3A": 2, "3B": 3}
    assert SeatAssignment.objects.filter(booking=one, checked_in_at__isnull=True).count() == 0
    assert AuditEvent.objects.filter(action="checked_in", subject_ref=one.reference).count() == 1


def test_checking_in_again_keeps_the_numbers_and_sends_nothing_new():
    owner = UserFactory()
    booking = paid(owner, flight_in(24), ["3A", "3B"])
    booking_check_in(booking=booking, actor=owner, passenger_positions=[1, 2])
    send_all()
    sent = len(mail.outbox)

    booking_check_in(booking=booking, actor=owner, passenger_positions=[1, 2])
    send_all()

    assert list(
        booking.seat_assignments.order_by("passenger__position").values_list("check_in_number", flat=True)
    ) == [1, 2]
    assert len(mail.outbox) == sent
    assert Notification.objects.filter(kind=Notification.Kind.BOARDING_PASSES).count() == 1


def test_a_seat_move_takes_the_new_seat_and_frees_the_old_one_in_the_inventory():
    owner = UserFactory()
    flight = flight_in(24)
    booking = paid(owner, flight, ["3A", "3B"])

    booking_check_in(booking=booking, actor=owner, passenger_positions=[1, 2], seats={1: "10F"})

    flight.refresh_from_db()
    positions = airplane_positions(flight.airplane_id)
    assert seat_of(booking, 1) == "10F"
    assert is_taken(flight.seats_taken, positions["10F"])
    assert not is_taken(flight.seats_taken, positions["3A"])
    assert flight.available_seats == flight.total_seats - 2
    assert inventory_violations() == []
    assert AuditEvent.objects.get(action="checked_in").detail["seats_moved"] == {"3A": "10F"}


def test_a_taken_seat_or_a_seat_of_another_cabin_is_refused_and_nothing_changes():
    owner, other = UserFactory(), UserFactory()
    flight = flight_in(24, business_rows=2)
    booking = paid(owner, flight, ["5A"])
    paid(other, flight, ["6A"])
    before = Flight.objects.values_list("available_seats", "seats_taken").get(pk=flight.pk)

    with pytest.raises(SeatUnavailable):
        booking_check_in(booking=booking, actor=owner, passenger_positions=[1], seats={1: "6A"})
    with pytest.raises(SeatUnknown):
        booking_check_in(booking=booking, actor=owner, passenger_positions=[1], seats={1: "1A"})  # business

    assert Flight.objects.values_list("available_seats", "seats_taken").get(pk=flight.pk) == before
    assert seat_of(booking, 1) == "5A"
    assert not SeatAssignment.objects.filter(checked_in_at__isnull=False).exists()


@pytest.mark.parametrize(
    ("hours", "message"),
    [(49, "not open yet"), (0.75, "has closed")],  # opens 48 h before, closes 1 h before departure
)
def test_check_in_is_refused_outside_its_window(hours, message):
    owner = UserFactory()
    flight = flight_in(24)
    booking = paid(owner, flight, ["3A"])
    departure_moved(flight, hours)

    with pytest.raises(CheckInUnavailable, match=message):
        booking_check_in(booking=booking, actor=owner, passenger_positions=[1])

    assert not SeatAssignment.objects.filter(checked_in_at__isnull=False).exists()


def test_a_booking_not_paid_cannot_be_checked_in():
    owner = UserFactory()
    booking = booking_hold_create(
        user=owner, flight_id=flight_in(24).pk, passengers=[{"first_name": "A", "last_name": "B"}]
    )

    with pytest.raises(CheckInUnavailable, match="Only a paid booking"):
        booking_check_in(booking=booking, actor=owner, passenger_positions=[1])


@pytest.mark.django_db(transaction=True)
@pytest.mark.concurrency
def test_two_passengers_racing_for_one_free_seat_get_it_once():
    flight = flight_in(24)
    owners = [UserFactory() for _ in range(8)]
    bookings = [paid(owner, flight, [f"{row}A"]) for row, owner in enumerate(owners, start=2)]

    results = race(
        [
            lambda booking=booking, owner=owner: booking_check_in(
                booking=booking, actor=owner, passenger_positions=[1], seats={1: "15F"}
            )
            for booking, owner in zip(bookings, owners, strict=True)
        ]
    )

    assert outcome_counts(results) == {"ok": 1, "seat_unavailable": 7}
    assert SeatAssignment.objects.filter(flight=flight, seat_code="15F", active=True).count() == 1
    assert SeatAssignment.objects.filter(flight=flight, checked_in_at__isnull=False).count() == 1
    flight.refresh_from_db()
    assert flight.available_seats == flight.total_seats - 8
    assert inventory_violations() == []


def test_bcbp_string_has_every_mandatory_item_at_its_place():
    text = bcbp_string(
        last_name="Núñez-Rao",
        first_name="Asha Maria",
        reference="K7Q2ZP",
        from_airport="BOM",
        to_airport="DEL",
        flight_number="AI101",
        day_of_year=71,
        cabin=Cabin.ECONOMY,
        seat_code="12A",
        check_in_number=25,
    )

    assert len(text) == 60
    assert text == "M1NUNEZ-RAO/ASHA MARIAEK7Q2ZP BOMDELAI 0101 071Y012A0025 100"
    assert bcbp_fields(text)["seat"] == "012A"
    assert bcbp_fields(text)["check_in_number"] == "0025 "


def test_the_boarding_passes_email_has_a_readable_barcode_per_passenger_and_comes_again_for_later_ones():
    owner = UserFactory()
    booking = paid(owner, flight_in(24), ["3A", "3B"])

    booking_check_in(booking=booking, actor=owner, passenger_positions=[1])
    send_all()
    first = [
        m for m in mail.outbox if m.extra_headers["X-Airline-Notification"].startswith("boarding_passes")
    ]
    booking_check_in(booking=booking, actor=owner, passenger_positions=[2])
    send_all()
    both = [m for m in mail.outbox if m.extra_headers["X-Airline-Notification"].startswith("boarding_passes")]

    assert len(first) == 1
    assert [name for name, _, _ in first[0].attachments] == [f"boarding-pass-{booking.reference}-1.png"]
    assert len(both) == 2
    message = both[-1]
    assert message.subject.startswith("Boarding passes: ")
    assert "Asha Rao" in message.body
    assert "Vikram Rao" in message.body
    decoded = [
        zxingcpp.read_barcodes(Image.open(io.BytesIO(content)))[0].text
        for _, content, _ in message.attachments
    ]
    assert decoded == [boarding.bcbp for boarding in boarding_passes(booking)]
    assert [bcbp_fields(text)["seat"] for text in decoded] == ["003A", "003B"]
    assert [bcbp_fields(text)["pnr"].strip() for text in decoded] == [booking.reference] * 2


def test_the_confirmation_says_when_check_in_opens():
    owner = UserFactory()
    booking = paid(owner, flight_in(72), ["3A"])
    send_all()

    ticket = next(
        m for m in mail.outbox if m.extra_headers["X-Airline-Notification"].startswith("booking_confirmed")
    )
    flight = booking.flight
    opens = local_time(flight.departure_time - timedelta(hours=48), flight.departure_airport)
    closes = local_time(flight.departure_time - timedelta(hours=1), flight.departure_airport)
    assert f"Online check-in opens {opens} and closes {closes}." in " ".join(ticket.body.split())


def test_once_check_in_has_closed_a_checked_in_traveller_cannot_cancel_online():
    owner = UserFactory()
    flight = flight_in(24)
    booking = paid(owner, flight, ["3A"])
    booking_check_in(booking=booking, actor=owner, passenger_positions=[1])
    departure_moved(flight, 0.75)

    with pytest.raises(BookingNotCancellable, match="checked in"):
        booking_cancel(booking=booking, actor=owner)

    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED


# --- the website -------------------------------------------------------------------------------------


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_check_in_page_checks_in_moves_a_seat_and_links_each_boarding_pass():
    owner = UserFactory()
    booking = paid(owner, flight_in(24), ["3A", "3B"])
    web = signed_in(owner)
    page = web.get(f"/bookings/{booking.reference}/check-in/")
    assert page.status_code == 200
    assert "Asha RAO" in page.content.decode()

    done = web.post(f"/bookings/{booking.reference}/check-in/", {"passenger": ["1", "2"], "seat-1": "9D"})

    assert done.status_code == 302
    assert done["Location"] == f"/bookings/{booking.reference}/"
    assert seat_of(booking, 1) == "9D"
    ticket = web.get(done["Location"]).content.decode()
    assert f'href="/bookings/{booking.reference}/boarding-pass/1/"' in ticket
    assert f'href="/bookings/{booking.reference}/boarding-pass/2/"' in ticket
    boarding = web.get(f"/bookings/{booking.reference}/boarding-pass/1/").content.decode()
    assert "<svg" in boarding
    assert "9D" in boarding


def test_positions_that_are_not_plain_numbers_are_ignored_not_a_server_error():
    owner = UserFactory()
    booking = paid(owner, flight_in(24), ["3A"])

    url = f"/bookings/{booking.reference}/check-in/"
    response = signed_in(owner).post(url, {"passenger": ["²"], "seat-²": "9D"})

    assert response.status_code == 400
    assert "Choose at least one." in response.content.decode()
    assert seat_of(booking, 1) == "3A"
    assert not SeatAssignment.objects.filter(checked_in_at__isnull=False).exists()


def test_a_refused_seat_is_shown_on_the_page_and_nobody_is_checked_in():
    owner, other = UserFactory(), UserFactory()
    flight = flight_in(24)
    booking = paid(owner, flight, ["3A"])
    paid(other, flight, ["9D"])

    refused = signed_in(owner).post(
        f"/bookings/{booking.reference}/check-in/", {"passenger": ["1"], "seat-1": "9D"}
    )

    assert refused.status_code == 400
    assert "Seat 9D is taken." in refused.content.decode()
    assert not SeatAssignment.objects.filter(checked_in_at__isnull=False).exists()


def test_before_the_window_the_page_says_when_it_opens_and_nobody_else_sees_it():
    owner = UserFactory()
    booking = paid(owner, flight_in(72), ["3A"])

    page = signed_in(owner).get(f"/bookings/{booking.reference}/check-in/")
    posted = signed_in(owner).post(f"/bookings/{booking.reference}/check-in/", {"passenger": ["1"]})
    stranger = signed_in(UserFactory()).get(f"/bookings/{booking.reference}/check-in/")
    no_pass = signed_in(owner).get(f"/bookings/{booking.reference}/boarding-pass/1/")

    assert "Online check-in is not open yet." in page.content.decode()
    assert posted.status_code == 200
    assert not SeatAssignment.objects.filter(checked_in_at__isnull=False).exists()
    assert stranger.status_code == 404
    assert no_pass.status_code == 404
