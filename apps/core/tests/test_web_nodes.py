"""Two web nodes, one state: two production servers (airline/serve.py, granian) on two ports of
loopback, sharing this run's test database, Redis and broker, as two nodes behind a load balancer do
(docs/SCALING.md, "The shape"). Each test sends a traveller's requests to both, over real HTTP, and
checks that nothing one node needs was kept in the other: the API's holds, payments and idempotency
keys, the website's session and CSRF token, and the rate-limit counters.

The nodes start once for the module; every test commits its data (`transactional_db`) so the nodes'
own database connections see it.
"""

import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from apps.accounts.models import AuthSession
from apps.accounts.tests.factories import TEST_PASSWORD, UserFactory
from apps.bookings.models import Booking, SeatAssignment
from apps.bookings.selectors import inventory_violations
from apps.bookings.tests.factories import booking_flight, hold, passengers
from apps.core.models import IdempotencyKey
from apps.core.testing.nodes import WebNode, running_web_node
from apps.payments.models import GatewayCharge, Payment
from apps.payments.tests.factories import payment_body
from conftest import access_token_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# Both nodes count sign-ins against this limit, in one shared counter per client address. A day's
# window (fixed, from midnight UTC) so a test's few seconds never straddle two windows.
SIGNIN_LIMIT = 5
TIMEOUT_SECONDS = 15
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture(scope="module")
def nodes(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[tuple[WebNode, WebNode]]:
    log_dir = tmp_path_factory.mktemp("web-nodes")
    options = {
        "log_dir": log_dir,
        "settings_module": "apps.core.tests.node_settings",
        "environment": {"RATELIMIT_SIGNIN": f"{SIGNIN_LIMIT}/d"},
    }
    with running_web_node("node-1", **options) as first, running_web_node("node-2", **options) as second:
        yield first, second


def logs(*nodes: WebNode) -> str:
    return "\n".join(f"--- {node.name}\n{node.log_tail()}" for node in nodes)


def test_seats_held_on_one_node_are_paid_on_the_other_once(transactional_db, nodes):
    first, second = nodes
    customer = UserFactory()
    flight = booking_flight(rows=20)
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {access_token_for(customer)}"
    hold_body = {"flight_id": flight.pk, "passengers": passengers(2)}

    # given two seats held through the API on node 1, the hold's key replayed on node 2,
    held = api.post(
        first.url("/api/v1/bookings"),
        json=hold_body,
        headers={"Idempotency-Key": "two-nodes-hold"},
        timeout=TIMEOUT_SECONDS,
    )
    assert held.status_code == 201, logs(first, second)
    held_again = api.post(
        second.url("/api/v1/bookings"),
        json=hold_body,
        headers={"Idempotency-Key": "two-nodes-hold"},
        timeout=TIMEOUT_SECONDS,
    )
    booking = Booking.objects.get()

    # when the traveller pays on node 2, and the payment's key is replayed on node 1,
    paid = api.post(
        second.url("/api/v1/payments"),
        json=payment_body(booking),
        headers={"Idempotency-Key": "two-nodes-pay"},
        timeout=TIMEOUT_SECONDS,
    )
    paid_again = api.post(
        first.url("/api/v1/payments"),
        json=payment_body(booking),
        headers={"Idempotency-Key": "two-nodes-pay"},
        timeout=TIMEOUT_SECONDS,
    )
    seen_on_first = api.get(first.url(f"/api/v1/bookings/{booking.reference}"), timeout=TIMEOUT_SECONDS)

    # then each replay is the first answer, byte for byte, from the node that did not make it,
    assert (held_again.status_code, held_again.content) == (201, held.content)
    assert held_again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in held.headers
    assert paid.status_code == 201, logs(first, second)
    assert (paid_again.status_code, paid_again.content) == (201, paid.content)
    assert paid_again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in paid.headers
    # the card was charged once and the booking is confirmed, as both nodes say,
    assert GatewayCharge.objects.count() == 1
    assert list(Payment.objects.values_list("status", flat=True)) == [Payment.Status.SUCCEEDED]
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    assert (seen_on_first.status_code, seen_on_first.json()["status"]) == (200, Booking.Status.CONFIRMED)
    assert (
        sorted(IdempotencyKey.objects.values_list("state", flat=True)) == [IdempotencyKey.State.COMPLETED] * 2
    )
    # and the two seats are taken once.
    assert SeatAssignment.objects.filter(booking=booking, active=True).count() == 2
    assert Booking.objects.count() == 1
    flight.refresh_from_db()
    assert flight.available_seats == flight.total_seats - 2
    assert inventory_violations() == []


def test_one_payment_sent_to_both_nodes_at_once_charges_once(transactional_db, nodes):
    customer = UserFactory()
    booking = hold(customer, booking_flight(rows=20), count=2)
    token = access_token_for(customer)
    start = threading.Barrier(2)

    def pay(node: WebNode) -> requests.Response:
        start.wait(timeout=TIMEOUT_SECONDS)
        return requests.post(
            node.url("/api/v1/payments"),
            json=payment_body(booking),
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "both-nodes-at-once"},
            timeout=TIMEOUT_SECONDS,
        )

    # given a held booking, when a client's payment and its retry reach both nodes at the same moment,
    with ThreadPoolExecutor(max_workers=2) as clients:
        answers = list(clients.map(pay, nodes))

    # then one node charged, and the other either replayed its answer or said the key is in use;
    fresh = [
        answer
        for answer in answers
        if answer.status_code == 201 and "Idempotent-Replayed" not in answer.headers
    ]
    assert len(fresh) == 1, [(answer.status_code, answer.text) for answer in answers]
    (other,) = [answer for answer in answers if answer is not fresh[0]]
    if other.status_code == 201:
        assert (other.headers["Idempotent-Replayed"], other.content) == ("true", fresh[0].content)
    else:
        assert (other.status_code, other.json()["code"]) == (409, "idempotency_key_in_use")
        assert int(other.headers["Retry-After"]) >= 1
    # one charge, one payment, the booking confirmed with its two seats.
    assert GatewayCharge.objects.count() == 1
    assert list(Payment.objects.values_list("status", flat=True)) == [Payment.Status.SUCCEEDED]
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    assert SeatAssignment.objects.filter(booking=booking, active=True).count() == 2
    assert inventory_violations() == []


