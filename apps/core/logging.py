"""Log records carry the request id, user id and booking reference; secrets never reach a log."""

import json
import logging
import re
from datetime import UTC, datetime

from apps.core.request_context import current_request_id, log_context

# Values that must never be logged, whatever message or argument carries them: passwords, JWTs and
# other bearer tokens, card-like digit runs and the gateway's payment tokens.
_SECRET_PATTERNS = [
    (
        re.compile(
            r"(?i)([\"']?(?:password|refresh|access|token|secret)[\"']?\s*[:=]\s*)(\"[^\"]*\"|'[^']*'|[^\s,}&]+)"
        ),
        r"\1[REDACTED]",
    ),
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/-]+=*"), r"\1[REDACTED]"),
    (re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+"), "[REDACTED-JWT]"),
    (re.compile(r"\b(?:\d[ -]?){13,19}\b"), "[REDACTED-PAN]"),
    (re.compile(r"\btok_[A-Za-z0-9_]+"), "tok_[REDACTED]"),
]


def scrub(text: str) -> str:
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RequestIdFilter(logging.Filter):
    """Adds `request_id`, `user_id` and `booking_reference` to every record, and scrubs secrets."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id()
        context = log_context()
        record.user_id = getattr(record, "user_id", context.get("user_id"))
        record.booking_reference = getattr(record, "booking_reference", context.get("booking_reference"))
        message = record.getMessage()
        scrubbed = scrub(message)
        if scrubbed != message or record.args:
            record.msg, record.args = scrubbed, None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line (production)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
            "user_id": getattr(record, "user_id", None),
            "booking_reference": getattr(record, "booking_reference", None),
        }
        if record.exc_info:
            entry["exception"] = scrub(self.formatException(record.exc_info))
        return json.dumps(entry, default=str)
