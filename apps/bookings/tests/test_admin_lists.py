"""The bookings list staff work from: found by name, reference, email or flight; its query count."""

import pytest
from django.urls import reverse

from apps.accounts.tests.factories import UserFactory
from apps.bookings.models import Booking
from apps.bookings.services import booking_hold_create
from apps.bookings.tests.factories import booking_flight, cancel_flight, hold_journey, return_flight
from apps.core.testing.admin import changelist_queries
from apps.flights.tests.factories import AirportFactory, CityFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:bookings_booking_changelist")


@pytest.fixture
def staff_browser(client, staff_user):
    client.force_login(staff_user)
    return client


def book(owner, flight, *names: str) -> Booking:
    return booking_hold_create(
        user=owner,
        flight_id=flight.pk,
        passengers=[{"first_name": name.split()[0], "last_name": name.split()[1]} for name in names],
    )


def shown(response) -> list[str]:
    return [booking.reference for booking in response.context["cl"].result_list]


@pytest.mark.parametrize("term", ["Asha Rao", "asha rao", "Rao", "asha", "Asha R", "  Asha   Rao "])
def test_a_passengers_name_finds_their_booking(staff_browser, customer, flight, term):
    theirs = book(customer, flight, "Vikram Shah", "Asha Rao")
    book(customer, flight, "Meera Iyer")

    response = staff_browser.get(CHANGELIST, {"q": term})

    assert shown(response) == [theirs.reference]


def test_a_reference_finds_its_booking_whatever_its_case(staff_browser, customer, flight):
    wanted = book(customer, flight, "Asha Rao")
    book(customer, flight, "Meera Iyer")

    response = staff_browser.get(CHANGELIST, {"q": wanted.reference.lower()})

    assert shown(response) == [wanted.reference]


def test_the_owners_email_finds_their_bookings(staff_browser, customer, other_customer, flight):
    wanted = book(customer, flight, "Asha Rao")
    book(other_customer, flight, "Meera Iyer")

    response = staff_browser.get(CHANGELIST, {"q": customer.email.upper()})

    assert shown(response) == [wanted.reference]


def test_a_route_or_flight_number_finds_the_bookings_on_it(staff_browser, customer):
    melbourne = AirportFactory(iata_code="MEL", city=CityFactory(name="Melbourne", country="AU"))
    sydney = AirportFactory(iata_code="SYD", city=CityFactory(name="Sydney", country="AU"))
    on_route = book(
        customer,
        booking_flight(flight_number="QF401", departure_airport=melbourne, arrival_airport=sydney),
        "Asha Rao",
    )
    book(customer, booking_flight(), "Meera Iyer")

    by_route = staff_browser.get(CHANGELIST, {"q": "MEL-SYD"})
    by_number = staff_browser.get(CHANGELIST, {"q": "QF401"})

    assert shown(by_route) == [on_route.reference]
    assert shown(by_number) == [on_route.reference]


def test_a_cancelled_flights_bookings_link_lists_them_all_and_only_them(
    staff_browser, customer, staff_user, flight
):
    # given a flight the airline cancelled, and a booking on another flight
    first = book(customer, flight, "Asha Rao")
    second = book(customer, flight, "Vikram Shah", "Meera Iyer")
    book(customer, booking_flight(), "Other Person")
    cancel_flight(flight, staff_user)

    # when staff follow the flight's "Bookings" link from its page
    flight_page = staff_browser.get(reverse("admin:flights_flight_change", args=[flight.pk])).content.decode()
    link = f"{CHANGELIST}?flight={flight.pk}"
    response = staff_browser.get(link)

    # then they see that flight's bookings, cancelled, and which flight the list is filtered to
    assert f'href="{link}"' in flight_page
    assert sorted(shown(response)) == sorted([first.reference, second.reference])
    assert {booking.status for booking in response.context["cl"].result_list} == {Booking.Status.CANCELLED}
    route = f"{flight.departure_airport.iata_code}→{flight.arrival_airport.iata_code}"
    assert f"{flight.flight_number} {route}" in response.content.decode()  # the filter names it


def test_the_list_shows_passengers_flight_and_local_departure(staff_browser, customer, flight):
    book(customer, flight, "Asha Rao", "Vikram Shah", "Meera Iyer")

    page = staff_browser.get(CHANGELIST).content.decode()

    assert 'title="Asha Rao, Vikram Shah, Meera Iyer">Asha Rao +2</span>' in page
    assert f"{flight.flight_number} {flight.departure_airport.iata_code}&nbsp;→&nbsp;" in page
    assert " IST</time>" in page  # the factory's airports are in India


