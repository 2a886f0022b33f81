"""Passenger details (holding seats), My bookings, e-ticket and cancel pages."""

import threading
import uuid
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test import Client

from apps.bookings.models import Booking
from apps.bookings.services import booking_hold_create
from apps.core.idempotency import idempotency_key_claim, request_fingerprint
from apps.flights.models import Flight
from apps.flights.tests.test_views import Route, route_bom_del
from apps.payments.models import Payment
from apps.payments.services import payment_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def route(db) -> Route:
    return route_bom_del()


def names(count: int, *, key: str | None = None) -> dict[str, str]:
    """The passenger form as the browser posts it, with the page's idempotency key."""
    data = {
        "idempotency_key": key or uuid.uuid4().hex,
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
    assert "₹22,400" in response.content.decode()  # 18,500 business + 3,900 economy
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


def test_the_passenger_page_carries_a_new_key_each_time_it_is_rendered(client, customer, route):
    client.force_login(customer)

    first = client.get(new_booking_url(route.midday, "", ""))
    second = client.get(new_booking_url(route.midday, "", ""))

    key = first.context["hold_form"]["idempotency_key"].value()
    assert len(key) == 32
    assert f'name="idempotency_key" value="{key}"' in first.content.decode()
    assert key != second.context["hold_form"]["idempotency_key"].value()


def test_the_same_form_posted_twice_holds_once_and_leads_to_the_first_hold(client, customer, route):
    client.force_login(customer)
    url, form = new_booking_url(route.midday, "", ""), names(2, key="page-1")
    first = client.post(url, form)

    again = client.post(url, form, follow=True)

    booking = Booking.objects.get(owner=customer)
    assert first["Location"] == f"/bookings/{booking.reference}/pay/"
    assert again.redirect_chain == [(f"/bookings/{booking.reference}/pay/", 302)]
    assert f"already held for you in booking {booking.reference}: nothing was booked twice" in (
        again.content.decode()
    )
    assert Flight.objects.get(pk=route.midday.pk).available_seats == 66


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_the_same_form_posted_twice_at_once_holds_once(customer):
    route = route_bom_del()
    url, form = new_booking_url(route.midday, "", ""), names(2, key="double-click")
    clients = [Client(), Client()]
    for browser in clients:
        browser.force_login(customer)
    start = threading.Barrier(len(clients))
    locations: list[str] = []

    def submit(browser: Client) -> None:
        try:
            start.wait()
            locations.append(browser.post(url, form)["Location"])
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(browser,)) for browser in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # one of them held the seats; the other was sent to that hold, or to My bookings while it ran
    booking = Booking.objects.get(owner=customer)
    pay_url = f"/bookings/{booking.reference}/pay/"
    assert pay_url in locations
    assert sorted(locations) in ([pay_url, pay_url], sorted([pay_url, "/bookings/"]))
    assert Flight.objects.get(pk=route.midday.pk).available_seats == 66


def test_a_submission_while_the_first_is_still_holding_goes_to_my_bookings(client, customer, route):
    client.force_login(customer)
    url, form = new_booking_url(route.midday, ""), names(1, key="in-flight")
    body = {
        "flight_id": route.midday.pk,
        "seats": [],
        "passengers": [{"first_name": "Asha0", "last_name": "Rao"}],
    }
    idempotency_key_claim(
        owner=customer,
        key="in-flight",
        method="POST",
        route="/bookings/new/",
        fingerprint=request_fingerprint(method="POST", route="/bookings/new/", body=body),
    )

    response = client.post(url, form, follow=True)

    assert response.redirect_chain == [("/bookings/", 302)]
    assert "We are holding your seats from your first click" in response.content.decode()
    assert not Booking.objects.exists()


def test_the_same_page_sent_back_with_other_names_resumes_its_hold_and_holds_nothing_more(
    client, customer, route
):
    client.force_login(customer)
    url = new_booking_url(route.midday, "")
    client.post(url, names(1, key="page-1"))

    response = client.post(url, names(1, key="page-1") | {"passenger-0-first_name": "Ravi"}, follow=True)

    booking = Booking.objects.get()
    assert response.redirect_chain == [(f"/bookings/{booking.reference}/pay/", 302)]
    assert f"already held for you in booking {booking.reference}: nothing was booked twice" in (
        response.content.decode()
    )
    assert "It keeps the names you entered first" in response.content.decode()
    assert list(Booking.objects.values_list("passengers__first_name", flat=True)) == ["Asha0"]
    assert Flight.objects.get(pk=route.midday.pk).available_seats == 67


