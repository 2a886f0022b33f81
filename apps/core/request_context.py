"""What the request being served is about, for logs and problem bodies.

RequestIdMiddleware sets the request id; services may add the user id and booking reference with
`log_context_update` so every later log line of the request carries them.
"""

from contextvars import ContextVar
from typing import Any

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")
_log_context_var: ContextVar[dict[str, Any] | None] = ContextVar("log_context", default=None)


def current_request_id() -> str:
    return request_id_var.get()


def log_context() -> dict[str, Any]:
    return _log_context_var.get() or {}


def log_context_update(**values: Any) -> None:
    _log_context_var.set({**log_context(), **values})


def log_context_reset() -> None:
    _log_context_var.set(None)