@pytest.mark.parametrize("value", ["x", "²"])  # "²".isdigit() is true, int("²") fails
def test_a_flight_filter_that_is_not_an_id_is_refused(staff_browser, value):
    response = staff_browser.get(CHANGELIST, {"flight": value})

    assert response.status_code == 302
    assert response["Location"].endswith("?e=1")


def test_a_flight_with_no_bookings_lists_none_not_all(staff_browser, customer, flight):
    book(customer, flight, "Asha Rao")

    response = staff_browser.get(CHANGELIST, {"flight": flight.pk + 1000})

    assert shown(response) == []


def test_the_list_shows_a_journeys_whole_route(staff_browser, customer, flight):
    back = return_flight(flight)
    onward = return_flight(back)
    hold_journey(customer, [flight, back, onward])

    page = staff_browser.get(CHANGELIST).content.decode()

    origin, destination = flight.departure_airport.iata_code, flight.arrival_airport.iata_code
    numbers = ", ".join(f.flight_number for f in (flight, back, onward))
    assert (
        f'<span title="{numbers}">{flight.flight_number} +2 {origin} → {destination} → {origin} → '
        f"{destination}</span>"
    ) in page


def test_a_journey_is_found_by_its_later_flight_its_route_and_that_flights_bookings_link(
    staff_browser, customer, flight
):
    back = return_flight(flight, flight_number="AI806")
    journey = hold_journey(customer, [flight, back])
    one_way_back = book(customer, back, "Meera Iyer")
    book(customer, booking_flight(), "Other Person")
    back_route = f"{back.departure_airport.iata_code}-{back.arrival_airport.iata_code}"

    by_link = staff_browser.get(CHANGELIST, {"flight": back.pk})
    by_number = staff_browser.get(CHANGELIST, {"q": "AI806"})
    by_route = staff_browser.get(CHANGELIST, {"q": back_route})

    expected = sorted([journey.reference, one_way_back.reference])
    assert sorted(shown(by_link)) == expected
    assert sorted(shown(by_number)) == expected
    assert sorted(shown(by_route)) == expected


def test_the_booking_page_shows_each_flight_with_local_times_and_seats(staff_browser, customer, flight):
    back = return_flight(flight, flight_number="AI806")
    booking = hold_journey(customer, [flight, back], count=2)
    seats = {
        (seat.segment, seat.passenger.position): seat.seat_code
        for seat in booking.seat_assignments.select_related("passenger")
    }

    page = staff_browser.get(reverse("admin:bookings_booking_change", args=[booking.pk])).content.decode()

    table = page[
        page.index('<table class="journey">') : page.index("</table>", page.index('<table class="journey">'))
    ]
    assert table.count("<tr><td>") == 2
    assert f">{flight.flight_number}</a>" in table
    assert ">AI806</a>" in table
    assert f"{back.departure_airport.iata_code}&nbsp;→&nbsp;{back.arrival_airport.iata_code}" in table
    assert table.count(" IST</time>") == 4  # departure and arrival of each, local (the factory's India)
    assert f"Pax1 Traveller {seats[(1, 1)]}, Pax2 Traveller {seats[(1, 2)]}" in table
    assert f"Pax1 Traveller {seats[(2, 1)]}, Pax2 Traveller {seats[(2, 2)]}" in table


def _bookings(count: int, flight, back=None) -> None:
    for index in range(count):
        book(UserFactory(), flight, f"Asha Rao{index}", f"Vikram Shah{index}")
        if back is not None:  # and a return trip on the same flights
            booking_hold_create(
                user=UserFactory(),
                passengers=[{"first_name": f"Asha{index}", "last_name": "Rao"}],
                segments=[{"flight_id": flight.pk}, {"flight_id": back.pk}],
            )


@pytest.mark.parametrize("params", [{}, {"q": "Asha Rao"}, {"q": "asha"}, {"status": "held"}])
def test_the_bookings_list_costs_the_same_queries_for_3_rows_as_for_30(staff_browser, params):
    flights = [booking_flight() for _ in range(3)]
    backs = [return_flight(flight) for flight in flights]
    for flight, back in zip(flights, backs, strict=True):
        _bookings(1, flight, back)
    few = changelist_queries(staff_browser, CHANGELIST, params)
    for flight, back in zip(flights, backs, strict=True):
        _bookings(9, flight, back)

    many = changelist_queries(staff_browser, CHANGELIST, params)

    assert len(staff_browser.get(CHANGELIST, params).context["cl"].result_list) == 50
    assert len(many) == len(few), "\n".join(many)
    assert len(many) <= 14, "\n".join(many)
