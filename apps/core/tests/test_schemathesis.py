"""The whole API held to its own OpenAPI document by schemathesis, with every check it has.

Each operation of /api/schema/ is a test, run as a signed-in customer and as staff: the requests
schemathesis derives from the schema (its examples and coverage phases: each parameter's boundaries,
a missing required header, an undeclared method) and MAX_EXAMPLES generated ones, valid and invalid.
Every response goes through all of schemathesis' checks, none excluded: no 5xx; status, content
type, headers and body as documented; invalid requests refused; valid ones accepted; protected
operations refusing a request without credentials or with bad ones. schemathesis.toml configures
it, for the command line too (docs/API.md, "The OpenAPI document").

In-process through the WSGI application, so the requests share the test's database transaction.
"""

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from apps.bookings.services import booking_cancel
from apps.bookings.tests.factories import booking_flight, hold
from apps.core.testing.openapi import api_schema, requests_in_the_test_transaction
from conftest import access_token_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

# Generated requests per operation and role, after the derived ones: 30 keeps the 48 tests to about
# 40 s on two cores. Runs of 300 found nothing more; longer runs are the command line's (docs/API.md).
MAX_EXAMPLES = 30

schema = api_schema()

fuzzed = hypothesis_settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,
    # The examples of one test share its fixtures, on purpose: one database transaction, one user.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(autouse=True)
def _requests_share_the_test_transaction():
    with requests_in_the_test_transaction():
        yield


@pytest.fixture
def catalogue(customer) -> None:
    """A flight to book, a hold of the customer's to find, cancel and pay, and a cancelled booking
    (its passengers have no seat) for the lists to show."""
    flight = booking_flight(rows=3, letters="ABC", business_fare=None)
    hold(customer, flight)
    booking_cancel(booking=hold(customer, flight), actor=customer)


@pytest.fixture
def as_customer(catalogue, customer) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token_for(customer)}"}


@pytest.fixture
def as_staff(catalogue, staff_user) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token_for(staff_user)}"}


def send_and_check(case, signed_in: dict[str, str]) -> None:
    """Send the case as the signed-in user, unless it leaves out or spoils the credentials on purpose
    (invalid data, which must be refused), and check the answer with every check."""
    case.call_and_validate(headers=None if schema.is_security_param_negated(case) else signed_in)


@schema.parametrize()
@fuzzed
def test_as_a_customer_the_api_keeps_to_its_schema(case, as_customer):
    send_and_check(case, as_customer)


@schema.parametrize()
@fuzzed
def test_as_staff_the_api_keeps_to_its_schema(case, as_staff):
    send_and_check(case, as_staff)
