"""Settings of the web nodes apps/core/tests/test_web_nodes.py starts: the test settings, but with the
sign-in limit the environment names (airline/settings/test.py lifts every limit for the races)."""

from airline.settings.base import env
from airline.settings.test import *  # noqa: F403
from airline.settings.test import RATELIMIT_SIGNIN

RATELIMIT_SIGNIN = env("RATELIMIT_SIGNIN", default=RATELIMIT_SIGNIN)
