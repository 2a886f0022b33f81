import re
from dataclasses import dataclass
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from django.conf import settings

MESSAGE_ID = re.compile(r"^\d{8}T\d{6}\.\d{6}Z-[0-9a-f]{8}$")


@dataclass(frozen=True, slots=True)
class StoredEmail:
    id: str
    subject: str
    sender: str
    to: str
    date: datetime | None
    text: str
    html: str
    raw: bytes


def _parse(message_id: str, raw: bytes) -> StoredEmail:
    message: EmailMessage = message_from_bytes(raw, policy=policy.default)  # type: ignore[assignment]
    text_part = message.get_body(preferencelist=("plain",))
    html_part = message.get_body(preferencelist=("html",))
    date = message["Date"]
    return StoredEmail(
        id=message_id,
        subject=str(message["Subject"] or ""),
        sender=str(message["From"] or ""),
        to=str(message["To"] or ""),
        date=date.datetime if date is not None else None,
        text=text_part.get_content() if text_part is not None else "",
        html=html_part.get_content() if html_part is not None else "",
        raw=raw,
    )


def stored_email_list(*, limit: int = 200) -> list[StoredEmail]:
    """The newest `limit` emails in EMAIL_FILE_PATH, newest first."""
    directory = Path(settings.EMAIL_FILE_PATH)
    if not directory.is_dir():
        return []
    names = sorted(
        (path.stem for path in directory.glob("*.eml") if MESSAGE_ID.match(path.stem)), reverse=True
    )
    return [_parse(name, (directory / f"{name}.eml").read_bytes()) for name in names[:limit]]


def stored_email_get(*, message_id: str) -> StoredEmail | None:
    """One email by its id, or None (also for an id that is not one of ours, such as `../x`)."""
    if not MESSAGE_ID.match(message_id):
        return None
    path = Path(settings.EMAIL_FILE_PATH) / f"{message_id}.eml"
    try:
        return _parse(message_id, path.read_bytes())
    except FileNotFoundError:
        return None
