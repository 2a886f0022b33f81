from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views.decorators.http import require_GET

from apps.core.middleware import is_api_request
from apps.core.problems import not_found_problem, problem_response
from apps.core.ratelimit import RateLimited, RateLimiterUnavailable, rate_limit_check


def page_rate_limit(
    *, group: str, key: Callable[[str, Any], str], rate_setting: str, fail_open: bool
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """The API's rate limit (same group, so one counter) on a page view's POSTs.

    A refusal is a message on the page the form came from, never an error page.
    """

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method != "POST":
                return view(request, *args, **kwargs)
            try:
                rate_limit_check(
                    request, group=group, key=key, rate_setting=rate_setting, fail_open=fail_open
                )
            except (RateLimited, RateLimiterUnavailable) as error:
                messages.error(request, rate_limit_message(error))
                return redirect(request.get_full_path())
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def rate_limit_message(error: RateLimited | RateLimiterUnavailable) -> str:
    """What a page says when a rate limit refused its form."""
    return f"{error.detail} Please wait a minute before trying again."


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if is_api_request(request):
        return not_found_problem()
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    if is_api_request(request):
        return problem_response(status=500, code="internal_error", title="Internal server error")
    return render(request, "500.html", status=500)


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico where a page names no icon (the admin names it, as base.html does)."""
    response = HttpResponsePermanentRedirect(static("airline/favicon.svg"))
    response["Cache-Control"] = "public, max-age=86400"
    return response
