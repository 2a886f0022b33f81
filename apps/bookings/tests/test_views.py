"""Passenger details (holding seats), My bookings, e-ticket and cancel pages."""

import pytest

from apps.bookings.models import Booking
from apps.bookings.services import booking_hold_create
from apps.flights.models import Flight
from apps.flights.tests.test_views import Route, route_bom_del
from apps.payments.models import Payment
from apps.payments.services import payment_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def route(db) -> Route:
    return route_bom_del()


def names(count: int) -> dict[str, str]:
    data = {
        "passenger-TOTAL_FORMS": str(count),
        "passenger-INITIAL_FORMS": "0",
        "passenger-MIN_NUM_FORMS": str(count),
        "passenger-MAX_NUM_FORMS": str(count),
    }
    for index in range(count):
        data[f"passenger-{index}-first_name"] = f"Asha{index}"
        data[f"passenger-{index}-last_name"] = "Rao"
    return data


def new_booking_url(flight: Flight, *seats: str) -> str:
    return f"/bookings/new/?flight={flight.pk}" + "".join(f"&seats={seat}" for seat in seats)


def paid(booking: Booking, user) -> Booking:
    payment_create(
        user=user,
        booking_reference=booking.reference,
        amount=booking.total_amount,
        currency=booking.currency,
        payment_method="tok_visa",
        idempotency_key=f"test-{booking.reference}",
    )
    booking.refresh_from_db()
    return booking


def test_passenger_details_need_a_signed_in_traveller(client, route):
    response = client.get(new_booking_url(route.midday, "3A", "3B"))

    assert response.status_code == 302
    assert response["Location"].startswith("/signin/?next=/bookings/new/")


def test_passenger_page_shows_the_chosen_seats_and_their_total(client, customer, route):
    client.force_login(customer)

    response = client.get(new_booking_url(route.midday, "1A", "3B"))

    assert response.status_code == 200
    assert [seat.code for seat in response.context["chosen"]] == ["1A", "3B"]
    assert "₹22,400.00" in response.content.decode()  # 18,500 business + 3,900 economy
    assert len(response.context["formset"].forms) == 2


def test_submitting_names_holds_the_chosen_seats_and_goes_to_pay(client, customer, route):
    client.force_login(customer)

    response = client.post(new_booking_url(route.midday, "3A", "3B"), names(2))

    booking = Booking.objects.get(owner=customer)
    assert response.status_code == 302
    assert response["Location"] == f"/bookings/{booking.reference}/pay/"
    assert booking.status == Booking.Status.HELD
    assert sorted(booking.seat_assignments.values_list("seat_code", flat=True)) == ["3A", "3B"]
    assert list(booking.passengers.values_list("first_name", flat=True)) == ["Asha0", "Asha1"]
    assert Flight.objects.get(pk=route.midday.pk).available_seats == 66


def test_any_seat_lets_the_service_choose(client, customer, route):
    client.force_login(customer)

    client.post(f"/bookings/new/?flight={route.midday.pk}&seats=&seats=", names(2))

    assert Booking.objects.get(owner=customer).seat_assignments.count() == 2


def test_a_seat_taken_meanwhile_sends_back_to_the_refreshed_seat_map(client, customer, other_customer, route):
    client.force_login(customer)
    booking_hold_create(
        user=other_customer,
        flight_id=route.midday.pk,
        passengers=[{"first_name": "O", "last_name": "P"}],
        seats=["3B"],
    )

    response = client.post(new_booking_url(route.midday, "3A", "3B"), names(2), follow=True)

    assert response.redirect_chain[-1][0] == f"/flights/{route.midday.pk}/?travellers=2&seats=3A&seats=3B"
    assert "Someone else got there first" in response.content.decode()
    assert 'value="3B"' not in response.content.decode()
    assert '<option value="3A" selected>' in response.content.decode()  # the seat still free stays chosen
    assert not Booking.objects.filter(owner=customer).exists()


