"""Who may do what on the API: every route under /api/v1/ × every method its view allows × each role.

The routes come from the URL conf, so a new endpoint (or a new method on one) fails
`test_every_api_route_and_method_has_an_entry` until MATRIX says who may call it. Each case runs
against fresh objects, with a valid body and its own Idempotency-Key, so the status is the
authorization answer and not a validation error. A refusal must leave everything as it was; a 403 is
`permission_denied`.

The roles: anonymous; `owner` (every booking and payment is theirs) and `other`, customers; `staff`,
in the "Airline staff" group, with what the group grants (apps/accounts/roles.py: STAFF_PERMISSIONS);
`bare_staff`, `is_staff` without a group and so without any permission, who may do what a customer
may; `admin`, a superuser.

OPTIONS (DRF's metadata, the same for everyone) and HEAD (GET without a body) are left out.

Staff pages in the admin outside the ModelAdmins (the flight operations page, the sales dashboard) have
a matrix of their own, STAFF_PAGES, checked against their URL namespaces the same way.

The same walk feeds malformed bodies to every route and method that takes one, as a caller who may
call it: each must be a 4xx problem that changes nothing and claims no Idempotency-Key.
"""

import json
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django.utils.http import urlencode
from rest_framework.test import APIClient

from apps.accounts.models import AuthSession, User
from apps.accounts.services import auth_session_start
from apps.accounts.tests.factories import TEST_PASSWORD, UserFactory
from apps.bookings.models import Booking
from apps.bookings.services.flight_changes import flight_change_quote
from apps.bookings.tests.factories import booking_flight, hold
from apps.core.models import IdempotencyKey
from apps.flights.models import Airplane, Flight
from apps.flights.tests.factories import AirplaneFactory
from apps.payments.models import Payment
from apps.payments.services import payment_create
from apps.payments.tests.factories import payment_body
from conftest import authenticated_client

pytestmark = pytest.mark.django_db

API_PREFIX = "api/v1/"
ACTORS = ("anonymous", "owner", "other", "staff", "bare_staff", "admin")
SKIPPED_METHODS = {"OPTIONS", "HEAD"}
JSON = "application/json"


@dataclass(frozen=True)
class World:
    """What the requests act on; every booking and payment belongs to `owner`."""

    users: dict[str, User]
    airplane: Airplane  # flies `flight`
    spare_airplane: Airplane  # no flights, so it can be deleted
    flight: Flight
    spare_flight: Flight  # nobody booked it, so it can be deleted
    held: Booking  # payable and cancellable
    payment: Payment  # paid for a second booking of the owner's
    later_flight: Flight  # on `flight`'s route, at its fares: the paid booking may change to it, at no charge

    def user(self, actor: str) -> User:
        """The acting user; for `anonymous`, whose credentials a body may carry, the owner."""
        return self.users.get(actor) or self.users["owner"]


Body = Callable[[World, str], dict[str, Any]]


@dataclass(frozen=True)
class Case:
    """Expected status for each of ACTORS, and how to build the request; for a list, `count` is how
    many items each actor is shown when answered 200."""

    expected: tuple[int, int, int, int, int, int]
    kwargs: Callable[[World], dict[str, Any]] = field(default=lambda world: {})
    body: Body | None = None
    count: tuple[int, int, int, int, int, int] | None = None
    query: Callable[[World], dict[str, str]] = field(default=lambda world: {})


EVERYONE_200 = (200, 200, 200, 200, 200, 200)
USER_ONLY_200 = (401, 200, 200, 200, 200, 200)
# A catalogue write needs the model permission the admin asks for (add, change, delete): the group
# grants add and change, no delete, so only the admin deletes.
STAFF_WRITE = {200: (401, 403, 403, 200, 403, 200), 201: (401, 403, 403, 201, 403, 201)}
ADMIN_DELETE = (401, 403, 403, 403, 403, 204)
# Anyone else's booking or payment is 404, never 403; staff without the view permission are anyone.
OWNER_OR_STAFF_200 = (401, 200, 404, 200, 404, 200)


