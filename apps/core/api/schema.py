"""How the OpenAPI document (/api/schema/) is generated, beyond what drf-spectacular infers itself.

- Errors: every operation documents the problem+json answers it gives (docs/API.md, "Errors"), each
  status with the exact `code`s it may carry and the headers sent with it (`Retry-After`,
  `WWW-Authenticate`). The answers of the API's machinery are inferred from the operation: invalid
  input where it takes input, 401 where it authenticates, 404 where its path names something or it
  pages, the Idempotency-Key's answers where it takes one. A view names the errors of its own rules
  with `problems(...)` in its `extend_schema(responses=...)`.
- Security: an operation its permissions allow without signing in says so (`{}`), beside the
  bearer token it also accepts.
- Request fields: what the serializers refuse, said where JSON Schema can say it: a nested list's
  bounds, text that must not be blank, the digits of a decimal written as a string.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser
from drf_spectacular.openapi import AutoSchema as BaseAutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions as drf
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from apps.core.api.exception_handler import DRF_CODES, REQUEST_TOO_LARGE
from apps.core.api.fields import NOT_BLANK, StringField
from apps.core.exceptions import ApplicationError, NotFound, ServiceUnavailable, ValidationFailed
from apps.core.idempotency import (
    IDEMPOTENCY_HEADER,
    IdempotencyKeyInUse,
    IdempotencyKeyInvalid,
    IdempotencyKeyMissing,
    IdempotencyKeyReused,
)
from apps.core.pagination import PageNumberPagination
from apps.core.problems import PROBLEM_CONTENT_TYPE


@dataclass(frozen=True, slots=True)
class Problem:
    """One error answer: its status, stable code and title, and whether it says when to retry."""

    status: int
    code: str
    title: str
    retry_after: bool = False

    @classmethod
    def of(cls, error: type[ApplicationError]) -> "Problem":
        return cls(error.http_status, error.code, error.title, error.retry_after is not None)


def _drf_problem(exception: type[drf.APIException]) -> Problem:
    code, title = DRF_CODES[exception]
    return Problem(exception.status_code, code, title)


INVALID_INPUT = Problem.of(ValidationFailed)
MALFORMED_BODY = _drf_problem(drf.ParseError)
NOT_JSON = _drf_problem(drf.UnsupportedMediaType)
BODY_TOO_LARGE = Problem(413, *REQUEST_TOO_LARGE)
NOT_AUTHENTICATED = _drf_problem(drf.NotAuthenticated)
AUTHENTICATION_FAILED = _drf_problem(drf.AuthenticationFailed)
NOT_FOUND = Problem.of(NotFound)
UNAVAILABLE = Problem.of(ServiceUnavailable)  # a database error, anywhere
IDEMPOTENCY_PROBLEMS = tuple(
    Problem.of(error)
    for error in (IdempotencyKeyMissing, IdempotencyKeyInvalid, IdempotencyKeyInUse, IdempotencyKeyReused)
)

PROBLEM_COMPONENT = "Problem"
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": 'An RFC 9457 problem (docs/API.md, "Errors").',
    "properties": {
        "type": {"type": "string", "description": "urn:airline:problem:<code>"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string", "description": "Stable; what a client branches on."},
        "errors": {
            "type": "object",
            "description": "For invalid input: each field (dotted path) and its messages.",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
        "request_id": {"type": "string", "description": "Also sent as X-Request-ID."},
    },
    "required": ["type", "title", "status", "detail", "code", "request_id"],
}


class ProblemResponse(OpenApiResponse):
    """The errors a view's own rules answer with at one status; see `problems`."""

    def __init__(self, errors: Iterable[Problem]):
        super().__init__()
        self.problems = tuple(errors)


def problems(*errors: type[ApplicationError]) -> dict[int, ProblemResponse]:
    """`extend_schema(responses={201: Output, **problems(SoldOut, SeatUnknown)})`: the errors of the
    operation's own rules, by status; the schema adds those of the API's machinery."""
    by_status: dict[int, list[Problem]] = defaultdict(list)
    for error in errors:
        by_status[error.http_status].append(Problem.of(error))
    return {status: ProblemResponse(found) for status, found in by_status.items()}


