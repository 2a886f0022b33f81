"""A bounded fuzz pass of the whole API against its own OpenAPI document (schemathesis).

In-process through the WSGI application, so the requests share the test's database transaction.
Every operation in /api/schema/ gets up to MAX_EXAMPLES generated requests, valid and invalid, sent
as a signed-in customer; none may answer 5xx, and every response must match what the schema
documents for its status (body, content type, headers). Error statuses the schema leaves
undocumented are not checked against it.

The operations are walked inside one test (schemathesis' lazy pytest loader does not run on
pytest 9), and every operation is fuzzed even when an earlier one fails, so one run names them all.
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
)

from apps.bookings.tests.factories import booking_flight, hold
from conftest import access_token_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

MAX_EXAMPLES = 15
CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    content_type_conformance,
    response_headers_conformance,
]


@pytest.fixture
def api_schema():
    """The schema, and the app to call, run as Django's test client runs it.

    A WSGI request normally recycles the database connection when it starts and ends; inside the
    test's transaction that would end the transaction, so (like the test client) it is switched off.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def bearer(customer) -> dict[str, str]:
    """A signed-in customer with a flight to book and a hold of their own to find."""
    flight = booking_flight(rows=3, letters="ABC", business_fare=None)
    hold(customer, flight)
    return {"Authorization": f"Bearer {access_token_for(customer)}"}


def test_the_api_never_fails_and_keeps_to_its_schema(api_schema, bearer):
    failures: dict[str, str] = {}
    operations = [result.ok() for result in api_schema.get_all_operations()]

    for operation in operations:
        requests = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)
        )

        @given(case=requests)
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        )
        def fuzz(case) -> None:
            case.call_and_validate(headers=bearer, checks=CHECKS)

        try:
            fuzz()
        except FailureGroup as failure:  # each operation's failures are reported together at the end
            failures[operation.label] = "; ".join(str(error) for error in failure.exceptions)

    assert len(operations) >= 20
    assert failures == {}