def cabin_sections() -> list[dict[str, Any]]:
    return [{"cabin": "economy", "first_row": 1, "last_row": 2, "seat_letters": "ABC"}]


def new_flight_body(world: World, actor: str) -> dict[str, Any]:
    departure = timezone.now().replace(microsecond=0) + timedelta(days=10)
    return {
        "flight_number": f"AI9{ACTORS.index(actor)}",
        "airplane_id": world.airplane.pk,
        "departure_airport": world.flight.departure_airport.iata_code,
        "arrival_airport": world.flight.arrival_airport.iata_code,
        "departure_time": departure.isoformat(),
        "arrival_time": (departure + timedelta(hours=2)).isoformat(),
        "base_fare": "3999.00",
    }


def refresh_of(world: World, actor: str) -> dict[str, Any]:
    return {"refresh": str(auth_session_start(user=world.user(actor)))}


def airplane_id(world: World) -> dict[str, Any]:
    return {"airplane_id": world.airplane.pk}


def flight_id(world: World) -> dict[str, Any]:
    return {"flight_id": world.flight.pk}


def fares_by_day_query(world: World) -> dict[str, str]:
    flight = world.flight
    return {
        "trips": f"{flight.departure_airport.iata_code}-{flight.arrival_airport.iata_code}",
        "tripDate": flight.departure_time.date().isoformat(),
    }


def journey_query(world: World) -> dict[str, str]:
    flight = world.flight
    return {
        "origin": flight.departure_airport.iata_code,
        "destination": flight.arrival_airport.iata_code,
        "date": flight.departure_time.date().isoformat(),
    }


def held_reference(world: World) -> dict[str, Any]:
    return {"reference": world.held.reference}


def paid_reference(world: World) -> dict[str, Any]:
    return {"reference": world.payment.booking.reference}


def change_query(world: World) -> dict[str, str]:
    return {"segment": "1", "to_flight_id": str(world.later_flight.pk)}


def change_body(world: World, actor: str) -> dict[str, Any]:
    """The owner's quote token for changing the paid booking to the later flight (a change at no cost)."""
    booking = world.payment.booking
    quote = flight_change_quote(
        booking=booking, segment=1, to_flight_id=world.later_flight.pk, actor=world.users["owner"]
    )
    return {
        "segment": 1,
        "to_flight_id": world.later_flight.pk,
        "quote": quote.token,
        "payment_method": "tok_visa",
    }


