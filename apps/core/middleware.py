import logging
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict
from urllib.parse import urlsplit

from csp.constants import HEADER, SELF, UNSAFE_INLINE
from csp.middleware import CSPMiddleware, PolicyParts
from csp.utils import build_policy
from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from drf_spectacular.settings import spectacular_settings
from drf_spectacular.views import SpectacularSwaggerView

from apps.core.db_router import replica_pinned
from apps.core.problems import not_found_problem, problem_response
from apps.core.request_context import log_context_reset, log_context_update, request_id_var

logger = logging.getLogger(__name__)
access_logger = logging.getLogger("airline.access")

# A client-supplied id is kept only if it is short and plain, so it cannot inject into logs.
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestIdMiddleware:
    """Gives every request an id (the client's `X-Request-ID` if safe), echoed in the response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = request_id_var.set(request_id)
        log_context_reset()
        try:
            response = self.get_response(request)
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated:
                log_context_update(user_id=user.pk)
            access_logger.info("%s %s %s", request.method, request.path, response.status_code)
        finally:
            request_id_var.reset(token)
            log_context_reset()
        response["X-Request-ID"] = request_id
        return response


# The cookie that keeps a client's reads on the primary after it wrote: its value is when that ends
# (Unix time). Forging it only sends the forger's own reads to the primary.
REPLICA_PIN_COOKIE = "airline_primary_until"
# The methods that do not write (as CSRF protection counts them); any other one pins its client.
_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class ReplicaPinMiddleware:
    """Read-your-writes with read replicas (apps/core/db_router.py): a request that writes (any
    method but GET, HEAD, OPTIONS, TRACE) and every request of the same client for
    REPLICA_PIN_SECONDS after it read the primary only. Without replicas Django leaves it out."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        if not settings.DATABASE_REPLICA_ALIASES:
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        writes = request.method not in _READ_METHODS
        pinned = writes or _pinned_until(request.COOKIES.get(REPLICA_PIN_COOKIE, "")) > time.time()
        token = replica_pinned.set(pinned)
        try:
            response = self.get_response(request)
        finally:
            replica_pinned.reset(token)
        if writes:
            seconds = settings.REPLICA_PIN_SECONDS
            response.set_cookie(
                REPLICA_PIN_COOKIE,
                str(int(time.time()) + seconds),
                max_age=seconds,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response


def _pinned_until(value: str) -> int:
    return int(value) if value.isascii() and value.isdigit() and len(value) < 12 else 0


def is_api_request(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


class ApiExceptionMiddleware:
    """Under /api/, errors are problems: unexpected exceptions outside DRF views become a 500 without
    internals, and an unknown URL a 404 problem under DEBUG too."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # Under DEBUG Django answers a URL that no route matches with its HTML debug page instead of
        # handler404 (apps/core/views.py): an API client gets the problem it gets in production.
        if (
            response.status_code == 404
            and is_api_request(request)
            and response.get("Content-Type", "").startswith("text/html")
        ):
            return not_found_problem()
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_api_request(request):
            return None
        logger.exception("Unhandled error on %s %s", request.method, request.path)
        return problem_response(status=500, code="internal_error", title="Internal server error")


# Features the site never uses, refused to the page and to anything it embeds.
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), "
    "payment=(), usb=()"
)


class SecurityHeadersMiddleware(CSPMiddleware):
    """django-csp's Content-Security-Policy (settings.CONTENT_SECURITY_POLICY) and Permissions-Policy.

    The site's own pages run no inline script: a `<script>` or `<style>` element needs
    `nonce="{{ request.csp_nonce }}"`. The one exception is the Swagger UI page (drf-spectacular),
    whose template inlines its bootstrap script and style (the UI itself is served from our static files):
    that page alone also allows those. It shows only the public schema.
    """

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if (
            is_api_request(request)
            and getattr(request, "_csp_nonce", None) is None
            and not _is_swagger_ui(request)
        ):
            # An API answer uses no nonce: its policy is the same for every response, so it is built
            # once, not on every request (building it cost more than answering from the cache).
            response.setdefault(HEADER, self._static_policy(request, response))
        else:
            response = super().process_response(request, response)
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response

    _built: tuple[dict, str] | None = None

    def _static_policy(self, request: HttpRequest, response: HttpResponseBase) -> str:
        policy = settings.CONTENT_SECURITY_POLICY
        if self._built is None or self._built[0] is not policy:  # settings changed (tests)
            self._built = (policy, build_policy(**asdict(self.get_policy_parts(request, response))))
        return self._built[1]

    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if parts.replace is None and _is_swagger_ui(request):
            dist = spectacular_settings.SWAGGER_UI_DIST
            # SIDECAR (our setting) serves the UI from our static files; a URL is another origin.
            origins = (
                [SELF] if dist == "SIDECAR" else [SELF, "{0.scheme}://{0.netloc}".format(urlsplit(dist))]
            )
            parts.replace = {
                "script-src": [*origins, UNSAFE_INLINE],
                "style-src": [*origins, UNSAFE_INLINE],
                "img-src": [*origins, "data:"],
            }
        return parts


def _is_swagger_ui(request: HttpRequest) -> bool:
    match = getattr(request, "resolver_match", None)
    view_class = getattr(match.func, "view_class", None) if match else None
    return isinstance(view_class, type) and issubclass(view_class, SpectacularSwaggerView)
