"""RFC 9457 problem details, the one error format of the API."""

from typing import Any

from django.http import JsonResponse

from apps.core.request_context import current_request_id

PROBLEM_CONTENT_TYPE = "application/problem+json"


def problem_body(
    *,
    status: int,
    code: str,
    title: str,
    detail: str | None = None,
    errors: dict[str, list[str]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": f"urn:airline:problem:{code}",
        "title": title,
        "status": status,
        "detail": detail or title,
        "code": code,
        "request_id": current_request_id(),
    }
    if errors:
        body["errors"] = errors
    body.update(extra)
    return body


def problem_response(
    *, status: int, code: str, title: str, detail: str | None = None, headers: dict[str, str] | None = None
) -> JsonResponse:
    """A problem+json response for code outside DRF views (404 routes, middleware, health)."""
    response = JsonResponse(
        problem_body(status=status, code=code, title=title, detail=detail),
        status=status,
        content_type=PROBLEM_CONTENT_TYPE,
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def not_found_problem() -> JsonResponse:
    """The API's answer to a URL that matches no route."""
    return problem_response(status=404, code="not_found", title="Not found", detail="No such API resource.")
