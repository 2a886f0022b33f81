"""The one sign-in limit: every way to sign in (the API's token, the website's form, the admin's login)
counts against the same per-IP counter (group "signin"), and refuses when the counter cannot be read.
"""

from typing import Any

from apps.core.ratelimit import ip_key

SIGNIN_RATE_LIMIT: dict[str, Any] = {
    "group": "signin",
    "key": ip_key,
    "rate_setting": "RATELIMIT_SIGNIN",
    "fail_open": False,  # a Redis outage must not open the door to password guessing
}
