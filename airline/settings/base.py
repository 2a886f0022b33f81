"""Settings shared by every mode.

Everything configurable comes from the environment (see `.env.example`). Two runtime modes
(docs/ARCHITECTURE.md, "Runtime modes"): with `DATABASE_URL`, `REDIS_URL` and `CELERY_BROKER_URL`
unset, Airline runs embedded (SQLite, local-memory cache, a filesystem broker); with them set it
runs on MariaDB, Redis and RabbitMQ.
"""

from datetime import timedelta
from pathlib import Path

import environ
from csp import constants as csp
from django.core.exceptions import ImproperlyConfigured

from airline.queues import task_queues, task_routes

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
# DJANGO_SECRET_KEY, or DJANGO_SECRET_KEY_FILE naming a file that holds it (a Docker secret; the
# compose site generates one on its first start).
SECRET_KEY = environ.FileAwareEnv()("DJANGO_SECRET_KEY", default="").strip()
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "apps.core",
    "apps.accounts",
    "apps.flights",
    "apps.bookings",
    "apps.payments",
    "apps.notifications",
    "apps.dashboard",
]

MIDDLEWARE = [
    "apps.core.middleware.RequestIdMiddleware",
    "apps.core.middleware.ReplicaPinMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "apps.core.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "apps.core.middleware.ApiExceptionMiddleware",
]

ROOT_URLCONF = "airline.urls"
WSGI_APPLICATION = "airline.wsgi.application"
ADMIN_URL = env("DJANGO_ADMIN_URL", default="admin/")

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------------
# MariaDB in services mode. READ COMMITTED (Django's default on MySQL) behaves like REPEATABLE
# READ for the seat counter and avoids gap-lock deadlocks on seat scans (docs/PROFILE.md).
# innodb_lock_wait_timeout bounds every lock wait (docs/ARCHITECTURE.md, "Locks").
DB_LOCK_WAIT_TIMEOUT_SECONDS = env.int("DB_LOCK_WAIT_TIMEOUT_SECONDS", default=3)

if env("DATABASE_URL", default=""):
    _db = env.db("DATABASE_URL")
    if _db["ENGINE"] == "django.db.backends.mysql":
        _db.setdefault("OPTIONS", {}).update(
            {
                "charset": "utf8mb4",
                "isolation_level": "read committed",
                "init_command": (
                    "SET SESSION innodb_lock_wait_timeout="
                    f"{DB_LOCK_WAIT_TIMEOUT_SECONDS}, sql_mode='STRICT_TRANS_TABLES'"
                ),
            }
        )
        _db["TEST"] = {
            "NAME": env("TEST_DATABASE_NAME", default=None),
            "CHARSET": "utf8mb4",
            "COLLATION": "utf8mb4_unicode_ci",
        }
else:
    # Embedded default: one SQLite file; IMMEDIATE transactions take the write lock up front, so
    # concurrent writers serialize instead of failing with "database is locked" mid-transaction.
    _db = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": env("SQLITE_PATH", default=str(VAR_DIR / "airline.sqlite3")),
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL;",
        },
    }
_db["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
_db["CONN_HEALTH_CHECKS"] = True
DATABASES = {"default": _db}

# Read replicas (docs/SCALING.md, "Read replicas"): zero or more MariaDB replicas of the primary,
# comma-separated URLs, each the alias replica_1, replica_2, … with the primary's options and a
# 1-second connect timeout. Only catalogue and search reads go there (apps/core/db_router.py); with
# none, no router is installed and everything reads the primary. In tests an alias mirrors the
# primary, so the suite runs unchanged with replicas configured.
DATABASE_REPLICA_ALIASES: list[str] = []
for _number, _url in enumerate(env.list("DATABASE_REPLICA_URLS", default=[]), start=1):
    if _db["ENGINE"] != "django.db.backends.mysql":
        raise ImproperlyConfigured("DATABASE_REPLICA_URLS needs a MariaDB/MySQL DATABASE_URL.")
    _replica = {**environ.Env.db_url_config(_url), "CONN_MAX_AGE": _db["CONN_MAX_AGE"]}
    _replica.update(CONN_HEALTH_CHECKS=True, TEST={"MIRROR": "default"})
    _replica["OPTIONS"] = {**_db["OPTIONS"], **_replica.get("OPTIONS", {}), "connect_timeout": 1}
    DATABASES[f"replica_{_number}"] = _replica
    DATABASE_REPLICA_ALIASES.append(f"replica_{_number}")
DATABASE_ROUTERS = ["apps.core.db_router.ReplicaRouter"] if DATABASE_REPLICA_ALIASES else []
# A replica further behind the primary than this is not read (its staleness is what search may show,
# plus the search cache's TTL).
REPLICA_MAX_LAG_SECONDS = env.int("REPLICA_MAX_LAG_SECONDS", default=5)
# After a client's write (any POST, PUT, PATCH or DELETE), its reads stay on the primary this long,
# so it sees what it just did (read-your-writes): longer than a replica may lag.
REPLICA_PIN_SECONDS = env.int("REPLICA_PIN_SECONDS", default=REPLICA_MAX_LAG_SECONDS + 5)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ---------------------------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="airline"),
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "SOCKET_CONNECT_TIMEOUT": 1,
                "SOCKET_TIMEOUT": 1,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "airline"}}

