"""Typed errors of accounts; their `code`s are part of the API contract."""

from apps.core.exceptions import ApplicationError


class SessionRefused(ApplicationError):
    """The token belongs to no live session: logged out, spent, expired, or its user deactivated,
    deleted or with a changed password. The same answer for every reason."""

    code = "authentication_failed"
    http_status = 401
    title = "Authentication failed"
