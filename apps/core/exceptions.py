"""Typed application errors: each carries a stable `code` and the HTTP status it maps to.

Services raise them; the DRF exception handler renders them as problem+json, page views turn them
into messages.
"""

from typing import Any


class ApplicationError(Exception):
    code = "application_error"
    http_status = 400
    title = "Request could not be processed"
    retry_after: int | None = None

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: dict[str, list[str]] | None = None,
        retry_after: int | None = None,
        **extra: Any,
    ):
        self.detail = detail or self.title
        self.errors = errors
        if retry_after is not None:
            self.retry_after = retry_after
        self.extra = extra
        super().__init__(self.detail)


class ValidationFailed(ApplicationError):
    code = "validation_error"
    http_status = 400
    title = "Invalid input"


class PermissionDenied(ApplicationError):
    """The caller is known but may not do this (a customer at a staff action, staff without the grant)."""

    code = "permission_denied"
    http_status = 403
    title = "You do not have permission to do this"


class NotFound(ApplicationError):
    code = "not_found"
    http_status = 404
    title = "Not found"


class Conflict(ApplicationError):
    code = "conflict"
    http_status = 409
    title = "Conflict with the current state"


class Busy(Conflict):
    """A lock wait timed out or a deadlock was detected twice: the client may retry shortly."""

    code = "busy"
    title = "The resource is busy, retry shortly"
    retry_after = 1


class UnprocessableEntity(ApplicationError):
    code = "unprocessable"
    http_status = 422
    title = "The request is well-formed but cannot be processed"


class ServiceUnavailable(ApplicationError):
    code = "service_unavailable"
    http_status = 503
    title = "A dependency is unavailable"
    retry_after = 5