def test_a_website_session_opened_on_one_node_is_honoured_on_the_other(transactional_db, nodes):
    first, second = nodes
    customer = UserFactory()
    booking = hold(customer, booking_flight(rows=20), count=2)
    browser = requests.Session()  # one cookie jar for 127.0.0.1, as a browser behind one address

    # given the traveller signed in on node 1, and holding a CSRF token from a page node 1 rendered,
    sign_in_page = browser.get(first.url("/signin/"), timeout=TIMEOUT_SECONDS)
    signed_in = browser.post(
        first.url("/signin/"),
        data={
            "username": customer.email,
            "password": TEST_PASSWORD,
            "csrfmiddlewaretoken": CSRF_FIELD.search(sign_in_page.text).group(1),
        },
        allow_redirects=False,
        timeout=TIMEOUT_SECONDS,
    )
    assert (signed_in.status_code, signed_in.headers["Location"]) == (302, "/"), logs(first, second)
    bookings_page = browser.get(first.url("/bookings/"), timeout=TIMEOUT_SECONDS)
    assert booking.reference in bookings_page.text
    token = CSRF_FIELD.search(bookings_page.text).group(1)
    cancel_path = f"/bookings/{booking.reference}/cancel/"

    # when node 2 gets the cancel form without the token, then without the session, then with both,
    without_token = browser.post(second.url(cancel_path), allow_redirects=False, timeout=TIMEOUT_SECONDS)
    without_session = requests.post(
        second.url(cancel_path),
        data={"csrfmiddlewaretoken": token},
        cookies={"csrftoken": browser.cookies["csrftoken"]},
        allow_redirects=False,
        timeout=TIMEOUT_SECONDS,
    )
    held_meanwhile = Booking.objects.get(pk=booking.pk).status
    cancelled = browser.post(
        second.url(cancel_path),
        data={"csrfmiddlewaretoken": token},
        allow_redirects=False,
        timeout=TIMEOUT_SECONDS,
    )
    back_on_first = browser.get(first.url(cancelled.headers["Location"]), timeout=TIMEOUT_SECONDS)

    # then node 2 refused the first two as node 1 would have, and cancelled on the third,
    assert without_token.status_code == 403
    assert without_session.status_code == 302
    assert without_session.headers["Location"].startswith("/signin/?next=")
    assert held_meanwhile == Booking.Status.HELD
    assert (cancelled.status_code, cancelled.headers["Location"]) == (302, "/bookings/"), logs(first, second)
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    assert SeatAssignment.objects.filter(booking=booking, active=True).count() == 0
    assert inventory_violations() == []
    # and the message node 2 left for the next page is shown by node 1.
    assert f"Booking {booking.reference} is cancelled and its seats released." in back_on_first.text


def test_sign_in_attempts_split_between_the_nodes_count_against_one_limit(transactional_db, nodes):
    first, second = nodes
    customer = UserFactory()

    def sign_in(node: WebNode, password: str) -> requests.Response:
        return requests.post(
            node.url("/api/v1/auth/token"),
            json={"email": customer.email, "password": password},
            timeout=TIMEOUT_SECONDS,
        )

    # given SIGNIN_LIMIT wrong passwords from one address, alternating between the nodes
    # (node 1 sees three of them, node 2 two: neither alone reaches the limit),
    wrong = [sign_in(nodes[attempt % 2], "wrong-password") for attempt in range(SIGNIN_LIMIT)]

    # when the right password comes next, on either node,
    refused = [sign_in(second, TEST_PASSWORD), sign_in(first, TEST_PASSWORD)]

    # then every attempt past the limit is refused with a 429, and no session was opened.
    assert [response.status_code for response in wrong] == [401] * SIGNIN_LIMIT, logs(first, second)
    assert [response.status_code for response in refused] == [429, 429]
    assert {response.json()["code"] for response in refused} == {"rate_limited"}
    assert all(int(response.headers["Retry-After"]) >= 1 for response in refused)
    assert not AuthSession.objects.filter(user=customer).exists()
