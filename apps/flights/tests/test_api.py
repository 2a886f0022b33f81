from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.tests.factories import with_permissions
from apps.flights.models import Airplane, Flight
from apps.flights.tests.factories import AirplaneFactory, AirportFactory, CityFactory, FlightFactory
from conftest import authenticated_client

pytestmark = pytest.mark.django_db

LAYOUT = [
    {"cabin": "business", "first_row": 1, "last_row": 2, "seat_letters": "ACDF"},
    {"cabin": "economy", "first_row": 3, "last_row": 30, "seat_letters": "ABCDEF"},
]


def problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == code
    return body


def new_flight_body(airplane: Airplane, **overrides) -> dict:
    departure = timezone.now().replace(microsecond=0) + timedelta(days=3)
    body = {
        "flight_number": "AI202",
        "airplane_id": airplane.pk,
        "departure_airport": "BOM",
        "arrival_airport": "DEL",
        "departure_time": departure.isoformat(),
        "arrival_time": (departure + timedelta(hours=2)).isoformat(),
        "base_fare": "4999.00",
    }
    body.update(overrides)
    return body


# --- Cities and airports -------------------------------------------------------------------------


def test_cities_are_listed_by_name(api_client):
    CityFactory(name="Mumbai")
    CityFactory(name="Delhi")

    body = api_client.get("/api/v1/cities").json()

    assert [city["name"] for city in body["results"]] == ["Delhi", "Mumbai"]
    assert body["count"] == 2


def test_airport_autocomplete_matches_prefixes_of_code_name_and_city(api_client, bom, delhi, jfk):
    AirportFactory(iata_code="BLR", name="Kempegowda", city=CityFactory(name="Bengaluru"))

    def codes(q: str) -> list[str]:
        response = api_client.get("/api/v1/airports", {"q": q})
        assert response.status_code == 200
        return [airport["code"] for airport in response.json()["results"]]

    assert codes("bom") == ["BOM"]
    assert codes("Mum") == ["BOM"]
    assert codes("john") == ["JFK"]
    assert codes("new y") == ["JFK"]
    assert codes("b") == ["BLR", "BOM"]  # code B…, city Bengaluru
    assert codes("umbai") == []
    assert codes("") == ["BLR", "BOM", "DEL", "JFK"]


def test_an_exact_airport_code_comes_first(api_client):
    AirportFactory(iata_code="DEA", name="Delhi Alternate", city=CityFactory(name="Dea"))
    AirportFactory(iata_code="DEL", name="Delhi", city=CityFactory(name="Delhi"))

    results = api_client.get("/api/v1/airports", {"q": "del"}).json()["results"]

    assert [airport["code"] for airport in results] == ["DEL", "DEA"]


def test_airport_query_too_long_is_a_400_naming_q(api_client):
    body = problem(api_client.get("/api/v1/airports", {"q": "x" * 101}), 400, "validation_error")
    assert list(body["errors"]) == ["q"]


# --- Airplanes -----------------------------------------------------------------------------------


def test_anyone_reads_airplanes_with_their_layout(api_client):
    airplane = AirplaneFactory(layout__rows=10, layout__business_rows=2)

    listed = api_client.get("/api/v1/airplanes").json()["results"]
    detail = api_client.get(f"/api/v1/airplanes/{airplane.pk}").json()

    assert listed == [detail]
    assert detail["capacity"] == 56
    assert detail["cabin_sections"] == [
        {"cabin": "business", "first_row": 1, "last_row": 2, "seat_letters": "ACDF", "seats": 8},
        {"cabin": "economy", "first_row": 3, "last_row": 10, "seat_letters": "ABCDEF", "seats": 48},
    ]


def test_staff_create_an_airplane(staff_client):
    response = staff_client.post(
        "/api/v1/airplanes",
        {"model_name": "Airbus A321neo", "registration": "VT-NXZ", "cabin_sections": LAYOUT},
        format="json",
    )

    assert response.status_code == 201, response.content
    assert response.json()["capacity"] == 8 + 28 * 6
    assert Airplane.objects.get(registration="VT-NXZ").capacity == 176


def test_airplane_validation_names_the_field(staff_client):
    response = staff_client.post(
        "/api/v1/airplanes",
        {"model_name": "X", "registration": "VT-NXZ", "cabin_sections": [{**LAYOUT[1], "last_row": 1}]},
        format="json",
    )

    body = problem(response, 400, "validation_error")
    assert list(body["errors"]) == ["cabin_sections.0.last_row"]
    assert not Airplane.objects.exists()


