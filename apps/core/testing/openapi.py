"""The OpenAPI document as tests see it: loaded by schemathesis, and answers checked against it."""

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import schemathesis
from django.conf import settings
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from schemathesis.config import SchemathesisConfig
from schemathesis.core.transport import Response
from schemathesis.specs.openapi.schemas import OpenApiSchema

SCHEMA_URL = "/api/schema/?format=json"


@contextmanager
def requests_in_the_test_transaction() -> Iterator[None]:
    """A WSGI request recycles the database connection when it starts and ends; inside a test's
    transaction that would end the transaction, so (as Django's test client does) it is switched off."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@functools.cache
def api_schema() -> OpenApiSchema:
    """/api/schema/ as schemathesis reads it, configured as the fuzz is (schemathesis.toml), with the
    WSGI application to call in-process."""
    with requests_in_the_test_transaction():  # or wherever: reading the schema needs no database
        return schemathesis.openapi.from_wsgi(
            SCHEMA_URL,
            get_wsgi_application(),
            config=SchemathesisConfig.from_path(str(settings.BASE_DIR / "schemathesis.toml")),
        )


def call_and_validate(
    method: str, path: str, *, headers: dict[str, str] | None = None, **parts: Any
) -> Response:
    """Send one request to the operation `method path` (as the schema spells it, e.g.
    "/api/v1/bookings/{reference}") and check its answer with every schemathesis check: status,
    content type, headers and body as the schema documents them for that status, and no 5xx.

    `parts` are the request's path_parameters, query and body. Raises schemathesis' failure group
    when the answer breaks the schema.
    """
    case = api_schema()[path][method].Case(**parts)
    with requests_in_the_test_transaction():
        return case.call_and_validate(headers=headers)
