"""Rate limits on the shared cache, rendered as 429 problem+json.

Each limit is a setting, "count/period" (period s, m, h or d), counted per group (sign-in, booking,
…) and per client (an IP, or a user) in fixed windows of one period, in the default cache, so limits
hold across processes and hosts. Counting is one round trip (an INCR and an EXPIRE sent together,
apps/core/cache.py), because it runs on every booking and every search. Each limit chooses what an
unreachable cache means: search and sales fail open (an outage must not stop them), sign-in and
sign-up fail closed (an outage must not open the door to password guessing).
"""

import functools
import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from apps.core.cache import CacheUnavailable, Counter, cache_round_trip
from apps.core.exceptions import ApplicationError, ServiceUnavailable

logger = logging.getLogger(__name__)


class RateLimited(ApplicationError):
    code = "rate_limited"
    http_status = 429
    title = "Too many requests"
    retry_after = 1  # always sent: `RateLimit.check` gives the seconds left in the window


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


PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@functools.lru_cache(maxsize=64)
def rate_parse(rate: str) -> tuple[int, int]:
    """(count, seconds) of a rate such as "10/m" or "300/5m"."""
    count, _, period = rate.partition("/")
    multiple, unit = period[:-1] or "1", period[-1:]
    if not (count.isdigit() and multiple.isdigit() and unit in PERIODS):
        raise ValueError(f"A rate is COUNT/PERIOD, e.g. 10/m: {rate!r}")
    return int(count), int(multiple) * PERIODS[unit]


@dataclass(frozen=True, slots=True)
class RateLimit:
    """One client's counter of one limit in the current window; `check` it with the counted value."""

    group: str
    limit: int
    period: int
    counter: Counter
    window_end: float
    fail_open: bool

    def check(self, count: int | None) -> None:
        """Raise RateLimited (429) once `count` is past the limit; `count` None (the cache did not
        answer) raises RateLimiterUnavailable (503) where the limit fails closed."""
        if count is None:
            logger.warning(
                "Rate limiter unavailable for %s (failing %s)",
                self.group,
                "open" if self.fail_open else "closed",
            )
            if not self.fail_open:
                raise RateLimiterUnavailable()
            return
        if count > self.limit:
            raise RateLimited(
                "Too many requests; retry later.", retry_after=max(1, int(self.window_end - time.time()))
            )


def rate_limit_for(
    request: Any, *, group: str, key: Callable[[str, Any], str], rate_setting: str, fail_open: bool
) -> RateLimit:
    """The counter this request counts against (not counted yet: `rate_limit_check` counts, or the
    caller counts it in its own round trip to the cache, as a cached search does)."""
    limit, period = rate_parse(getattr(settings, rate_setting))
    now = time.time()
    window = int(now // period)
    client = hashlib.sha256(key(group, request).encode()).hexdigest()[:32]
    return RateLimit(
        group=group,
        limit=limit,
        period=period,
        counter=Counter(key=f"rl:{group}:{period}:{window}:{client}", ttl=period + 1),
        window_end=(window + 1) * period,
        fail_open=fail_open,
    )


def rate_limit_check(
    request: Any, *, group: str, key: Callable[[str, Any], str], rate_setting: str, fail_open: bool
) -> None:
    """Count one attempt against the limit; raise RateLimited (429) past it.

    When the cache cannot be reached, raise RateLimiterUnavailable (503) if the limit fails closed.
    """
    limit = rate_limit_for(request, group=group, key=key, rate_setting=rate_setting, fail_open=fail_open)
    try:
        _, count = cache_round_trip([], limit.counter)
    except CacheUnavailable:
        count = None
    limit.check(count)


def rate_limit(*, group: str, key: Callable[[str, Any], str], rate_setting: str, fail_open: bool) -> Callable:
    """Limit a DRF view method (or a page view taking `request` first after `self`)."""

    def decorator(method: Callable) -> Callable:
        @wraps(method)
        def wrapped(self, request, *args, **kwargs):
            rate_limit_check(request, group=group, key=key, rate_setting=rate_setting, fail_open=fail_open)
            return method(self, request, *args, **kwargs)

        return wrapped

    return decorator
