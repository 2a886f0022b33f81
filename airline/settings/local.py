"""The embedded default and local development: nothing to configure, DEBUG on."""

from airline.settings.base import *  # noqa: F403
from airline.settings.base import SECRET_KEY, VAR_DIR, env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
# A development-only key; production.py refuses to start without DJANGO_SECRET_KEY.
SECRET_KEY = SECRET_KEY or "insecure-local-development-key-do-not-use-in-production"

(VAR_DIR / "static").mkdir(parents=True, exist_ok=True)
