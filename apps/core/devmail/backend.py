import logging
import os
import secrets
from collections.abc import Sequence
from pathlib import Path

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django.urls import reverse
from django.utils import timezone

logger = logging.getLogger("airline.mail")


def new_message_id() -> str:
    """Sortable by time, unique, and safe in a path and a URL: 20261201T095933.123456Z-1a2b3c4d."""
    return f"{timezone.now():%Y%m%dT%H%M%S.%fZ}-{secrets.token_hex(4)}"


def message_url(message_id: str) -> str:
    """The viewer's page of one email, absolute when SITE_URL is known (make run sets it)."""
    return f"{settings.SITE_URL.rstrip('/')}{reverse('devmail:detail', args=[message_id])}"


class OutboxFileBackend(BaseEmailBackend):
    """Writes each email to EMAIL_FILE_PATH as `<id>.eml` and logs one line: to, subject, link."""

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        directory = Path(settings.EMAIL_FILE_PATH)
        sent = 0
        for message in email_messages:
            if not message.recipients():
                continue
            message_id = new_message_id()
            try:
                directory.mkdir(parents=True, exist_ok=True)
                # Written under a temporary name and renamed, so the viewer never reads half a file.
                partial = directory / f".{message_id}.partial"
                partial.write_bytes(message.message().as_bytes(linesep="\n"))
                os.replace(partial, directory / f"{message_id}.eml")
            except OSError:
                if not self.fail_silently:
                    raise
                continue
            logger.info(
                "Email to %s: %s  %s",
                ", ".join(message.recipients()),
                message.subject,
                message_url(message_id),
            )
            sent += 1
        return sent
