"""Choosing seats on each flight of a journey on the website (apps/flights/journey_links.py): the
passenger page links each flight's seat map in journey mode, which returns with that flight's seats
and keeps the others; the hold takes them per segment; refusals name the flight and lead back to its
seat map. And a journey page sent again from a fresh page leads to the traveller's own earlier hold."""

from urllib.parse import parse_qs, urlsplit

import pytest

from apps.bookings.models import Booking
from apps.bookings.tests.factories import hold, hold_journey, return_flight
from apps.bookings.tests.test_journey_pages import seats_by_segment
from apps.bookings.tests.test_views import names
from apps.flights.models import Flight
from apps.flights.tests.test_views import Route, route_bom_del

pytestmark = pytest.mark.django_db


@pytest.fixture
def route(db) -> Route:
    return route_bom_del()


@pytest.fixture
def back(route) -> Flight:
    """Delhi → Mumbai after the midday flight: 20 rows A–F of economy at ₹4,500."""
    return return_flight(route.midday, flight_number="AI806")


def journey_url(path: str, *flights: Flight, count: int = 2, **seats: str) -> str:
    query = "".join(f"flights={flight.pk}&" for flight in flights) + f"count={count}"
    return f"{path}?{query}" + "".join(f"&{name}={value}" for name, value in seats.items())


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query, keep_blank_values=True)


def available(flight: Flight) -> int:
    return Flight.objects.get(pk=flight.pk).available_seats


def test_the_passenger_page_links_each_flights_seat_map_carrying_the_journey(client, customer, route, back):
    client.force_login(customer)

    response = client.get(journey_url("/bookings/new/", route.midday, back, seats_1="3A,3B"))

    html = response.content.decode()
    links = [segment.seat_map_url for segment in response.context["journey_segments"]]
    assert response.status_code == 200
    assert [urlsplit(link).path for link in links] == [f"/flights/{route.midday.pk}/", f"/flights/{back.pk}/"]
    for link in links:
        assert query_of(link) == {
            "flights": [str(route.midday.pk), str(back.pk)],
            "count": ["2"],
            "seats_1": ["3A,3B"],
        }
        assert f'href="{link.replace("&", "&amp;")}"' in html
    assert html.count(">Change seats</a>") == 1  # flight 1's seats are chosen
    assert html.count(">Choose seats</a>") == 1  # flight 2's are not yet
    assert "Traveller 1: seat 3A" in html
    assert "Traveller 2: seat 3B" in html
    assert "₹16,800" in html  # 3,900 × 2 chosen + 4,500 × 2 from


