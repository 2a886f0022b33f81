"""Choosing a fare family on the website: results → seat map → passengers → hold (docs/FARES.md)."""

import re
from decimal import Decimal

import pytest

from apps.bookings.models import Booking, SeatAssignment
from apps.bookings.tests.test_views import names
from apps.flights.tests.factories import flight_with_families
from apps.flights.tests.test_views import route_bom_del

pytestmark = pytest.mark.django_db


@pytest.fixture
def midday(db):
    route = route_bom_del()
    flight_with_families(
        route.midday, {"ECO_SAVER": "3900.00", "ECO_FLEX": "5400.00", "BUS_FLEX": "18500.00"}
    )
    return route.midday


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def test_the_results_compare_each_flights_families_for_all_travellers(client, midday):
    day = midday.departure_time.date().isoformat()

    page = client.get("/flights/", {"origin": "BOM", "destination": "DEL", "date": day, "travellers": 2})

    html = page.content.decode()
    table = html[html.index("data-fare-families") : html.index("</table>", html.index("data-fare-families"))]
    rows = text(table)
    assert (
        "Economy Saver Economy Cabin 7 kg, 1 × 15 kg checked Taxes only Fee ₹3,000 ₹7,800 ₹3,900 each" in rows
    )
    assert (
        "Economy Flex Economy Cabin 7 kg, 1 × 25 kg checked Refund less ₹1,500 Free ₹10,800 ₹5,400 each"
        in rows
    )
    assert (
        "Business Flex Business Cabin 10 kg, 2 × 32 kg checked Full refund Free ₹37,000 ₹18,500 each" in rows
    )
    assert f"/flights/{midday.pk}/?travellers=2&amp;fare_family=ECO_FLEX" in table
    assert html.count("data-fare-families") == 1  # the other flights sell no families


def test_the_seat_map_of_a_family_offers_its_cabin_at_its_price_and_carries_the_choice(client, midday):
    page = client.get(f"/flights/{midday.pk}/", {"travellers": 1, "fare_family": "BUS_FLEX"})

    html = page.content.decode()
    assert '<input type="hidden" name="fare_family" value="BUS_FLEX">' in html
    options = re.findall(r'<option value="(\w+)"[^>]*>[^<]*· ([^<]+)</option>', html)
    assert {code[-1] for code, _ in options} == set("ACDF")
    assert {int(code[:-1]) for code, _ in options} == {1, 2}  # the business rows only
    assert {fare for _, fare in options} == {"₹18,500"}


def test_the_passengers_page_holds_the_chosen_family(client, customer, midday):
    client.force_login(customer)
    url = f"/bookings/new/?flight={midday.pk}&seats=&seats=&fare_family=ECO_FLEX"

    page = client.get(url)
    response = client.post(url, names(2))

    assert "Economy Flex" in text(page.content.decode())
    assert "₹10,800" in text(page.content.decode())
    assert response.status_code == 302
    booking = Booking.objects.get()
    assert booking.total_amount == Decimal("10800.00")
    assert list(SeatAssignment.objects.values_list("cabin", "fare_family", "fare")) == [
        ("economy", "ECO_FLEX", Decimal("5400.00")),
        ("economy", "ECO_FLEX", Decimal("5400.00")),
    ]


def test_a_family_not_sold_on_the_flight_holds_nothing_and_says_why(client, customer, midday):
    client.force_login(customer)
    url = f"/bookings/new/?flight={midday.pk}&seats=&fare_family=FIRST_LUXE"

    response = client.post(url, names(1))

    assert response.status_code == 400  # a refused input on the passenger page, said on it
    assert "Fare family &#x27;FIRST_LUXE&#x27; is not sold on flight" in response.content.decode()
    assert not Booking.objects.exists()
