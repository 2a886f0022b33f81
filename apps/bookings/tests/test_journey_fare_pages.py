"""Fare families on the website's journeys, and infants carried through every link (docs/FARES.md,
"Choosing a family"; docs/PASSENGERS.md): the journey results compare each flight's families as
choices of its segment, the choice travels in the journey's address (`family_<n>`), the passenger page
shows each flight's family, its rules and the total with the infants, the seat map offers the family's
cabin only, and the hold is made in each flight's family. The one-way pages keep `infants` too."""

import re
import uuid
from datetime import timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest

from apps.bookings.models import Booking, InfantFare, SeatAssignment
from apps.bookings.services.holds import travel_date
from apps.bookings.tests.factories import return_flight
from apps.bookings.tests.test_views import names
from apps.flights.models import Flight
from apps.flights.tests.factories import flight_with_families
from apps.flights.tests.test_views import Route, route_bom_del

pytestmark = pytest.mark.django_db


@pytest.fixture
def route(db) -> Route:
    """AI205 (Mumbai 09:30 → Delhi) sells Economy Saver ₹3,900, Economy Flex ₹5,400 and Business Flex
    ₹18,500; the other two Mumbai → Delhi flights sell no families."""
    route = route_bom_del()
    flight_with_families(
        route.midday, {"ECO_SAVER": "3900.00", "ECO_FLEX": "5400.00", "BUS_FLEX": "18500.00"}
    )
    return route


@pytest.fixture
def back(route) -> Flight:
    """AI806, Delhi 14:35 → Mumbai, economy only (20 rows A–F): Economy Saver ₹4,500, Economy Flex ₹6,100."""
    flight = return_flight(route.midday, flight_number="AI806")
    return flight_with_families(flight, {"ECO_SAVER": "4500.00", "ECO_FLEX": "6100.00"})


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query, keep_blank_values=True)


def journey_url(path: str, *flights: Flight, count: int = 1, **extra: str) -> str:
    query = "".join(f"flights={flight.pk}&" for flight in flights) + f"count={count}"
    return f"{path}?{query}" + "".join(f"&{name}={value}" for name, value in extra.items())


def segment_html(html: str, number: int) -> str:
    """The passenger page's block of flight `number`."""
    blocks = html.split('data-testid="journey-flight"')
    return blocks[number].split("</section>")[0]


def adult_and_infant(flight: Flight) -> dict[str, str]:
    """The passenger page as the browser posts it: an adult, and an infant of ten months on their lap."""
    travel = travel_date(Flight.objects.select_related("departure_airport").get(pk=flight.pk))
    return {
        "idempotency_key": uuid.uuid4().hex,
        "passenger-TOTAL_FORMS": "2",
        "passenger-INITIAL_FORMS": "0",
        "passenger-MIN_NUM_FORMS": "2",
        "passenger-MAX_NUM_FORMS": "2",
        "passenger-0-first_name": "Asha",
        "passenger-0-last_name": "Rao",
        "passenger-0-type": "adult",
        "passenger-1-first_name": "Mira",
        "passenger-1-last_name": "Rao",
        "passenger-1-type": "infant",
        "passenger-1-date_of_birth": (travel - timedelta(days=300)).isoformat(),
        "passenger-1-travelling_with": "1",
    }


def available(flight: Flight) -> int:
    return Flight.objects.get(pk=flight.pk).available_seats


# --- The journey results ------------------------------------------------------------------------