@pytest.mark.parametrize(
    ("client_fixture", "status", "code"),
    [
        ("api_client", 401, "not_authenticated"),
        ("customer_client", 403, "permission_denied"),
        ("bare_staff_client", 403, "permission_denied"),
    ],
)
def test_only_staff_with_the_permissions_write_airplanes(request, client_fixture, status, code):
    client = request.getfixturevalue(client_fixture)
    airplane = AirplaneFactory(model_name="A320")

    created = client.post(
        "/api/v1/airplanes",
        {"model_name": "A320", "registration": "VT-NEW", "cabin_sections": LAYOUT},
        format="json",
    )
    patched = client.patch(f"/api/v1/airplanes/{airplane.pk}", {"model_name": "B737"}, format="json")
    deleted = client.delete(f"/api/v1/airplanes/{airplane.pk}")

    for response in (created, patched, deleted):
        problem(response, status, code)
    assert list(Airplane.objects.values_list("model_name", flat=True)) == ["A320"]


def test_staff_change_an_airplane_but_may_not_delete_it(staff_client):
    # given an airplane, and the staff group, which grants change_airplane and no delete_airplane
    airplane = AirplaneFactory(layout__rows=5)

    # when a member of the group changes it, then deletes it
    patched = staff_client.patch(
        f"/api/v1/airplanes/{airplane.pk}", {"model_name": "A321neo", "cabin_sections": LAYOUT}, format="json"
    )
    deleted = staff_client.delete(f"/api/v1/airplanes/{airplane.pk}")

    # then the change is made and the delete refused, as in the admin
    assert patched.status_code == 200
    assert patched.json()["capacity"] == 176
    problem(deleted, 403, "permission_denied")
    assert list(Airplane.objects.values_list("pk", "model_name")) == [(airplane.pk, "A321neo")]


@pytest.mark.parametrize("deleter", ["admin", "staff granted delete_airplane"])
def test_an_airplane_is_deleted_by_whoever_holds_delete_airplane(admin_user, bare_staff_user, deleter):
    # given an airplane, and a superuser or a staff user holding only flights.delete_airplane
    airplane = AirplaneFactory(layout__rows=5)
    user = admin_user if deleter == "admin" else with_permissions(bare_staff_user, "flights.delete_airplane")

    # when they delete it
    response = authenticated_client(user).delete(f"/api/v1/airplanes/{airplane.pk}")

    # then it is gone
    assert response.status_code == 204
    assert not Airplane.objects.exists()


def test_an_airplane_in_service_keeps_its_layout(staff_client):
    flight = FlightFactory()

    response = staff_client.patch(
        f"/api/v1/airplanes/{flight.airplane_id}", {"cabin_sections": LAYOUT}, format="json"
    )

    problem(response, 409, "airplane_in_service")
    assert Airplane.objects.get(pk=flight.airplane_id).capacity == 180


def test_unknown_airplane_is_a_404(api_client):
    problem(api_client.get("/api/v1/airplanes/999999"), 404, "airplane_not_found")


# --- Flights -------------------------------------------------------------------------------------


