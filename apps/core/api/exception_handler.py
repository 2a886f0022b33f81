"""One DRF exception handler renders every API error as problem+json (docs/API.md, "Errors")."""

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError
from django.http import Http404
from rest_framework import exceptions as drf
from rest_framework.response import Response

from apps.core.exceptions import ApplicationError
from apps.core.problems import PROBLEM_CONTENT_TYPE, problem_body

logger = logging.getLogger(__name__)

BEARER_CHALLENGE = 'Bearer realm="api"'
REQUEST_TOO_LARGE = ("request_too_large", "Request body too large")

DRF_CODES: dict[type[drf.APIException], tuple[str, str]] = {
    drf.ParseError: ("malformed_request", "Malformed request body"),
    drf.NotAuthenticated: ("not_authenticated", "Authentication required"),
    drf.AuthenticationFailed: ("authentication_failed", "Authentication failed"),
    drf.PermissionDenied: ("permission_denied", "Permission denied"),
    drf.NotFound: ("not_found", "Not found"),
    drf.MethodNotAllowed: ("method_not_allowed", "Method not allowed"),
    drf.NotAcceptable: ("not_acceptable", "Not acceptable"),
    drf.UnsupportedMediaType: ("unsupported_media_type", "Unsupported media type"),
    drf.Throttled: ("rate_limited", "Too many requests"),
}


def flatten_errors(detail: Any) -> dict[str, list[str]]:
    """DRF validation details (nested dicts and lists) → {"field.sub": ["message", ...]}."""
    errors: dict[str, list[str]] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), item)
        elif isinstance(value, list) and value and not all(isinstance(v, str) for v in value):
            for index, item in enumerate(value):
                walk(f"{prefix}.{index}" if prefix else str(index), item)
        else:
            messages = value if isinstance(value, list) else [value]
            errors.setdefault(prefix or "non_field_errors", []).extend(str(m) for m in messages)

    walk("", detail)
    return errors


def _problem(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(body, status=status, content_type=PROBLEM_CONTENT_TYPE, headers=headers)


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    if isinstance(exc, ApplicationError):
        headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else {}
        if exc.http_status == 401:  # RFC 9110: a 401 names the scheme to authenticate with
            headers["WWW-Authenticate"] = BEARER_CHALLENGE
        body = problem_body(
            status=exc.http_status,
            code=exc.code,
            title=exc.title,
            detail=exc.detail,
            errors=exc.errors,
            **exc.extra,
        )
        return _problem(exc.http_status, body, headers)
    if isinstance(exc, RequestDataTooBig):
        # Django raises it when DRF first reads the body, before any parser: the view got no data.
        code, title = REQUEST_TOO_LARGE
        body = problem_body(
            status=413,
            code=code,
            title=title,
            detail=f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.",
        )
        return _problem(413, body)
    if isinstance(exc, Http404):
        exc = drf.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf.PermissionDenied()
    if isinstance(exc, drf.ValidationError):
        body = problem_body(
            status=400,
            code="validation_error",
            title="Invalid input",
            detail="Invalid input.",
            errors=flatten_errors(exc.detail),
        )
        return _problem(400, body)
    if isinstance(exc, drf.APIException):
        code, title = next(
            ((c, t) for cls, (c, t) in DRF_CODES.items() if isinstance(exc, cls)),
            ("error", "Request failed"),
        )
        headers = {}
        if isinstance(exc, drf.NotAuthenticated | drf.AuthenticationFailed):
            headers["WWW-Authenticate"] = BEARER_CHALLENGE
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))
        detail = str(exc.detail) if isinstance(exc.detail, str) else title
        body = problem_body(status=exc.status_code, code=code, title=title, detail=detail)
        return _problem(exc.status_code, body, headers)
    if isinstance(exc, DatabaseError):
        logger.exception("Database error")
        body = problem_body(status=503, code="service_unavailable", title="A dependency is unavailable")
        return _problem(503, body, {"Retry-After": "5"})
    logger.exception("Unhandled API error")
    return _problem(500, problem_body(status=500, code="internal_error", title="Internal server error"))