def test_the_return_results_compare_each_flights_families_as_choices_of_its_segment(client, route, back):
    # when a return for two is searched
    response = client.get(
        "/flights/",
        {
            "trip": "return",
            "origin": "BOM",
            "destination": "DEL",
            "date": route.day.isoformat(),
            "return_date": route.day.isoformat(),
            "travellers": "2",
        },
    )

    # then each flight selling families is chosen in one of them, in its segment's radio group, the
    # default flights' cheapest family chosen; a flight selling none keeps its own radio button
    html = response.content.decode()
    found = re.findall(r'<input type="radio" name="(flight_\d)" value="([^"]+)"([^>]*)>', html)
    radios = [(name, value, " checked" if " checked" in rest else "") for name, value, rest in found]
    assert radios == [
        ("flight_1", str(route.early.pk), ""),
        ("flight_1", f"{route.midday.pk}-ECO_SAVER", " checked"),
        ("flight_1", f"{route.midday.pk}-ECO_FLEX", ""),
        ("flight_1", f"{route.midday.pk}-BUS_FLEX", ""),
        ("flight_1", str(route.evening.pk), ""),
        ("flight_2", f"{back.pk}-ECO_SAVER", " checked"),
        ("flight_2", f"{back.pk}-ECO_FLEX", ""),
    ]
    # and each comparison is the one-way results' (templates/flights/_fare_families.html)
    tables = [text(table) for table in re.findall(r"<table class=\"fare-families\".*?</table>", html, re.S)]
    assert len(tables) == 2
    assert tables[0].startswith("Fares on AI205 at 09:30, for 2 travellers, taxes included")
    assert (
        "Economy Flex Economy Cabin 7 kg, 1 × 25 kg checked Refund less ₹1,500 Free ₹10,800 ₹5,400 each"
        in (tables[0])
    )
    assert "Business Flex Business Cabin 10 kg, 2 × 32 kg checked Full refund Free ₹37,000" in tables[0]
    assert tables[1].startswith("Fares on AI806 at 14:35")
    assert (
        "Economy Saver Economy Cabin 7 kg, 1 × 15 kg checked Taxes only Fee ₹3,000 ₹9,000 ₹4,500 each"
        in (tables[1])
    )
    assert 'aria-describedby="clash-1-' not in html  # no flight of segment 1 clashes with nothing before it


def test_continue_carries_each_segments_family_into_the_journeys_address(client, route, back):
    response = client.get(
        "/flights/journey/continue/",
        {"flight_1": f"{route.midday.pk}-ECO_FLEX", "flight_2": f"{back.pk}-ECO_SAVER", "count": "2"},
    )

    assert response.status_code == 302
    assert urlsplit(response["Location"]).path == "/bookings/new/"
    assert query_of(response["Location"]) == {
        "flights": [str(route.midday.pk), str(back.pk)],
        "count": ["2"],
        "family_1": ["ECO_FLEX"],
        "family_2": ["ECO_SAVER"],
    }


@pytest.mark.parametrize("value", ["{a}-ECO FLEX", "{a}-<b>", "{a}-", "ECO_FLEX", "{a}-ECO-FLEX"])
def test_continue_refuses_a_family_choice_the_results_never_send(client, route, back, value):
    response = client.get(
        "/flights/journey/continue/",
        {"flight_1": value.format(a=route.midday.pk), "flight_2": back.pk, "count": "1"},
    )

    assert response.status_code == 400
    assert response.content.decode() == "Choose one flight for each part of the trip."


# --- The passenger page and the hold ------------------------------------------------------------