# --- Celery --------------------------------------------------------------------------------------
# The embedded default's broker names its host (kombu warns "No hostname was supplied" on every
# connection otherwise); the filesystem transport has no server to reach.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://localhost/")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {}
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=2.0)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 60
CELERY_TASK_SOFT_TIME_LIMIT = 45
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_TASK_DEFAULT_QUEUE", default="airline")
# E-mail, payments and housekeeping each have a queue of their own, named after the default one
# (airline/queues.py; which worker consumes what: docs/SCALING.md, "Queues that scale apart").
CELERY_TASK_QUEUES = task_queues(CELERY_TASK_DEFAULT_QUEUE)
CELERY_TASK_ROUTES = task_routes(CELERY_TASK_DEFAULT_QUEUE)
# django-celery-beat's scheduler, guarded against a second beat doubling a job (apps/core/beat.py).
CELERY_BEAT_SCHEDULER = "apps.core.beat:GuardedDatabaseScheduler"
CELERY_TIMEZONE = "UTC"

# --- Email ---------------------------------------------------------------------------------------
if env("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
# Where the development outbox (local.py without EMAIL_URL) keeps each email as an .eml file.
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))
# The site's address as a browser reaches it, for links written outside a request (`make run` sets it).
SITE_URL = env("SITE_URL", default="")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Airline <no-reply@airline.example>")
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)

# --- Auth ----------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:signin"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"
# A password reset link works for an hour (and only until the password changes or the user signs in).
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=3600)
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- API -----------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # simplejwt's bearer tokens, accepted while their sign-in session lives (one query per request).
    "DEFAULT_AUTHENTICATION_CLASSES": ["apps.accounts.authentication.SessionJWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # DRF's JSON parser, also refusing lone surrogates and deep nesting (apps/core/api/parsers.py).
    "DEFAULT_PARSER_CLASSES": ["apps.core.api.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "apps.core.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "EXCEPTION_HANDLER": "apps.core.api.exception_handler.problem_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "apps.core.api.schema.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
# Tokens are simplejwt's; sessions, rotation and logout are ours (apps/accounts/models.py: AuthSession),
# so simplejwt's ROTATE_REFRESH_TOKENS and blacklist (its serializers') are not used.
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=15),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=7),
    "UPDATE_LAST_LOGIN": False,
    "AUTH_HEADER_TYPES": ("Bearer",),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Airline API",
    "DESCRIPTION": "Flight search, seat holds, bookings and idempotent payments.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Product settings ----------------------------------------------------------------------------
