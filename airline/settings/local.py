"""The embedded default and local development: nothing to configure, DEBUG on."""

from pathlib import Path

from airline.settings.base import *  # noqa: F403
from airline.settings.base import CELERY_BROKER_TRANSPORT_OPTIONS, LOGGING, SECRET_KEY, VAR_DIR, env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
# A development-only key; production.py refuses to start without DJANGO_SECRET_KEY.
SECRET_KEY = SECRET_KEY or "insecure-local-development-key-do-not-use-in-production"

# Without an SMTP server, each email is kept in var/mail/ and read at /dev/mail/ (apps/core/devmail):
# the console shows one line per email, with its link.
if not env("EMAIL_URL", default=""):
    EMAIL_BACKEND = "apps.core.devmail.backend.OutboxFileBackend"

(VAR_DIR / "static").mkdir(parents=True, exist_ok=True)
# The filesystem broker of the embedded default needs its folders before a worker starts.
for _folder in ("data_folder_out", "processed_folder", "control_folder"):
    if _folder in CELERY_BROKER_TRANSPORT_OPTIONS:
        Path(CELERY_BROKER_TRANSPORT_OPTIONS[_folder]).mkdir(parents=True, exist_ok=True)

# Celery's INFO lines (every task received and succeeded, every beat tick) drown the console of
# `make run`; its warnings and errors still show.
LOGGING["loggers"]["celery"] = {"level": "WARNING"}