def test_the_passenger_page_shows_each_flights_family_its_rules_and_the_total_with_the_infant(
    client, customer, route, back
):
    client.force_login(customer)

    response = client.get(
        journey_url(
            "/bookings/new/", route.midday, back, infants="1", family_1="ECO_FLEX", family_2="ECO_SAVER"
        )
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert len(response.context["formset"].forms) == 2  # the adult and the infant
    first, second = text(segment_html(html, 1)), text(segment_html(html, 2))
    assert (
        "Fare Economy Flex Bags Cabin 7 kg, 1 × 25 kg checked Refund Refund less ₹1,500 Change Free "
        "1 × any economy seat ₹5,400 each Infant 1 on a lap ₹540"
    ) in first
    assert (
        "Fare Economy Saver Bags Cabin 7 kg, 1 × 15 kg checked Refund Taxes only Change Fee ₹3,000 "
        "1 × any economy seat ₹4,500 each Infant 1 on a lap ₹450"
    ) in second
    assert "Total ₹10,890" in text(html)  # 5,400 + 540 out, 4,500 + 450 back
    assert "each infant on a lap at its share of its adult's fare" in html
    # and every way off the page keeps the families and the infant
    links = re.findall(r'href="([^"]*/flights/\d+/[^"]*)"', html)
    assert [urlsplit(link.replace("&amp;", "&")).path for link in links] == [
        f"/flights/{route.midday.pk}/",
        f"/flights/{route.midday.pk}/fares/",
        f"/flights/{back.pk}/",
        f"/flights/{back.pk}/fares/",
    ]
    for link in links:
        assert query_of(link.replace("&amp;", "&")) == {
            "flights": [str(route.midday.pk), str(back.pk)],
            "count": ["1"],
            "infants": ["1"],
            "family_1": ["ECO_FLEX"],
            "family_2": ["ECO_SAVER"],
        }


def test_the_hold_takes_each_flights_family_and_prices_the_infant_in_it(client, customer, route, back):
    # given the passenger page of Flex out and Saver back, for an adult with an infant on their lap
    client.force_login(customer)
    url = journey_url(
        "/bookings/new/", route.midday, back, infants="1", family_1="ECO_FLEX", family_2="ECO_SAVER"
    )

    response = client.post(url, adult_and_infant(route.midday))

    # then the seats are held in each flight's family and cabin, the infant pays its share of each
    booking = Booking.objects.get(owner=customer)
    assert response["Location"] == f"/bookings/{booking.reference}/pay/"
    assert list(
        SeatAssignment.objects.filter(booking=booking)
        .order_by("segment")
        .values_list("segment", "fare_family", "cabin", "fare")
    ) == [(1, "ECO_FLEX", "economy", Decimal("5400.00")), (2, "ECO_SAVER", "economy", Decimal("4500.00"))]
    assert list(InfantFare.objects.order_by("segment").values_list("segment", "fare")) == [
        (1, Decimal("540.00")),
        (2, Decimal("450.00")),
    ]
    assert booking.total_amount == Decimal("10890.00")  # what the passenger page said
    assert available(route.midday) == 67
    assert available(back) == 119


def test_a_business_family_seats_every_traveller_in_business_on_its_flight_only(
    client, customer, route, back
):
    client.force_login(customer)
    url = journey_url("/bookings/new/", route.midday, back, count=2, family_1="BUS_FLEX", seats_2="7C,7D")

    page = client.get(url)
    response = client.post(url, names(2))

    assert "Total ₹46,000" in text(
        page.content.decode()
    )  # 18,500 × 2 + 4,500 × 2 (seats at their cabin's fare)
    booking = Booking.objects.get(owner=customer)
    assert response["Location"] == f"/bookings/{booking.reference}/pay/"
    seats = list(
        SeatAssignment.objects.filter(booking=booking)
        .order_by("segment", "seat_code")
        .values_list("segment", "fare_family", "cabin", "seat_code")
    )
    assert [row[:3] for row in seats] == [
        (1, "BUS_FLEX", "business"),
        (1, "BUS_FLEX", "business"),
        (2, "ECO_SAVER", "economy"),
        (2, "ECO_SAVER", "economy"),
    ]
    assert all(int(code[:-1]) <= 2 for _, _, _, code in seats[:2])  # business is rows 1–2
    assert [code for _, _, _, code in seats[2:]] == ["7C", "7D"]
    assert booking.total_amount == Decimal("46000.00")


@pytest.mark.parametrize(
    ("family", "message"),
    [
        ("BUS_FLEX", "Flight 2 (AI806) does not sell the fare BUS_FLEX: choose one of its fares."),
        ("FIRST_LUXE", "Flight 2 (AI806) does not sell the fare FIRST_LUXE: choose one of its fares."),
    ],
)
def test_a_family_the_flight_does_not_sell_is_said_on_its_fares_page_and_nothing_is_held(
    client, customer, route, back, family, message
):
    client.force_login(customer)
    url = journey_url(
        "/bookings/new/", route.midday, back, infants="1", family_1="ECO_FLEX", family_2=family, seats_1="4A"
    )

    shown = client.get(url, follow=True)
    sent = client.post(url, adult_and_infant(route.midday), follow=True)
    seat_map = client.get(url.replace("/bookings/new/", f"/flights/{back.pk}/"), follow=True)

    for response in (shown, sent, seat_map):
        location, status = response.redirect_chain[-1]
        assert response.status_code == 200
        assert (urlsplit(location).path, status) == (f"/flights/{back.pk}/fares/", 302)
        assert query_of(location) == {  # flight 2's family dropped; flight 1's choices and the infant kept
            "flights": [str(route.midday.pk), str(back.pk)],
            "count": ["1"],
            "infants": ["1"],
            "family_1": ["ECO_FLEX"],
            "seats_1": ["4A"],
        }
        assert message in response.content.decode()
        assert response.context["choices"]  # the fares it does sell, to choose from
    assert not Booking.objects.exists()
    assert available(route.midday) == 68
    assert available(back) == 120


def test_seats_outside_the_familys_cabin_are_a_message_at_that_flights_seat_map(
    client, customer, route, back
):
    client.force_login(customer)
    url = journey_url("/bookings/new/", route.midday, back, count=2, family_1="BUS_FLEX", seats_1="5A,5B")

    shown = client.get(url, follow=True)
    sent = client.post(url, names(2), follow=True)

    for response in (shown, sent):
        (location, status), *_ = response.redirect_chain
        assert (urlsplit(location).path, status) == (f"/flights/{route.midday.pk}/", 302)
        assert query_of(location)["family_1"] == ["BUS_FLEX"]
        assert "Flight 1 (AI205): The fare chosen sells business seats only: not 5A, 5B." in (
            response.content.decode()
        )
    assert not Booking.objects.exists()
    assert available(route.midday) == 68


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"family_1": "eco flex"}, "A fare was chosen that is not one we sell. Please search again."),
        ({"family_3": "ECO_FLEX"}, "A fare was chosen for a flight that is not in this journey."),
        ({"infants": "2"}, "A journey has at most one infant per traveller"),
    ],
)
def test_junk_in_the_passenger_pages_address_is_a_message_not_a_500(
    client, customer, route, back, extra, message
):
    client.force_login(customer)

    response = client.get(journey_url("/bookings/new/", route.midday, back, **extra), follow=True)

    assert response.redirect_chain == [("/", 302)]
    assert message in response.content.decode()