class AutoSchema(BaseAutoSchema):
    def get_serializer_name(self, serializer, direction) -> str:
        """Names nested serializers after their view (`UserSignupApi.Input` → `UserSignupInput`).

        The house style nests `Input`/`Output` serializers in each API view, so the class name alone
        is not unique across the schema.
        """
        qualname = serializer.__class__.__qualname__
        if "." in qualname:
            return qualname.replace("Api.", "").replace(".", "")
        return super().get_serializer_name(serializer, direction)

    # --- security ------------------------------------------------------------------------------------

    def get_auth(self) -> list[dict[str, list[str]]]:
        """drf-spectacular adds `{}` for AllowAny and IsAuthenticatedOrReadOnly only; the API's own
        permissions (e.g. IsStaffOrReadOnly) are asked instead."""
        auths = super().get_auth()
        if {} not in auths and self._allows_anonymous():
            auths.append({})
        return auths

    def _allows_anonymous(self) -> bool:
        """Whether the view's permissions let a caller without credentials make this request."""
        request = Request(APIRequestFactory().generic(self.method, self.path))
        request.user = AnonymousUser()
        return all(
            permission.has_permission(request, self.view) for permission in self.view.get_permissions()
        )

    # --- errors --------------------------------------------------------------------------------------

    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        found = list(self._machinery_problems())
        declared = self.get_response_serializers()
        if isinstance(declared, dict):
            for response in declared.values():
                if isinstance(response, ProblemResponse):
                    found.extend(response.problems)
        by_status: dict[int, dict[str, Problem]] = defaultdict(dict)
        for problem in found:
            by_status[problem.status].setdefault(problem.code, problem)
        for status, by_code in by_status.items():
            responses[str(status)] = self._problem_response(status, list(by_code.values()))
        return dict(sorted(responses.items()))

    def _machinery_problems(self) -> Iterable[Problem]:
        """What every operation of this shape may answer, whatever its view does."""
        parameters = self._get_parameters()
        locations = {parameter["in"] for parameter in parameters}
        headers = {parameter["name"] for parameter in parameters if parameter["in"] == "header"}
        query = {parameter["name"] for parameter in parameters if parameter["in"] == "query"}
        takes_body = self.method in ("POST", "PUT", "PATCH") and self.get_request_serializer() is not None
        idempotent = IDEMPOTENCY_HEADER in headers
        if takes_body or query:
            yield INVALID_INPUT
        if takes_body or idempotent:  # an idempotent request's body is read to fingerprint it
            yield MALFORMED_BODY
            yield NOT_JSON
            yield BODY_TOO_LARGE
        if idempotent:
            yield from IDEMPOTENCY_PROBLEMS
        if self.view.get_authenticators():
            yield AUTHENTICATION_FAILED  # a bearer token that is invalid, expired or of an ended session
        if not self._allows_anonymous():
            yield NOT_AUTHENTICATED
        if "path" in locations or PageNumberPagination.page_query_param in query:
            yield NOT_FOUND  # nothing at that path, or a page past the last
        yield UNAVAILABLE

    def _problem_response(self, status: int, found: list[Problem]) -> dict[str, Any]:
        self.registry.register_on_missing(
            ResolvedComponent(
                name=PROBLEM_COMPONENT,
                type=ResolvedComponent.SCHEMA,
                object=PROBLEM_COMPONENT,
                schema=PROBLEM_SCHEMA,
            )
        )
        schema = {
            "allOf": [
                {"$ref": f"#/components/schemas/{PROBLEM_COMPONENT}"},
                {
                    "type": "object",
                    "properties": {
                        "status": {"type": "integer", "enum": [status]},
                        "code": {"type": "string", "enum": [problem.code for problem in found]},
                    },
                },
            ]
        }
        response: dict[str, Any] = {
            "description": "; ".join(f"`{problem.code}`: {problem.title}" for problem in found),
            "content": {PROBLEM_CONTENT_TYPE: {"schema": schema}},
        }
        headers = {}
        if status == 401:
            headers["WWW-Authenticate"] = {
                "schema": {"type": "string"},
                "required": True,
                "description": "The scheme to authenticate with (Bearer).",
            }
        retrying = [problem.retry_after for problem in found]
        if any(retrying):
            headers["Retry-After"] = {
                "schema": {"type": "integer", "minimum": 1},
                "required": all(retrying),
                "description": "Seconds to wait before retrying"
                + ("." if all(retrying) else ": sent with " + ", ".join(_retrying_codes(found)) + "."),
            }
        if headers:
            response["headers"] = headers
        return response

    # --- request fields: what the serializers refuse, said in the schema ------------------------------

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if schema is None or direction != "request":
            return schema
        if isinstance(field, serializers.ListSerializer):
            # drf-spectacular leaves out a nested list's bounds (`many=True, min_length=…`).
            fewest = field.min_length if field.min_length is not None else int(not field.allow_empty)
            if fewest:
                schema["minItems"] = fewest
            if field.max_length is not None:
                schema["maxItems"] = field.max_length
        elif (
            isinstance(field, serializers.DecimalField)
            and "pattern" in schema
            and field.max_whole_digits
            and field.decimal_places
        ):
            schema["pattern"] = decimal_pattern(field)
        elif (
            type(field) in (serializers.CharField, StringField)
            and field.trim_whitespace
            and not field.allow_blank
            and "pattern" not in schema
        ):
            schema["pattern"] = NOT_BLANK
        return schema


def _retrying_codes(found: list[Problem]) -> list[str]:
    return [f"`{problem.code}`" for problem in found if problem.retry_after]


def decimal_pattern(field: serializers.DecimalField) -> str:
    """The decimals `field` takes as text: at least one digit, at most its whole and decimal places,
    a minus sign only where negative values are allowed, and "" (null) where null is (drf-spectacular's
    pattern admits "", "-" and ".", and a minus sign whatever `min_value` says)."""
    sign = "-?" if field.min_value is None or field.min_value < 0 else ""
    whole, places = field.max_whole_digits, field.decimal_places
    number = rf"{sign}(?:\d{{1,{whole}}}(?:\.\d{{0,{places}}})?|\.\d{{1,{places}}})"
    return rf"^(?:{number})?$" if field.allow_null else rf"^{number}$"