MATRIX: dict[tuple[str, str], Case] = {
    # --- accounts: signing up and in is open to all; the rest needs a user ---------------------------
    ("auth/signup", "POST"): Case(
        (201, 201, 201, 201, 201, 201),
        body=lambda world, actor: {
            "email": f"new-{actor}@example.com",
            "password": TEST_PASSWORD,
            "name": "N",
        },
    ),
    ("auth/token", "POST"): Case(
        EVERYONE_200, body=lambda world, actor: {"email": world.user(actor).email, "password": TEST_PASSWORD}
    ),
    ("auth/token/refresh", "POST"): Case(EVERYONE_200, body=refresh_of),
    ("auth/logout", "POST"): Case((401, 204, 204, 204, 204, 204), body=refresh_of),
    ("auth/me", "GET"): Case(USER_ONLY_200),
    # --- catalogue: anyone reads, staff write what their permissions allow --------------------------
    ("cities", "GET"): Case(EVERYONE_200),
    ("airports", "GET"): Case(EVERYONE_200),
    ("airplanes", "GET"): Case(EVERYONE_200),
    ("airplanes", "POST"): Case(
        STAFF_WRITE[201],
        body=lambda world, actor: {
            "model_name": "A320",
            "registration": f"VT-Z{ACTORS.index(actor)}",
            "cabin_sections": cabin_sections(),
        },
    ),
    ("airplanes/<int:airplane_id>", "GET"): Case(EVERYONE_200, kwargs=airplane_id),
    ("airplanes/<int:airplane_id>", "PATCH"): Case(
        STAFF_WRITE[200], kwargs=airplane_id, body=lambda world, actor: {"model_name": "A321neo"}
    ),
    ("airplanes/<int:airplane_id>", "DELETE"): Case(
        ADMIN_DELETE, kwargs=lambda world: {"airplane_id": world.spare_airplane.pk}
    ),
    ("flights", "GET"): Case(EVERYONE_200),
    ("flights", "POST"): Case(STAFF_WRITE[201], body=new_flight_body),
    ("flights/<int:flight_id>", "GET"): Case(EVERYONE_200, kwargs=flight_id),
    ("flights/<int:flight_id>", "PATCH"): Case(
        STAFF_WRITE[200], kwargs=flight_id, body=lambda world, actor: {"gate": "B7"}
    ),
    ("flights/<int:flight_id>", "DELETE"): Case(
        ADMIN_DELETE, kwargs=lambda world: {"flight_id": world.spare_flight.pk}
    ),
    ("flights/<int:flight_id>/seats", "GET"): Case(EVERYONE_200, kwargs=flight_id),
    ("flights/fares-by-day", "GET"): Case(EVERYONE_200, query=fares_by_day_query),
    ("journeys", "GET"): Case(EVERYONE_200, query=journey_query),
    # --- bookings and payments: the owner's, staff with the grant see all, anyone else's is 404 -------
    ("bookings", "GET"): Case(USER_ONLY_200, count=(0, 2, 0, 2, 0, 2)),
    ("bookings", "POST"): Case(
        (401, 201, 201, 201, 201, 201),
        body=lambda world, actor: {
            "flight_id": world.flight.pk,
            "passengers": [{"first_name": "Asha", "last_name": "Rao"}],
        },
    ),
    ("bookings/<str:reference>", "GET"): Case(OWNER_OR_STAFF_200, kwargs=held_reference),
    ("bookings/<str:reference>/cancel", "POST"): Case(OWNER_OR_STAFF_200, kwargs=held_reference),
    ("bookings/<str:reference>/cancellation-quote", "GET"): Case(OWNER_OR_STAFF_200, kwargs=held_reference),
    # A change's options and quote are read like the booking; changing it is for its owner only (404).
    ("bookings/<str:reference>/change-options", "GET"): Case(OWNER_OR_STAFF_200, kwargs=paid_reference),
    ("bookings/<str:reference>/change-quote", "GET"): Case(
        OWNER_OR_STAFF_200, kwargs=paid_reference, query=change_query
    ),
    ("bookings/<str:reference>/change", "POST"): Case(
        (401, 200, 404, 404, 404, 404), kwargs=paid_reference, body=change_body
    ),
    # Paying is for the booking's owner only: staff are refused like any other user (404).
    ("payments", "POST"): Case(
        (401, 201, 404, 404, 404, 404), body=lambda world, actor: payment_body(world.held)
    ),
    ("payments/<int:payment_id>", "GET"): Case(
        OWNER_OR_STAFF_200, kwargs=lambda world: {"payment_id": world.payment.pk}
    ),
}