def test_a_journey_of_one_flight_is_the_one_way_page_in_its_family(client, customer, route):
    client.force_login(customer)

    page = client.get(f"/bookings/new/?flights={route.midday.pk}&count=2&family_1=ECO_FLEX")

    assert page.context["fare_family"].family.code == "ECO_FLEX"
    assert "Total ₹10,800" in text(page.content.decode())


# --- The seat map and the fares page in journey mode ---------------------------------------------


def test_the_journey_seat_map_of_a_family_offers_its_cabin_at_its_price_and_carries_the_rest(
    client, route, back
):
    response = client.get(
        journey_url(
            f"/flights/{route.midday.pk}/",
            route.midday,
            back,
            infants="1",
            family_1="BUS_FLEX",
            family_2="ECO_FLEX",
        )
    )

    html = response.content.decode()
    options = re.findall(r'<option value="(\w+)"[^>]*>[^<]*· ([^<]+)</option>', html)
    assert {int(code[:-1]) for code, _ in options} == {1, 2}  # the business rows only
    assert {fare for _, fare in options} == {"₹18,500"}
    assert (
        "Business Flex</strong>: business seats at ₹18,500 each, ₹20,350 for 1 traveller and 1 infant" in html
    )
    assert response.context["journey"]["hidden"] == [
        ("flights", route.midday.pk),
        ("flights", back.pk),
        ("count", 1),
        ("infants", 1),
        ("family_1", "BUS_FLEX"),
        ("family_2", "ECO_FLEX"),
        ("segment", 1),
    ]
    assert query_of(response.context["journey"]["back_url"])["infants"] == ["1"]
    assert urlsplit(response.context["journey"]["fares_url"]).path == f"/flights/{route.midday.pk}/fares/"


def test_the_seat_maps_answer_keeps_the_families_and_the_infants(client, route, back):
    url = journey_url(
        "/flights/journey/seats/", route.midday, back, infants="1", family_1="BUS_FLEX", family_2="ECO_FLEX"
    )

    response = client.get(f"{url}&segment=1&seats=2C")

    assert query_of(response["Location"]) == {
        "flights": [str(route.midday.pk), str(back.pk)],
        "count": ["1"],
        "infants": ["1"],
        "family_1": ["BUS_FLEX"],
        "family_2": ["ECO_FLEX"],
        "seats_1": ["2C"],
    }


