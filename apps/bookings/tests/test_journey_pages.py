"""Bookings of several flights on the website: the passenger page of a journey (names → hold → pay),
its refusals, and every page that shows such a booking (pay, e-ticket, My bookings)."""

from datetime import timedelta

import pytest
from django.test import Client

from apps.accounts.tests.factories import UserFactory
from apps.bookings.models import Booking, SeatAssignment
from apps.bookings.tests.factories import cancel_flight, hold, hold_journey, return_flight
from apps.bookings.tests.test_views import names, paid
from apps.flights.journeys import journey_connection_problem
from apps.flights.models import Flight
from apps.flights.tests.test_views import Route, route_bom_del

pytestmark = pytest.mark.django_db


@pytest.fixture
def route(db) -> Route:
    return route_bom_del()


@pytest.fixture
def back(route) -> Flight:
    """Delhi → Mumbai three hours after the midday flight lands: 14:35 local, ₹4,500 economy."""
    return return_flight(route.midday, flight_number="AI806")


def journey_url(*flights: Flight, count: int = 1) -> str:
    return "/bookings/new/?" + "".join(f"flights={flight.pk}&" for flight in flights) + f"count={count}"


def seats_by_segment(booking: Booking) -> dict[int, list[str]]:
    seats: dict[int, list[str]] = {}
    for segment, code in SeatAssignment.objects.filter(booking=booking, active=True).values_list(
        "segment", "seat_code"
    ):
        seats.setdefault(segment, []).append(code)
    return {segment: sorted(codes) for segment, codes in seats.items()}


def test_the_journey_page_shows_every_flight_and_the_total_for_all_travellers(client, customer, route, back):
    client.force_login(customer)

    response = client.get(journey_url(route.midday, back, count=2))

    html = response.content.decode()
    assert response.status_code == 200
    assert [flight.pk for flight in response.context["journey"]] == [route.midday.pk, back.pk]
    assert html.count('data-testid="journey-flight"') == 2
    assert "Flight 1 of 2" in html
    assert "Flight 2 of 2" in html
    assert "AI205 · " in html  # each flight's summary line names it
    assert "AI806 · " in html
    assert "09:30" in html  # the outbound leaves Mumbai at 09:30 local
    assert "14:35" in html  # and the return leaves Delhi at 14:35 local
    assert "₹16,800" in html  # (3,900 + 4,500) × 2 travellers
    assert len(response.context["formset"].forms) == 2
    assert 'name="idempotency_key"' in html


def test_names_hold_the_journey_and_the_pay_page_lists_both_flights(client, customer, route, back):
    client.force_login(customer)

    response = client.post(journey_url(route.midday, back, count=2), names(2), follow=True)

    booking = Booking.objects.get(owner=customer)
    html = response.content.decode()
    assert response.redirect_chain == [(f"/bookings/{booking.reference}/pay/", 302)]
    assert booking.segment_count == 2
    assert booking.flight_id == route.midday.pk
    seats = seats_by_segment(booking)
    assert [len(seats[1]), len(seats[2])] == [2, 2]
    assert Flight.objects.get(pk=route.midday.pk).available_seats == 66
    assert Flight.objects.get(pk=back.pk).available_seats == 118
    assert "Pay to confirm" in html
    assert f'data-testid="reference">{booking.reference}<' in html
    assert html.count('data-testid="journey-flight"') == 2
    assert "AI205 · " in html
    assert "AI806 · " in html
    for code in seats[1] + seats[2]:
        assert f"<dd>{code} · " in html  # each traveller's seat on each flight
    assert f"Pay {'₹'}" in html


def test_the_journey_page_submitted_twice_leads_to_the_same_booking(client, customer, route, back):
    client.force_login(customer)
    url, form = journey_url(route.midday, back), names(1, key="journey-page")
    first = client.post(url, form)

    again = client.post(url, form, follow=True)

    booking = Booking.objects.get(owner=customer)
    assert first["Location"] == f"/bookings/{booking.reference}/pay/"
    assert again.redirect_chain == [(f"/bookings/{booking.reference}/pay/", 302)]
    assert "nothing was booked twice" in again.content.decode()
    assert SeatAssignment.objects.filter(booking=booking).count() == 2
    assert Flight.objects.get(pk=back.pk).available_seats == 119


def test_a_flight_sold_out_meanwhile_is_named_and_nothing_is_held(
    client, customer, other_customer, route, back
):
    # given the page of a journey for two, and the return flight filling up before it is sent
    client.force_login(customer)
    page = client.get(journey_url(route.midday, back, count=2))
    hold(other_customer, back, count=9)
    Flight.objects.filter(pk=back.pk).update(available_seats=1)

    response = client.post(journey_url(route.midday, back, count=2), names(2), follow=True)

    html = response.content.decode()
    assert page.status_code == 200
    assert response.redirect_chain == [("/", 302)]
    assert "This journey cannot be booked: Flight 2 (AI806): 1 seat(s) left." in html
    assert not Booking.objects.filter(owner=customer).exists()
    assert Flight.objects.get(pk=route.midday.pk).available_seats == 68


def test_a_connection_too_short_is_a_message(client, customer, route):
    client.force_login(customer)
    hurried = return_flight(route.midday, after=timedelta(minutes=20), flight_number="AI808")

    shown = client.get(journey_url(route.midday, hurried), follow=True)
    sent = client.post(journey_url(route.midday, hurried), names(1), follow=True)

    problem = journey_connection_problem(route.midday, hurried)  # the one rule's own sentence
    assert problem
    assert shown.redirect_chain == [("/", 302)]
    assert problem in shown.content.decode()
    assert sent.redirect_chain == [("/", 302)]
    assert problem in sent.content.decode()
    assert not Booking.objects.exists()


