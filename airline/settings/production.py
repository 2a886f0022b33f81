"""Production: services mode plus hardening. Refuses to start without its secrets."""

from django.core.exceptions import ImproperlyConfigured

from airline.settings.base import *  # noqa: F403
from airline.settings.base import LOGGING, SECRET_KEY, env

if not SECRET_KEY:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set in production.")

DEBUG = False
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
# Secure cookies by default; a plain-HTTP demo (compose on localhost) may turn them off.
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

for _name in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"):
    if not env(_name, default=""):
        raise ImproperlyConfigured(f"{_name} must be set in production.")

# JSON lines for the log pipeline, each with request id, user id and booking reference.
LOGGING["formatters"]["json"] = {"()": "apps.core.logging.JsonFormatter"}
LOGGING["handlers"]["console"]["formatter"] = "json"

# The simulated gateway confirms bookings paid with test cards: a production deployment must name a
# real adapter, unless it is a demo that says so (compose, the benchmark).
if env("PAYMENT_GATEWAY", default="apps.payments.gateway.SimulatedGateway").endswith(
    ".SimulatedGateway"
) and not env.bool("ALLOW_SIMULATED_GATEWAY", default=False):
    raise ImproperlyConfigured(
        "PAYMENT_GATEWAY is the simulated gateway; set ALLOW_SIMULATED_GATEWAY=true for a demo."
    )
