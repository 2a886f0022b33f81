"""Tests run against the real services: MariaDB, Redis and RabbitMQ on localhost.

The URLs default to the local services and can be overridden by the environment. Only what makes
tests fast and hermetic changes here: a fast password hasher and the in-memory email backend.
"""

import os

os.environ.setdefault("DATABASE_URL", "mysql://root:@127.0.0.1:3306/airline")
# A Redis database of the tests' own (15, the last of the 16 a default server has): a developer's
# data in database 0 is never touched, and the tests delete only keys under their prefix anyway.
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("CELERY_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
os.environ.setdefault("CACHE_KEY_PREFIX", "airline-test")

from airline.queues import task_queues, task_routes  # noqa: E402
from airline.settings.base import *  # noqa: E402, F403
from airline.settings.base import VAR_DIR  # noqa: E402

DEBUG = False
SECRET_KEY = "test-secret-key-not-for-production-0123456789abcdefghijklmnopqrstuvwxyz"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Races of hundreds of requests from one user must not trip the limits; rate-limit tests set their own.
RATELIMIT_SIGNIN = RATELIMIT_SIGNUP = RATELIMIT_BOOKING = RATELIMIT_PAYMENT = RATELIMIT_SEARCH = "100000/m"
RATELIMIT_PASSWORD_RESET = RATELIMIT_PASSWORD_RESET_EMAIL = RATELIMIT_MANAGE_BOOKING = "100000/m"
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_TASK_DEFAULT_QUEUE", "airline-test")
CELERY_TASK_QUEUES = task_queues(CELERY_TASK_DEFAULT_QUEUE)
CELERY_TASK_ROUTES = task_routes(CELERY_TASK_DEFAULT_QUEUE)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
(VAR_DIR / "static").mkdir(parents=True, exist_ok=True)