def test_a_cancelled_flight_in_the_journey_is_a_message(client, customer, staff_user, route, back):
    client.force_login(customer)
    cancel_flight(back, staff_user)

    shown = client.get(journey_url(route.midday, back), follow=True)
    sent = client.post(journey_url(route.midday, back), names(1), follow=True)

    assert "Flight 2 (AI806): The flight is cancelled." in shown.content.decode()
    assert "Flight 2 (AI806): The flight is cancelled." in sent.content.decode()
    assert sent.redirect_chain == [("/", 302)]
    assert not Booking.objects.exists()


def test_an_unknown_flight_in_the_journey_is_a_message(client, customer, route):
    client.force_login(customer)
    url = f"/bookings/new/?flights={route.midday.pk}&flights={route.midday.pk + 9999}&count=1"

    shown = client.get(url, follow=True)
    sent = client.post(url, names(1), follow=True)

    assert "This journey cannot be booked: One of its flights does not exist." in shown.content.decode()
    assert shown.redirect_chain == [("/", 302)]
    assert f"Flight {route.midday.pk + 9999} does not exist." in sent.content.decode()
    assert not Booking.objects.exists()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("flights=abc&flights={a}", "The journey&#x27;s flights are not ones we know"),
        ("flights={a}&flights=²", "The journey&#x27;s flights are not ones we know"),
        ("flights={a}&flights={b}&flights={a}", "A journey cannot take the same flight twice"),
        ("flights={a}&flights={b}&flights=7&flights=8&flights=9", "A journey has 2 to 4 flights"),
        ("flights={a}&flights={b}&count=0", "At least one traveller is needed."),
        ("flights={a}&flights={b}&count=10", "At most 9 travellers can book together."),
        ("flights={a}&flights={b}&seats=3A", "Choose either one flight and its seats"),
    ],
)
def test_bad_journey_queries_are_a_message_not_a_500(client, customer, route, back, query, message):
    client.force_login(customer)
    url = "/bookings/new/?" + query.format(a=route.midday.pk, b=back.pk)

    shown = client.get(url, follow=True)
    sent = client.post(url, names(1), follow=True)

    assert shown.redirect_chain == [("/", 302)]
    assert message in shown.content.decode()
    assert sent.redirect_chain == [("/", 302)]
    assert not Booking.objects.exists()


def test_a_journey_of_one_flight_is_the_one_way_page(client, customer, route):
    client.force_login(customer)

    response = client.get(f"/bookings/new/?flights={route.midday.pk}&count=2")

    assert response.status_code == 200
    assert "journey" not in response.context
    assert response.context["flight"].pk == route.midday.pk
    assert len(response.context["formset"].forms) == 2


def test_the_e_ticket_shows_each_flight_with_each_passengers_seat(client, customer, route, back):
    booking = paid(hold_journey(customer, [route.midday, back], count=2), customer)
    seats = seats_by_segment(booking)
    client.force_login(customer)

    response = client.get(f"/bookings/{booking.reference}/")

    html = response.content.decode()
    assert response.status_code == 200
    assert booking.status == Booking.Status.CONFIRMED
    assert "Flight 1 of 2 · AI205" in html
    assert "Flight 2 of 2 · AI806" in html
    assert html.count('class="ticket__route"') == 2
    assert "<dd>09:30</dd>" in html  # departs Mumbai
    assert "<dd>14:35</dd>" in html  # departs Delhi
    for code in seats[1] + seats[2]:
        assert f"<strong>{code}</strong>" in html
    assert html.count("Pax1 TRAVELLER") == 2  # a row on each flight's table


def test_the_e_ticket_says_which_flight_of_the_journey_the_airline_cancelled(
    client, customer, staff_user, route, back
):
    booking = paid(hold_journey(customer, [route.midday, back]), customer)
    cancel_flight(back, staff_user)
    client.force_login(customer)

    html = client.get(f"/bookings/{booking.reference}/").content.decode()

    assert "The airline cancelled flight AI806." in html
    assert "The airline cancelled flight AI205" not in html


def test_my_bookings_lists_every_flight_of_a_journey_beside_a_one_way_booking(client, customer, route, back):
    one_way = hold(customer, route.evening)
    journey = hold_journey(customer, [route.midday, back], count=2)  # newest first: listed above
    seats = seats_by_segment(journey)
    client.force_login(customer)

    html = client.get("/bookings/").content.decode()

    row = html[
        html.index(f'data-reference="{journey.reference}"') : html.index(
            f'data-reference="{one_way.reference}"'
        )
    ]
    assert row.count('data-testid="journey-flight"') == 2
    assert "AI205 · BOM → DEL" in row
    assert "AI806 · DEL → BOM" in row
    assert f"(seats {', '.join(seats[1])})" in row
    assert f"(seats {', '.join(seats[2])})" in row
    assert "AI877 · BOM → DEL" in html  # the one-way booking as before


def test_a_visitor_through_manage_booking_sees_every_flight_and_pays_the_journey(route, back):
    booking = hold_journey(UserFactory(), [route.midday, back])
    visitor = Client()
    visitor.post("/manage/", {"reference": booking.reference, "last_name": "traveller"})

    pay_page = visitor.get(f"/bookings/{booking.reference}/pay/").content.decode()
    visitor.post(
        f"/bookings/{booking.reference}/pay/",
        {"idempotency_key": "visitor-pays", "payment_method": "tok_visa"},
    )
    ticket = visitor.get(f"/bookings/{booking.reference}/").content.decode()

    assert pay_page.count('data-testid="journey-flight"') == 2
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.CONFIRMED
    assert "Flight 1 of 2 · AI205" in ticket
    assert "Flight 2 of 2 · AI806" in ticket