def test_the_seat_map_in_journey_mode_keeps_the_other_flights_and_its_own_choice(client, route, back):
    response = client.get(
        journey_url(f"/flights/{back.pk}/", route.midday, back, seats_1="3A,3B", seats_2="7C,7D")
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "Choose 2 seats on flight 2 of 2" in html
    assert 'action="/flights/journey/seats/"' in html
    assert response.context["journey"]["hidden"] == [
        ("flights", route.midday.pk),
        ("flights", back.pk),
        ("count", 2),
        ("seats_1", "3A,3B"),
        ("segment", 2),
    ]
    assert response.context["traveller_seats"] == [(1, "7C"), (2, "7D")]
    assert '<option value="7C" selected>' in html
    back_link = response.context["journey"]["back_url"]
    assert query_of(back_link)["seats_2"] == ["7C,7D"]
    assert 'name="flight"' not in html  # the one-way form's field


def test_the_seat_maps_answer_puts_its_seats_into_the_journey(client, route, back):
    url = journey_url("/flights/journey/seats/", route.midday, back, seats_1="3A,3B", segment="2")

    response = client.get(url + "&seats=7c&seats=7D")

    assert response.status_code == 302
    assert urlsplit(response["Location"]).path == "/bookings/new/"
    assert query_of(response["Location"]) == {
        "flights": [str(route.midday.pk), str(back.pk)],
        "count": ["2"],
        "seats_1": ["3A,3B"],
        "seats_2": ["7C,7D"],
    }


def test_any_seat_on_the_seat_map_drops_that_flights_choice(client, route, back):
    url = journey_url("/flights/journey/seats/", route.midday, back, seats_1="3A,3B", segment="1")

    response = client.get(url + "&seats=&seats=")

    assert query_of(response["Location"]) == {"flights": [str(route.midday.pk), str(back.pk)], "count": ["2"]}


@pytest.mark.parametrize(
    ("seats", "message"),
    [
        ("&seats=7C&seats=", "Choose a seat for every traveller, or leave all of them on “Any seat”."),
        ("&seats=7C&seats=7C", "Each traveller needs a different seat (7C was chosen twice)."),
        ("&seats=7C&seats=7D&seats=7E", "Choose 2 seats, one for each traveller, or let us assign them."),
    ],
)
def test_a_seat_maps_answer_that_does_not_fit_goes_back_to_it(client, route, back, seats, message):
    url = journey_url("/flights/journey/seats/", route.midday, back, seats_1="3A,3B", segment="2")

    response = client.get(url + seats, follow=True)

    (location, status), *_ = response.redirect_chain
    assert status == 302
    assert urlsplit(location).path == f"/flights/{back.pk}/"
    assert query_of(location)["seats_1"] == ["3A,3B"]
    assert response.status_code == 200
    assert message in response.content.decode().replace("&#x27;", "'")


def test_the_hold_takes_the_chosen_seats_on_one_flight_and_assigns_the_other(client, customer, route, back):
    client.force_login(customer)

    response = client.post(journey_url("/bookings/new/", route.midday, back, seats_2="7C,7D"), names(2))

    booking = Booking.objects.get(owner=customer)
    seats = seats_by_segment(booking)
    assert response["Location"] == f"/bookings/{booking.reference}/pay/"
    assert seats[2] == ["7C", "7D"]
    assert len(seats[1]) == 2
    assert booking.total_amount == 2 * 3900 + 2 * 4500
    assert available(route.midday) == 66
    assert available(back) == 118


def test_a_seat_taken_meanwhile_names_the_flight_and_leads_to_its_seat_map(
    client, customer, other_customer, route, back
):
    # given a journey page with seats chosen on both flights, and one of flight 2's taken before it is sent
    client.force_login(customer)
    url = journey_url("/bookings/new/", route.midday, back, seats_1="3A,3B", seats_2="7C,7D")
    client.get(url)
    hold(other_customer, back, seats=["7D"])

    response = client.post(url, names(2), follow=True)

    (location, status), *_ = response.redirect_chain
    html = response.content.decode()
    assert status == 302
    assert urlsplit(location).path == f"/flights/{back.pk}/"
    assert query_of(location)["seats_1"] == ["3A,3B"]  # the other flight's choice kept
    assert "Flight 2 (AI806): Seat(s) already taken: 7D. Someone else got there first" in html
    assert response.context["traveller_seats"] == [(1, "7C"), (2, "")]  # 7D is no longer offered
    assert not Booking.objects.filter(owner=customer).exists()
    assert available(route.midday) == 68
    assert available(back) == 119


@pytest.mark.parametrize(
    ("seats", "flight", "message"),
    [
        ({"seats_2": "7C,99Z"}, 2, "Flight 2 (AI806): No such seat on this flight: 99Z."),
        ({"seats_1": "3A"}, 1, "Flight 1 (AI205): Choose 2 seats, one for each traveller"),
        ({"seats_2": "7C,7c"}, 2, "Flight 2 (AI806): Each traveller needs a different seat (7C was chosen"),
        ({"seats_1": "3A,3B,3C"}, 1, "Flight 1 (AI205): Choose 2 seats"),
    ],
)
def test_bad_seats_on_the_passenger_page_are_a_message_at_that_flights_seat_map(
    client, customer, route, back, seats, flight, message
):
    client.force_login(customer)
    url = journey_url("/bookings/new/", route.midday, back, **seats)

    shown = client.get(url, follow=True)
    sent = client.post(url, names(2), follow=True)

    expected = f"/flights/{(route.midday, back)[flight - 1].pk}/"
    for response in (shown, sent):
        (location, status), *_ = response.redirect_chain
        assert (urlsplit(location).path, status) == (expected, 302)
        assert response.status_code == 200
        assert message in response.content.decode()
    assert not Booking.objects.exists()
    assert available(route.midday) == 68
    assert available(back) == 120


@pytest.mark.parametrize("seats", [{"seats_3": "7C,7D"}, {"seats_0": "7C,7D"}, {"seats_x": "7C,7D"}])
def test_seats_for_a_flight_not_in_the_journey_are_a_message(client, customer, route, back, seats):
    client.force_login(customer)
    url = journey_url("/bookings/new/", route.midday, back, **seats)

    shown = client.get(url, follow=True)
    sent = client.post(url, names(2), follow=True)

    for response in (shown, sent):
        assert response.redirect_chain == [("/", 302)]
        assert "Seats were chosen for a flight that is not in this journey." in response.content.decode()
    assert not Booking.objects.exists()


def test_a_seat_map_of_a_flight_not_in_the_journey_is_a_message(client, route, back):
    response = client.get(journey_url(f"/flights/{route.evening.pk}/", route.midday, back), follow=True)

    assert response.redirect_chain == [("/", 302)]
    assert "This flight is not part of the journey." in response.content.decode()


def test_a_fresh_journey_page_sent_with_the_same_names_leads_to_the_earlier_hold(
    client, customer, route, back
):
    # given the traveller's journey held from one page
    client.force_login(customer)
    url = journey_url("/bookings/new/", route.midday, back)
    first = client.post(url, names(2, key="first-page"))
    booking = Booking.objects.get(owner=customer)

    # when a freshly rendered page of the same journey (its own key) is sent with the same names
    again = client.post(url, names(2, key="second-page"), follow=True)

    html = again.content.decode()
    assert first["Location"] == f"/bookings/{booking.reference}/pay/"
    assert again.redirect_chain == [(f"/bookings/{booking.reference}/pay/", 302)]
    assert "already held for you in booking" in html
    assert "nothing was booked twice" in html
    assert Booking.objects.filter(owner=customer).count() == 1
    assert available(route.midday) == 66
    assert available(back) == 118


def test_other_names_or_other_flights_are_a_new_hold(client, customer, route, back):
    client.force_login(customer)
    hold_journey(customer, [route.midday, back], count=2)  # travellers Pax1, Pax2 Traveller
    other_back = return_flight(route.midday, flight_number="AI808")

    other_names = client.post(journey_url("/bookings/new/", route.midday, back), names(2))
    other_flights = client.post(journey_url("/bookings/new/", route.midday, other_back), names(2))
    one_way = client.post(f"/bookings/new/?flight={route.midday.pk}&travellers=2", names(2))

    assert Booking.objects.filter(owner=customer).count() == 4
    assert len({other_names["Location"], other_flights["Location"], one_way["Location"]}) == 3
    assert available(route.midday) == 68 - 4 * 2
    assert available(back) == 120 - 2 * 2


def test_a_fresh_page_with_the_same_chosen_seats_leads_to_the_earlier_hold(client, customer, route, back):
    client.force_login(customer)
    url = journey_url("/bookings/new/", route.midday, back, seats_2="7C,7D")
    client.post(url, names(2, key="first-page"))
    booking = Booking.objects.get(owner=customer)

    again = client.post(url, names(2, key="second-page"), follow=True)

    html = again.content.decode()
    assert again.redirect_chain == [(f"/bookings/{booking.reference}/pay/", 302)]
    assert "nothing was booked twice" in html
    assert "7C, 7D on AI806" in html
    assert Booking.objects.filter(owner=customer).count() == 1
    assert available(back) == 118


@pytest.mark.parametrize(
    ("path", "query", "landing", "message"),
    [
        (
            "/flights/journey/seats/",
            "flights=abc&count=2&segment=1",
            "/",
            "The journey&#x27;s flights are not",
        ),
        ("/flights/journey/seats/", "flights={a}&count=2&segment=1", "/", "A journey has 2 to 4 different"),
        (
            "/flights/journey/seats/",
            "flights={a}&flights={b}&count=0",
            "/",
            "A journey is for 1 to 9 travellers",
        ),
        (
            "/flights/journey/seats/",
            "flights={a}&flights={b}&count=2&segment=3",
            "/bookings/new/",
            "Choose seats from one of the journey&#x27;s seat maps.",
        ),
        (
            "/flights/journey/seats/",
            "flights={a}&flights={b}&count=2&segment=x",
            "/bookings/new/",
            "Choose seats from one of the journey&#x27;s seat maps.",
        ),
        ("/flights/{b}/", "flights={a}&flights={a}&count=2", "/", "A journey has 2 to 4 different flights."),
        (
            "/flights/{b}/",
            "flights={a}&flights={b}&count=2&seats_7=1A",
            "/",
            "Seats were chosen for a flight",
        ),
    ],
)
def test_bad_journey_addresses_of_the_seat_map_are_a_message(
    client, customer, route, back, path, query, landing, message
):
    client.force_login(customer)
    ids = {"a": route.midday.pk, "b": back.pk}

    response = client.get(f"{path.format(**ids)}?{query.format(**ids)}", follow=True)

    (location, status), *_ = response.redirect_chain
    assert (urlsplit(location).path, status) == (landing, 302)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Booking.objects.exists()