def test_the_fares_page_changes_one_flights_family_and_keeps_the_other_flights_choices(client, route, back):
    # given a journey with Saver out (seat 4A) and Flex back (seat 7C), for an adult with an infant
    url = journey_url(
        f"/flights/{back.pk}/fares/",
        route.midday,
        back,
        infants="1",
        family_1="ECO_SAVER",
        family_2="ECO_FLEX",
        seats_1="4A",
        seats_2="7C",
    )

    response = client.get(url)

    # then flight 2's fares are compared for the traveller and the infant, Flex marked as the fare held
    html = response.content.decode()
    table = text(re.search(r"<table class=\"fare-families\".*?</table>", html, re.S).group(0))
    assert table.startswith("Fares on AI806 at 14:35, for 1 traveller and 1 infant on a lap, taxes included")
    assert "Economy Saver Economy Cabin 7 kg, 1 × 15 kg checked Taxes only Fee ₹3,000 ₹4,950" in table
    assert "₹4,500 each, an infant ₹450 Choose" in table
    assert "Economy Flex Economy Cabin 7 kg, 1 × 25 kg checked Refund less ₹1,500 Free ₹6,710" in table
    assert "Your fare" in table
    # and choosing Saver leads back to the passenger page with only flight 2's family (and seats) changed
    (choose,) = [choice.url for choice in response.context["choices"] if not choice.chosen]
    assert f'href="{choose.replace("&", "&amp;")}"' in html
    assert urlsplit(choose).path == "/bookings/new/"
    assert query_of(choose) == {
        "flights": [str(route.midday.pk), str(back.pk)],
        "count": ["1"],
        "infants": ["1"],
        "family_1": ["ECO_SAVER"],
        "family_2": ["ECO_SAVER"],
        "seats_1": ["4A"],
    }


def test_the_fares_page_without_a_journey_is_the_flights_seat_map(client, route):
    response = client.get(f"/flights/{route.midday.pk}/fares/")

    assert response.status_code == 302
    assert response["Location"] == f"/flights/{route.midday.pk}/"


def test_the_fares_page_of_a_flight_not_in_the_journey_is_a_message(client, route, back):
    response = client.get(journey_url(f"/flights/{route.early.pk}/fares/", route.midday, back), follow=True)

    assert response.redirect_chain == [("/", 302)]
    assert "This flight is not part of the journey." in response.content.decode()


def test_adding_an_infant_on_the_journey_page_keeps_the_families(client, customer, route, back):
    client.force_login(customer)

    page = client.get(
        journey_url("/bookings/new/", route.midday, back, family_1="ECO_FLEX", family_2="ECO_SAVER")
    )

    add = page.context["add_infant_url"]
    assert query_of(add) == {
        "flights": [str(route.midday.pk), str(back.pk)],
        "count": ["1"],
        "family_1": ["ECO_FLEX"],
        "family_2": ["ECO_SAVER"],
        "infants": ["1"],
    }


# --- Infants on the one-way pages ------------------------------------------------------------------


def test_the_one_way_seat_map_and_passenger_page_keep_the_infant_both_ways(client, customer, route):
    # given the one-way passenger page of Economy Flex, seat 4A, with an infant added
    client.force_login(customer)
    page = client.get(f"/bookings/new/?flight={route.midday.pk}&seats=4A&fare_family=ECO_FLEX&infants=1")

    # then its total counts the infant at Flex's share, and "Change seats" carries the infant
    html = page.content.decode()
    assert "Infant 1 on a lap ₹540" in text(html)
    assert "Total ₹5,940" in text(html)
    change = page.context["seat_map_url"]
    assert query_of(change) == {
        "travellers": ["1"],
        "seats": ["4A"],
        "fare_family": ["ECO_FLEX"],
        "infants": ["1"],
    }

    # when the seat map is opened from it, its form sends the infant back with the new seat
    seat_map = client.get(change).content.decode()
    assert '<input type="hidden" name="infants" value="1">' in seat_map
    assert "₹5,940 for 1 traveller and 1 infant on a lap (₹540 each)" in seat_map
    back_again = client.get(
        f"/bookings/new/?flight={route.midday.pk}&fare_family=ECO_FLEX&infants=1&seats=5A"
    )
    assert len(back_again.context["formset"].forms) == 2
    assert back_again.context["formset"].forms[1].initial == {"type": "infant", "travelling_with": 1}


def test_the_one_way_page_without_a_family_prices_the_infant_at_its_seats_cabin(client, customer, route):
    client.force_login(customer)

    page = client.get(f"/bookings/new/?flight={route.early.pk}&seats=4A&infants=1")

    assert "Infant 1 on a lap ₹520" in text(page.content.decode())  # 10 % of AI101's ₹5,200
    assert "Total ₹5,720" in text(page.content.decode())