def test_staff_schedule_a_flight_whose_seats_come_from_the_airplane(staff_client, bom, delhi):
    airplane = AirplaneFactory(layout__rows=30, layout__business_rows=2)

    response = staff_client.post(
        "/api/v1/flights", new_flight_body(airplane, business_fare="15000.00", gate="b12"), format="json"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["total_seats"] == body["available_seats"] == airplane.capacity == 8 + 28 * 6
    assert body["fares"] == {"business": "15000.00", "economy": "4999.00"}
    assert body["gate"] == "B12"
    assert Flight.objects.get(pk=body["id"]).total_seats == 176


@pytest.mark.parametrize(
    ("client_fixture", "status", "code"),
    [
        ("api_client", 401, "not_authenticated"),
        ("customer_client", 403, "permission_denied"),
        ("bare_staff_client", 403, "permission_denied"),
    ],
)
def test_only_staff_with_the_permissions_write_flights(request, client_fixture, status, code, bom, delhi):
    client = request.getfixturevalue(client_fixture)
    flight = FlightFactory(departure_airport=bom, arrival_airport=delhi, gate="A1")

    created = client.post("/api/v1/flights", new_flight_body(AirplaneFactory()), format="json")
    patched = client.patch(f"/api/v1/flights/{flight.pk}", {"gate": "Z9"}, format="json")
    deleted = client.delete(f"/api/v1/flights/{flight.pk}")

    for response in (created, patched, deleted):
        problem(response, status, code)
    assert list(Flight.objects.values_list("pk", "gate")) == [(flight.pk, "A1")]


@pytest.mark.parametrize(
    ("overrides", "error_key"),
    [
        ({"arrival_airport": "BOM"}, "arrival_airport"),
        ({"base_fare": "-10.00"}, "base_fare"),
        ({"base_fare": "abc"}, "base_fare"),
        ({"departure_time": "not a time"}, "departure_time"),
        ({"arrival_time": "2000-01-01T00:00:00Z"}, "arrival_time"),
        ({"business_fare": "1000.00"}, "business_fare"),
        ({"airplane_id": 987654}, "airplane_id"),
        ({"available_seats": 5}, "available_seats"),
        ({"total_seats": 500}, "total_seats"),
        ({"flight_number": None}, "flight_number"),
    ],
)
def test_flight_validation_is_a_400_naming_the_field(staff_client, bom, delhi, overrides, error_key):
    response = staff_client.post(
        "/api/v1/flights", new_flight_body(AirplaneFactory(), **overrides), format="json"
    )

    body = problem(response, 400, "validation_error")
    assert list(body["errors"]) == [error_key]
    assert not Flight.objects.exists()


def test_available_seats_cannot_be_patched(staff_client, bom, delhi):
    flight = FlightFactory(departure_airport=bom, arrival_airport=delhi)

    response = staff_client.patch(
        f"/api/v1/flights/{flight.pk}", {"available_seats": 1, "gate": "C1"}, format="json"
    )

    body = problem(response, 400, "validation_error")
    assert list(body["errors"]) == ["available_seats"]
    flight.refresh_from_db()
    assert (flight.available_seats, flight.gate) == (180, "A12")


def test_staff_patch_a_flight_but_may_not_delete_it(staff_client, bom, delhi):
    # given a flight, and the staff group, which grants change_flight and no delete_flight
    flight = FlightFactory(departure_airport=bom, arrival_airport=delhi, business_fare=None)

    # when a member of the group changes it, then deletes it
    patched = staff_client.patch(
        f"/api/v1/flights/{flight.pk}", {"gate": "C1", "base_fare": "3999.50"}, format="json"
    )
    deleted = staff_client.delete(f"/api/v1/flights/{flight.pk}")

    # then the change is made and the delete refused, as in the admin
    assert patched.status_code == 200, patched.content
    assert (patched.json()["gate"], patched.json()["base_fare"]) == ("C1", "3999.50")
    problem(deleted, 403, "permission_denied")
    assert list(Flight.objects.values_list("pk", "gate")) == [(flight.pk, "C1")]


def test_the_admin_deletes_a_flight(admin_client_api, bom, delhi):
    flight = FlightFactory(departure_airport=bom, arrival_airport=delhi, business_fare=None)

    deleted = admin_client_api.delete(f"/api/v1/flights/{flight.pk}")

    assert deleted.status_code == 204
    assert not Flight.objects.exists()


def test_the_airplane_of_a_booked_flight_cannot_change_through_the_api(staff_client, bom, delhi):
    flight = FlightFactory(departure_airport=bom, arrival_airport=delhi, business_fare=None)
    Flight.objects.filter(pk=flight.pk).update(available_seats=flight.total_seats - 3)
    other = AirplaneFactory(layout__rows=40)

    response = staff_client.patch(f"/api/v1/flights/{flight.pk}", {"airplane_id": other.pk}, format="json")

    problem(response, 409, "flight_has_bookings")
    assert Flight.objects.get(pk=flight.pk).airplane_id == flight.airplane_id


def test_flight_detail_and_unknown_flight(api_client, bom, delhi):
    flight = FlightFactory(departure_airport=bom, arrival_airport=delhi, status=Flight.Status.CANCELLED)

    detail = api_client.get(f"/api/v1/flights/{flight.pk}")

    assert detail.status_code == 200
    assert detail.json()["status"] == "cancelled"
    assert detail.json()["departure_airport"]["code"] == "BOM"
    problem(api_client.get("/api/v1/flights/999999"), 404, "flight_not_found")