def api_routes(patterns: list | None = None, prefix: str = "") -> Iterator[tuple[str, str]]:
    """(route below /api/v1/, method) for every endpoint in the URL conf."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from api_routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern) and route.startswith(API_PREFIX):
            view_class = getattr(pattern.callback, "cls", None) or getattr(
                pattern.callback, "view_class", None
            )
            assert view_class is not None, (
                f"{route}: a function view; give it a class so its methods are known"
            )
            for method in view_class().allowed_methods:
                if method not in SKIPPED_METHODS:
                    yield route.removeprefix(API_PREFIX), method


def test_every_api_route_and_method_has_an_entry():
    in_url_conf = set(api_routes())

    assert sorted(in_url_conf - set(MATRIX)) == [], "add these to MATRIX: who may call them?"
    assert sorted(set(MATRIX) - in_url_conf) == [], "these MATRIX entries match no route"


@pytest.fixture
def world() -> World:
    users = {
        "owner": UserFactory(),
        "other": UserFactory(),
        "staff": UserFactory(staff=True),
        "bare_staff": UserFactory(is_staff=True, staff_group=False),
        "admin": UserFactory(is_staff=True, is_superuser=True),
    }
    flight = booking_flight(rows=3, letters="ABC", business_fare=None)
    spare_flight = booking_flight(rows=1, letters="AB", business_fare=None)
    paid = hold(users["owner"], flight)
    payment = payment_create(
        user=users["owner"],
        booking_reference=paid.reference,
        amount=paid.total_amount,
        currency=paid.currency,
        payment_method="tok_visa",
        idempotency_key=str(uuid.uuid4()),
    )
    return World(
        users=users,
        airplane=flight.airplane,
        spare_airplane=AirplaneFactory(layout__rows=1, layout__letters="AB"),
        flight=flight,
        spare_flight=spare_flight,
        held=hold(users["owner"], flight),
        payment=payment,
        later_flight=booking_flight(
            rows=3,
            letters="ABC",
            business_fare=None,
            departure_airport=flight.departure_airport,
            arrival_airport=flight.arrival_airport,
            departure_time=flight.departure_time + timedelta(hours=4),
            arrival_time=flight.arrival_time + timedelta(hours=4),
        ),
    )


def _path(route: str, kwargs: dict[str, Any]) -> str:
    return "/" + API_PREFIX + re.sub(r"<(?:\w+:)?(\w+)>", lambda match: str(kwargs[match.group(1)]), route)


def _state(world: World) -> dict[str, Any]:
    """What a refused request must not have changed."""
    world.held.refresh_from_db()
    world.airplane.refresh_from_db()
    world.flight.refresh_from_db()
    return {
        "users": User.objects.count(),
        "airplanes": Airplane.objects.count(),
        "flights": Flight.objects.count(),
        "bookings": Booking.objects.count(),
        "payments": Payment.objects.count(),
        "sessions": AuthSession.objects.count(),
        "held_status": world.held.status,
        "airplane_model": world.airplane.model_name,
        "flight": (world.flight.gate, world.flight.available_seats),
    }


CASES = [
    pytest.param(route, method, actor, id=f"{method} {route} as {actor}")
    for (route, method) in MATRIX
    for actor in ACTORS
]


@pytest.mark.parametrize(("route", "method", "actor"), CASES)
def test_authorization_matrix(world, route, method, actor):
    case = MATRIX[(route, method)]
    expected = case.expected[ACTORS.index(actor)]
    client = APIClient() if actor == "anonymous" else authenticated_client(world.users[actor])
    body = {} if case.body is None else {"data": json.dumps(case.body(world, actor)), "content_type": JSON}
    before = _state(world)

    query = case.query(world)
    path = _path(route, case.kwargs(world)) + (f"?{urlencode(query)}" if query else "")

    response = client.generic(method, path, HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()), **body)

    assert response.status_code == expected, response.content
    if case.count is not None and expected == 200:
        assert response.json()["count"] == case.count[ACTORS.index(actor)]
    if expected == 403:
        assert response.json()["code"] == "permission_denied"
    if expected >= 400:
        assert response["Content-Type"] == "application/problem+json"
        assert _state(world) == before


# --- Malformed bodies --------------------------------------------------------------------------------

BODY_METHODS = {"POST", "PUT", "PATCH"}
LONE_SURROGATE = "\ud800"


def with_lone_surrogates(value: Any) -> Any:
    """The body with half a surrogate pair appended to every string (as in `"first_name": "Asha\\ud800"`)."""
    if isinstance(value, str):
        return value + LONE_SURROGATE
    if isinstance(value, dict):
        return {key: with_lone_surrogates(item) for key, item in value.items()}
    if isinstance(value, list):
        return [with_lone_surrogates(item) for item in value]
    return value


def lone_surrogate_body(world: World, case: Case, actor: str) -> str:
    return json.dumps(with_lone_surrogates(case.body(world, actor) if case.body else {"note": "x"}))


def deeply_nested_body(world: World, case: Case, actor: str) -> str:
    return "[" * 100_000 + "]" * 100_000


def oversized_body(world: World, case: Case, actor: str) -> str:
    return json.dumps({"padding": "x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE})


MALFORMED_BODIES: dict[str, tuple[Callable[[World, Case, str], str], int, str]] = {
    "lone surrogate": (lone_surrogate_body, 400, "malformed_request"),
    "100,000 levels deep": (deeply_nested_body, 400, "malformed_request"),
    "over the upload limit": (oversized_body, 413, "request_too_large"),
}
MALFORMED_CASES = [
    pytest.param(route, method, shape, id=f"{method} {route} with {shape}")
    for (route, method) in MATRIX
    if method in BODY_METHODS
    for shape in MALFORMED_BODIES
]


@pytest.mark.parametrize(("route", "method", "shape"), MALFORMED_CASES)
def test_a_malformed_body_is_a_4xx_problem_that_changes_nothing(world, route, method, shape):
    # given a caller who may call the route (the first role the matrix answers with a 2xx)
    case = MATRIX[(route, method)]
    actor = next(actor for actor, status in zip(ACTORS, case.expected, strict=True) if status < 400)
    client = APIClient() if actor == "anonymous" else authenticated_client(world.users[actor])
    build_body, expected_status, expected_code = MALFORMED_BODIES[shape]
    body = build_body(world, case, actor)
    before, keys_before = _state(world), IdempotencyKey.objects.count()

    # when the malformed body is sent
    response = client.generic(
        method, _path(route, case.kwargs(world)), body, JSON, HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4())
    )

    # then it is refused with a problem, and nothing was stored
    assert response.status_code == expected_status, response.content[:500]
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == expected_code
    assert _state(world) == before
    assert IdempotencyKey.objects.count() == keys_before


# --- Staff pages in the admin --------------------------------------------------------------------------
# Pages behind `admin.site.admin_view` (session sign-in, not the API's tokens): anyone who is not active
# staff is sent to the admin's sign-in page, staff without the model permissions are refused (403). The
# cancel is POSTed without its confirmation, so an allowed one answers the "are you sure?" page.

ADMIN_SIGN_IN = 302
STAFF_PAGE = (ADMIN_SIGN_IN, ADMIN_SIGN_IN, ADMIN_SIGN_IN, 200, 403, 200)

STAFF_PAGES: dict[tuple[str, str], Case] = {
    ("flight_operations:page", "GET"): Case(STAFF_PAGE, kwargs=flight_id),
    ("flight_operations:manifest_csv", "GET"): Case(STAFF_PAGE, kwargs=flight_id),
    ("flight_operations:cancel", "POST"): Case(
        STAFF_PAGE, kwargs=flight_id, body=lambda world, actor: {"reason": "A technical fault."}
    ),
    # dashboard.view_sales_dashboard, which the staff group holds (apps/accounts/roles.py).
    ("dashboard:sales", "GET"): Case(STAFF_PAGE),
}
STAFF_PAGE_NAMESPACES = ("flight_operations", "dashboard")


def test_every_staff_page_has_an_entry():
    resolver = get_resolver()
    in_url_conf = {
        f"{namespace}:{name}"
        for namespace in STAFF_PAGE_NAMESPACES
        for name in resolver.namespace_dict[namespace][1].reverse_dict
        if isinstance(name, str)
    }

    assert in_url_conf == {name for name, _ in STAFF_PAGES}, "add these to STAFF_PAGES: who may open them?"


@pytest.mark.parametrize(
    ("name", "method", "actor"),
    [
        pytest.param(name, method, actor, id=f"{method} {name} as {actor}")
        for (name, method) in STAFF_PAGES
        for actor in ACTORS
    ],
)
def test_staff_pages_authorization(world, client, name, method, actor):
    case = STAFF_PAGES[(name, method)]
    expected = case.expected[ACTORS.index(actor)]
    if actor != "anonymous":
        client.force_login(world.users[actor])
    url = reverse(name, kwargs=case.kwargs(world))
    body = {} if case.body is None else case.body(world, actor)
    before = _state(world)

    response = client.generic(method, url, urlencode(body), "application/x-www-form-urlencoded")

    assert response.status_code == expected
    if expected == ADMIN_SIGN_IN:
        assert response["Location"].startswith(reverse("admin:login"))
    assert _state(world) == before
    world.flight.refresh_from_db()
    assert world.flight.status == Flight.Status.SCHEDULED
