"""What happens to accounts, announced to other apps (apps/core/events.py explains events)."""

from dataclasses import dataclass

from apps.accounts.models import User
from apps.core.events import Event

# Stands for the reset token in the link an outbox row keeps: the sender puts a fresh token in its place
# when it sends (apps/notifications/services.py), so no usable link is ever stored.
RESET_TOKEN_MARK = "set-by-the-sender"


@dataclass(frozen=True, slots=True)
class PasswordResetRequested:
    """Someone asked to reset `user`'s password: e-mail them `link`, with a token in place of
    RESET_TOKEN_MARK."""

    user: User
    link: str


password_reset_requested = Event("accounts.password_reset_requested", PasswordResetRequested)
