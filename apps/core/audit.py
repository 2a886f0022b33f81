"""The audit trail: one row per thing done to a booking, payment or flight.

Services call `audit_record` inside the transaction that makes the change, so the row commits or
rolls back with it; it is a single INSERT, because the hold path calls it while the hot flight row
is locked. The request id comes from the request context, so a row can be matched to its log lines.
"""

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.utils import timezone

from apps.core.logging import scrub
from apps.core.models import AuditEvent
from apps.core.request_context import current_request_id

Action = AuditEvent.Action
Subject = AuditEvent.Subject

# A detail key that names a secret has its value dropped whatever it looks like.
_SECRET_KEY = re.compile(r"(?i)password|token|secret|card|payment_method")


def audit_record(
    *,
    action: str,
    subject_type: str,
    subject_ref: str,
    actor: AbstractBaseUser | None = None,
    detail: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Record that `actor` (None: the system) did `action` to a subject, in the current request.

    `detail` is a small JSON object describing the change (amounts as strings, seats, flags); callers
    put no secrets in it, and it is scrubbed anyway (values under secret-looking keys are dropped,
    strings lose tokens and card numbers) so no secret ever lands in the trail.

    One INSERT written here rather than built by the ORM: a hold writes it under its flight's lock,
    where building the statement cost several times what the database spends on it.
    """
    event = AuditEvent(
        created_at=timezone.now(),
        action=action,
        actor=actor,
        subject_type=subject_type,
        subject_ref=subject_ref,
        request_id=current_request_id(),
        detail=_detail_clean(detail),
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {AuditEvent._meta.db_table} (created_at, action, actor_id, subject_type,"
            " subject_ref, request_id, detail) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            [
                connection.ops.adapt_datetimefield_value(event.created_at),
                event.action,
                event.actor_id,
                event.subject_type,
                event.subject_ref,
                event.request_id,
                json.dumps(event.detail, cls=DjangoJSONEncoder),
            ],
        )
        event.pk = cursor.lastrowid
    event._state.adding, event._state.db = False, connection.alias
    return event


def audit_record_many(
    *,
    action: str,
    subject_type: str,
    subject_refs: Iterable[str],
    actor: AbstractBaseUser | None = None,
    detail: Mapping[str, Any] | None = None,
) -> list[AuditEvent]:
    """`audit_record` for a batch of subjects (the sweeper's expired holds) in one INSERT."""
    request_id = current_request_id()
    cleaned = _detail_clean(detail)
    return AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                action=action,
                actor=actor,
                subject_type=subject_type,
                subject_ref=subject_ref,
                request_id=request_id,
                detail=cleaned,
            )
            for subject_ref in subject_refs
        ]
    )


def _detail_clean(detail: Mapping[str, Any] | None) -> dict[str, Any]:
    return {
        str(key): "[REDACTED]" if _SECRET_KEY.search(str(key)) else _value_clean(value)
        for key, value in (detail or {}).items()
    }


def _value_clean(value: Any) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, Mapping):
        return _detail_clean(value)
    if isinstance(value, list | tuple):
        return [_value_clean(item) for item in value]
    return value