BOOKING_HOLD_SECONDS = env.int("BOOKING_HOLD_SECONDS", default=600)
# What a child (2–11) and an infant (under 2, on a lap) pay, in percent of the adult fare
# (apps/bookings/pricing.py: passenger_fare; docs/PASSENGERS.md).
CHILD_FARE_PERCENT = env.int("CHILD_FARE_PERCENT", default=75)
INFANT_FARE_PERCENT = env.int("INFANT_FARE_PERCENT", default=10)
BOOKING_LOCK_STRATEGY = env("BOOKING_LOCK_STRATEGY", default="pessimistic")
BOOKING_MIN_MINUTES_BEFORE_DEPARTURE = env.int("BOOKING_MIN_MINUTES_BEFORE_DEPARTURE", default=30)
# The percentage tax inside every fare, per cabin (India's GST on air travel: 5 % economy, 12 % the
# others); a fare is a price all in and is split into base fare and taxes (docs/FARES.md).
FARE_TAX_CODE = "GST"
FARE_TAX_NAME = "GST"
FARE_TAX_PERCENT = {"economy": "5", "premium_economy": "12", "business": "12", "first": "12"}
SEARCH_CACHE_TTL_SECONDS = env.int("SEARCH_CACHE_TTL_SECONDS", default=30)
# A journey's next flight leaves at least this long after the previous one lands
# (apps/flights/journeys.py: journey_connection_problem, which the search and the hold both apply).
JOURNEY_MIN_CONNECTION_MINUTES = env.int("JOURNEY_MIN_CONNECTION_MINUTES", default=45)
# How long a flight's detail and seat map are answered from the cache: the availability they show
# may lag this much behind (booking never trusts it; a catalogue change is seen at once).
FLIGHT_CACHE_TTL_SECONDS = env.int("FLIGHT_CACHE_TTL_SECONDS", default=5)
# The staff sales dashboard counts days in this IANA time zone (the airline's business day), whatever
# the server's or the flights' zones; the day boundaries are computed in Python (apps/dashboard/periods.py).
SALES_DASHBOARD_TIME_ZONE = env("SALES_DASHBOARD_TIME_ZONE", default="Asia/Kolkata")
IDEMPOTENCY_LEASE_SECONDS = env.int("IDEMPOTENCY_LEASE_SECONDS", default=60)
IDEMPOTENCY_RETENTION_HOURS = env.int("IDEMPOTENCY_RETENTION_HOURS", default=24)
PAYMENT_GATEWAY = env("PAYMENT_GATEWAY", default="apps.payments.gateway.SimulatedGateway")
# Online check-in opens this many hours before departure and closes this many minutes before it.
CHECK_IN_OPENS_HOURS = env.int("CHECK_IN_OPENS_HOURS", default=48)
CHECK_IN_CLOSES_MINUTES = env.int("CHECK_IN_CLOSES_MINUTES", default=60)
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
# Rate limits ("count/period", period s, m, h or d), counted in the shared cache (docs/API.md, "Rate limits").
RATELIMIT_SIGNIN = env("RATELIMIT_SIGNIN", default="10/m")  # per client IP
RATELIMIT_SIGNUP = env("RATELIMIT_SIGNUP", default="5/m")  # per client IP
RATELIMIT_BOOKING = env("RATELIMIT_BOOKING", default="30/m")  # per user
RATELIMIT_PAYMENT = env("RATELIMIT_PAYMENT", default="20/m")  # per user
RATELIMIT_SEARCH = env("RATELIMIT_SEARCH", default="300/m")  # per client IP
RATELIMIT_PASSWORD_RESET = env("RATELIMIT_PASSWORD_RESET", default="10/h")  # requests per client IP
RATELIMIT_MANAGE_BOOKING = env("RATELIMIT_MANAGE_BOOKING", default="10/m")  # lookups per client IP
RATELIMIT_PASSWORD_RESET_EMAIL = env("RATELIMIT_PASSWORD_RESET_EMAIL", default="3/h")  # e-mails per address
NOTIFICATIONS_MAX_ATTEMPTS = env.int("NOTIFICATIONS_MAX_ATTEMPTS", default=5)
NOTIFICATIONS_RETRY_BASE_SECONDS = env.int("NOTIFICATIONS_RETRY_BASE_SECONDS", default=60)
NOTIFICATIONS_RETENTION_DAYS = env.int("NOTIFICATIONS_RETENTION_DAYS", default=30)
# How long a send attempt's claim on an email holds: longer than the send task's hard time limit
# (45 s), so a live attempt is never taken over; a dead worker's email is sent again after it.
NOTIFICATIONS_CLAIM_LEASE_SECONDS = env.int("NOTIFICATIONS_CLAIM_LEASE_SECONDS", default=300)

# --- Content Security Policy (django-csp) -------------------------------------------------------
# No inline script, <style> or style="" on the site: a <script> or <style> element needs
# nonce="{{ request.csp_nonce }}" (apps/core/middleware.py relaxes this for the Swagger UI page only).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp.SELF],
        "script-src": [csp.SELF, csp.NONCE],
        "style-src": [csp.SELF, csp.NONCE],
        "img-src": [csp.SELF],
        "connect-src": [csp.SELF],
        "font-src": [csp.SELF],
        "object-src": [csp.NONE],
        "base-uri": [csp.NONE],
        "form-action": [csp.SELF],
        "frame-ancestors": [csp.NONE],
    }
}

# --- i18n, static --------------------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").exists() else []

# --- Logging -------------------------------------------------------------------------------------
LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "apps.core.logging.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["request_id"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Every record goes through the one console handler above. Django's default configuration
        # also gives "django" a console handler of its own (DEBUG only) and runserver's
        # "django.server" another: each record would print twice, in two formats.
        "django": {"handlers": [], "level": LOG_LEVEL},
        # The access log (airline.access, apps/core/middleware.py) writes one line per request with
        # its status. Django's warnings for 4xx answers repeat that line, and those for a 403 or a
        # 404 carry the exception's traceback; server errors (5xx) still log, with theirs.
        "django.request": {"level": "ERROR"},
        "django.server": {"handlers": [], "level": "ERROR", "propagate": True},
        "django.db.backends": {"level": "WARNING"},
    },
}
