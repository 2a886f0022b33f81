"""Settings of the Celery worker the integration tests start: the test settings, but with the real
SMTP server named by EMAIL_URL (airline/settings/test.py always uses the in-memory backend)."""

from airline.settings.base import env
from airline.settings.test import *  # noqa: F403

vars().update(env.email_url("EMAIL_URL"))