def test_missing_names_are_field_errors_and_hold_nothing(client, customer, route):
    client.force_login(customer)
    data = names(2) | {"passenger-1-last_name": ""}

    response = client.post(new_booking_url(route.midday, "3A", "3B"), data)

    assert response.status_code == 200
    assert response.context["formset"].forms[1].errors["last_name"]
    assert not Booking.objects.exists()


@pytest.mark.parametrize(
    ("seats", "message"),
    [(("3A", ""), "Choose a seat for every traveller"), (("3A", "3A"), "different seat")],
)
def test_inconsistent_seat_choices_go_back_to_the_seat_map(client, customer, route, seats, message):
    client.force_login(customer)

    response = client.get(new_booking_url(route.midday, *seats), follow=True)

    assert response.redirect_chain[-1][0] == f"/flights/{route.midday.pk}/?travellers=2"
    assert message in response.content.decode()


def test_a_cancelled_flight_is_a_message_not_a_500(client, customer, route):
    client.force_login(customer)
    Flight.objects.filter(pk=route.midday.pk).update(status=Flight.Status.CANCELLED)

    response = client.post(new_booking_url(route.midday, "3A"), names(1), follow=True)

    assert response.status_code == 200
    assert "The flight is cancelled." in response.content.decode()
    assert not Booking.objects.exists()


def test_my_bookings_lists_only_mine_with_status(client, customer, other_customer, route):
    mine = booking_hold_create(
        user=customer, flight_id=route.midday.pk, passengers=[{"first_name": "A", "last_name": "R"}]
    )
    booking_hold_create(
        user=other_customer, flight_id=route.midday.pk, passengers=[{"first_name": "O", "last_name": "P"}]
    )
    client.force_login(customer)

    response = client.get("/bookings/")

    assert [booking.reference for booking in response.context["bookings"]] == [mine.reference]
    assert "Held" in response.content.decode()


def test_e_ticket_of_a_confirmed_booking(client, customer, route):
    booking = paid(
        booking_hold_create(
            user=customer,
            flight_id=route.early.pk,
            passengers=[{"first_name": "Asha", "last_name": "Rao"}],
            seats=["4F"],
        ),
        customer,
    )
    client.force_login(customer)

    response = client.get(f"/bookings/{booking.reference}/")

    html = response.content.decode()
    assert response.status_code == 200
    assert booking.reference in html
    assert "E-ticket" in html
    assert "Asha RAO" in html
    assert "4F" in html
    assert "06:00" in html
    assert "C31" in html


def test_someone_elses_booking_is_404(client, customer, other_customer, route):
    booking = booking_hold_create(
        user=other_customer, flight_id=route.midday.pk, passengers=[{"first_name": "O", "last_name": "P"}]
    )
    client.force_login(customer)

    assert client.get(f"/bookings/{booking.reference}/").status_code == 404
    assert client.post(f"/bookings/{booking.reference}/cancel/").status_code == 404
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.HELD


def test_cancelling_a_confirmed_booking_refunds_and_releases_the_seats(client, customer, route):
    booking = paid(
        booking_hold_create(
            user=customer, flight_id=route.early.pk, passengers=[{"first_name": "A", "last_name": "R"}]
        ),
        customer,
    )
    client.force_login(customer)

    response = client.post(f"/bookings/{booking.reference}/cancel/", follow=True)

    assert "is cancelled" in response.content.decode()
    assert "refunded" in response.content.decode()
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.CANCELLED
    assert Payment.objects.get(booking=booking).status == Payment.Status.REFUNDED
    assert Flight.objects.get(pk=route.early.pk).available_seats == 68


def test_cancelling_twice_is_a_message_not_a_500(client, customer, route):
    booking = booking_hold_create(
        user=customer, flight_id=route.midday.pk, passengers=[{"first_name": "A", "last_name": "R"}]
    )
    client.force_login(customer)
    client.post(f"/bookings/{booking.reference}/cancel/")

    response = client.post(f"/bookings/{booking.reference}/cancel/", follow=True)

    assert response.status_code == 200
    assert "was not cancelled" in response.content.decode()
    assert Flight.objects.get(pk=route.midday.pk).available_seats == 68
