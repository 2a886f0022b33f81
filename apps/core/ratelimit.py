"""Rate limits on the shared cache (django-ratelimit's counters), rendered as 429 problem+json.

django-ratelimit counts in the default cache, so limits hold across processes and hosts. Its own
fail-open switch is global; here each limit chooses: search fails open (a Redis outage must not take
search down), sign-in fails closed (an outage must not open the door to password guessing).
"""

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.core import get_usage
from redis.exceptions import RedisError

from apps.core.exceptions import ApplicationError, ServiceUnavailable

logger = logging.getLogger(__name__)


class RateLimited(ApplicationError):
    code = "rate_limited"
    http_status = 429
    title = "Too many requests"


class RateLimiterUnavailable(ServiceUnavailable):
    code = "rate_limiter_unavailable"
    title = "Temporarily unavailable, retry shortly"


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or with TRUSTED_PROXY_COUNT = n proxies in front, the
    address the outermost trusted proxy saw (the n-th entry from the right of X-Forwarded-For).

    Entries further left are whatever the client claimed, so a spoofed header cannot change the key.
    """
    trusted = settings.TRUSTED_PROXY_COUNT
    remote = request.META.get("REMOTE_ADDR", "")
    if trusted <= 0:
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    if len(hops) < trusted:
        return remote
    return hops[-trusted]


def ip_key(group: str, request: HttpRequest) -> str:
    return client_ip(request)


def user_key(group: str, request: Any) -> str:
    user = request.user
    return f"user:{user.pk}" if user.is_authenticated else f"ip:{client_ip(request)}"


def rate_limit_check(
    request: Any, *, group: str, key: Callable[[str, Any], str], rate_setting: str, fail_open: bool
) -> None:
    """Count one attempt against the limit; raise RateLimited (429) past it.

    When the cache cannot be reached, raise RateLimiterUnavailable (503) if the limit fails closed.
    """
    rate = getattr(settings, rate_setting)
    try:
        usage = get_usage(request, group=group, key=key, rate=rate, increment=True)
    except (RedisError, OSError):
        logger.warning(
            "Rate limiter unavailable for %s (failing %s)", group, "open" if fail_open else "closed"
        )
        if not fail_open:
            raise RateLimiterUnavailable() from None
        return
    if usage and usage["should_limit"]:
        raise RateLimited("Too many requests; retry later.", retry_after=max(1, usage["time_left"]))


def rate_limit(*, group: str, key: Callable[[str, Any], str], rate_setting: str, fail_open: bool) -> Callable:
    """Limit a DRF view method (or a page view taking `request` first after `self`)."""

    def decorator(method: Callable) -> Callable:
        @wraps(method)
        def wrapped(self, request, *args, **kwargs):
            rate_limit_check(request, group=group, key=key, rate_setting=rate_setting, fail_open=fail_open)
            return method(self, request, *args, **kwargs)

        return wrapped

    return decorator
