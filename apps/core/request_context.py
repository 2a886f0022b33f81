"""The id of the request being served, for logs and problem bodies (set by RequestIdMiddleware)."""

from contextvars import ContextVar

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")


def current_request_id() -> str:
    return request_id_var.get()