@pytest.mark.parametrize("other_names", [False, True])
def test_a_fresh_passenger_page_for_seats_already_held_resumes_that_hold(
    client, customer, route, other_names
):
    # given the traveller held 1A and 1D, went back and was given a new page (a new key)
    client.force_login(customer)
    url = new_booking_url(route.midday, "1A", "1D")
    first = client.post(url, names(2, key="first-page"))
    booking = Booking.objects.get()
    again = names(2, key="second-page") | ({"passenger-1-first_name": "Ravi"} if other_names else {})

    # when they fill it in again and submit
    response = client.post(url, again, follow=True)

    # then they are on their hold's pay page, told so plainly; nothing more was held
    html = response.content.decode()
    assert first["Location"] == f"/bookings/{booking.reference}/pay/"
    assert response.redirect_chain == [(f"/bookings/{booking.reference}/pay/", 302)]
    assert f"Seat(s) 1A, 1D are already held for you in booking {booking.reference}" in html
    assert ("It keeps the names you entered first" in html) is other_names
    assert "Someone else got there first" not in html
    assert Booking.objects.count() == 1
    assert sorted(booking.seat_assignments.filter(active=True).values_list("seat_code", flat=True)) == [
        "1A",
        "1D",
    ]
    assert Flight.objects.get(pk=route.midday.pk).available_seats == 66


def test_a_fresh_page_for_any_seats_with_the_same_travellers_resumes_their_hold(client, customer, route):
    client.force_login(customer)
    url = new_booking_url(route.midday, "", "")
    client.post(url, names(2, key="first-page"))
    booking = Booking.objects.get()

    response = client.post(url, names(2, key="second-page"), follow=True)

    assert response.redirect_chain == [(f"/bookings/{booking.reference}/pay/", 302)]
    assert f"already held for you in booking {booking.reference}" in response.content.decode()
    assert Booking.objects.count() == 1
    assert Flight.objects.get(pk=route.midday.pk).available_seats == 66


def test_a_paid_booking_of_those_seats_leads_to_its_ticket(client, customer, route):
    client.force_login(customer)
    url = new_booking_url(route.midday, "2C")
    client.post(url, names(1, key="first-page"))
    booking = paid(Booking.objects.get(), customer)

    response = client.post(url, names(1, key="second-page"), follow=True)

    assert response.redirect_chain == [(f"/bookings/{booking.reference}/", 302)]
    assert f"You already booked this in booking {booking.reference}" in response.content.decode()
    assert Booking.objects.count() == 1
    assert Payment.objects.count() == 1


def test_seats_partly_held_in_another_own_booking_are_named_as_the_travellers_own(client, customer, route):
    client.force_login(customer)
    client.post(new_booking_url(route.midday, "1A"), names(1, key="first-page"))

    response = client.post(
        new_booking_url(route.midday, "1A", "1D"), names(2, key="second-page"), follow=True
    )

    assert "You already hold seat(s) 1A on this flight in another booking" in response.content.decode()
    assert "Someone else got there first" not in response.content.decode()
    assert Booking.objects.count() == 1
    assert Flight.objects.get(pk=route.midday.pk).available_seats == 67


def test_a_failed_hold_lets_the_same_page_try_again(client, customer, route):
    client.force_login(customer)
    url, form = new_booking_url(route.midday, "3A"), names(1, key="retry-me")
    Flight.objects.filter(pk=route.midday.pk).update(status=Flight.Status.CANCELLED)
    client.post(url, form)
    Flight.objects.filter(pk=route.midday.pk).update(status=Flight.Status.SCHEDULED)

    response = client.post(url, form)

    booking = Booking.objects.get(owner=customer)
    assert response["Location"] == f"/bookings/{booking.reference}/pay/"
    assert list(booking.seat_assignments.values_list("seat_code", flat=True)) == ["3A"]


def test_a_form_without_its_key_holds_nothing_and_gets_a_new_key(client, customer, route):
    client.force_login(customer)
    form = names(1)
    del form["idempotency_key"]

    response = client.post(new_booking_url(route.midday, "3A"), form)

    assert response.status_code == 400
    assert "Please check the names and submit again" in response.content.decode()
    assert len(response.context["hold_form"]["idempotency_key"].value()) == 32
    assert response.context["formset"].forms[0]["first_name"].value() == "Asha0"
    assert not Booking.objects.exists()


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


def test_an_empty_passenger_form_asks_for_the_names_in_words_not_forms(client, customer, route):
    client.force_login(customer)
    empty = names(2) | {f"passenger-{i}-{field}": "" for i in (0, 1) for field in ("first_name", "last_name")}

    response = client.post(new_booking_url(route.midday, "3A", "3C"), empty)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Enter a first and last name for each of the 2 travellers." in html
    assert html.count("Enter this traveller&#x27;s first name.") == 2
    assert html.count("Enter this traveller&#x27;s last name.") == 2
    assert "forms" not in " ".join(response.context["formset"].non_form_errors())
    assert "This field is required" not in html
    assert not Booking.objects.exists()
    assert Flight.objects.get(pk=route.midday.pk).available_seats == 68


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


def test_my_bookings_shows_a_holds_deadline_in_the_departure_airports_time(client, customer, route):
    held = booking_hold_create(
        user=customer, flight_id=route.midday.pk, passengers=[{"first_name": "A", "last_name": "R"}]
    )
    Booking.objects.filter(pk=held.pk).update(hold_expires_at=datetime(2030, 1, 1, 4, 0, tzinfo=UTC))
    client.force_login(customer)

    html = client.get("/bookings/").content.decode()

    assert "Pay by Tue 1 Jan 2030, 09:30 IST (Mumbai time)" in html
    assert "UTC" not in html


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
    assert "IST (Mumbai time)" in html  # when it was booked, named in the departure airport's zone
    assert "UTC" not in html


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
