"""Idempotent POST endpoints: the `Idempotency-Key` header (Stripe's semantics; docs/API.md, "Idempotency").

Two ways to guard a request, one rule set:

- **Committed claim** (`idempotent`), for work with an outside call (a payment: the gateway is called
  with no transaction open). The request claims its (caller, key) by INSERTing a row in a short
  transaction of its own, committed before any work; the unique (owner, key) decides which of two
  concurrent requests runs. The row's `lease_expires_at` doubles as a fencing token: a request
  finishes (stores or releases) only the claim it still holds, so a request whose crashed
  predecessor's lease was taken over cannot clobber it.
- **Recorded in the work's transaction** (`idempotent_in_transaction`, `TransactionalKey`), for work
  that is one database transaction (a hold): the key's row is inserted, completed with the answer,
  last in that transaction. The key then exists if and only if the work committed: a concurrent
  duplicate waits on the key's unique index (or on the rows the first one locks) until the first
  commits, then replays its answer; a rolled-back attempt leaves no key, so its retry runs again.
  One commit per request, and no window in which the work is committed but its answer is not.

Outcomes for a request carrying a key that already has a row:
- a different fingerprint (method, path, canonical JSON body) → 422 idempotency_key_reused;
- completed → the stored status, headers and body again, with `Idempotent-Replayed: true`;
- in progress with a live lease → 409 idempotency_key_in_use with Retry-After;
- in progress with an expired lease (the worker crashed) → taken over by exactly one request.
A finished request stores 2xx and business 4xx responses. A 5xx, or any answer carrying Retry-After
(409 busy after a lock timeout, 409 payment_in_progress, 429), says "try again": it stores nothing
(a committed claim is deleted) so the retry runs again (its database work rolled back, and outside
calls such as the payment gateway are idempotent themselves) instead of replaying a transient
refusal for 24 hours.
"""

import functools
import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import NotAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from apps.core.api.fields import NOT_BLANK
from apps.core.exceptions import ApplicationError, Conflict, UnprocessableEntity
from apps.core.models import IdempotencyKey

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255

# Headers worth replaying; the rest (Content-Type aside, stored separately) are set per response
# by middleware (X-Request-ID, Vary, security headers).
_REPLAYED_RESPONSE_HEADERS = ("Location", "WWW-Authenticate")

IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    name=IDEMPOTENCY_HEADER,
    # Spaces only count as no key at all.
    type={"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH, "pattern": NOT_BLANK},
    location=OpenApiParameter.HEADER,
    required=True,
    description=(
        "A unique key per logical request (at most 255 characters, e.g. a UUID). Retrying with the "
        "same key and body returns the first response with `Idempotent-Replayed: true`."
    ),
)


class IdempotencyKeyMissing(ApplicationError):
    code = "idempotency_key_missing"
    http_status = 400
    title = "The Idempotency-Key header is required"


class IdempotencyKeyInvalid(ApplicationError):
    code = "idempotency_key_invalid"
    http_status = 400
    title = "The Idempotency-Key header is invalid"


class IdempotencyKeyReused(UnprocessableEntity):
    code = "idempotency_key_reused"
    title = "This Idempotency-Key was used for a different request"


class IdempotencyKeyInUse(Conflict):
    code = "idempotency_key_in_use"
    title = "A request with this Idempotency-Key is still being processed"
    retry_after = 1


@dataclass(frozen=True, slots=True)
class IdempotencyClaim:
    """The outcome of claiming a key: either we hold it (`key_id`, `lease`) or `replay` is stored."""

    key_id: int | None = None
    lease: datetime | None = None
    replay: IdempotencyKey | None = None


def request_fingerprint(*, method: str, route: str, body: Any) -> str:
    """SHA-256 of method, route and the body as canonical JSON (sorted keys, no whitespace)."""
    canonical = json.dumps(body, cls=JSONEncoder, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{method.upper()}\n{route}\n{canonical}".encode()).hexdigest()


def idempotency_key_claim(
    *, owner: Any, key: str, method: str, route: str, fingerprint: str
) -> IdempotencyClaim:
    """Claim (owner, key) before any work, in its own committed transaction.

    Raises IdempotencyKeyReused (422) when the key was used with another fingerprint and
    IdempotencyKeyInUse (409, Retry-After) while another request holds a live lease. Returns a claim
    with `replay` set when the first request completed.
    """
    # Two rounds: the row we collided with may be released (deleted) before we read it.
    for _ in range(2):
        now = timezone.now()
        lease = now + timedelta(seconds=settings.IDEMPOTENCY_LEASE_SECONDS)
        try:
            with transaction.atomic(durable=True):
                row = IdempotencyKey.objects.create(
                    owner=owner,
                    key=key,
                    method=method,
                    route=route[:255],
                    request_fingerprint=fingerprint,
                    state=IdempotencyKey.State.IN_PROGRESS,
                    lease_expires_at=lease,
                )
            return IdempotencyClaim(key_id=row.pk, lease=lease)
        except IntegrityError:
            existing = IdempotencyKey.objects.filter(owner=owner, key=key).first()
        if existing is None:
            continue
        if existing.request_fingerprint != fingerprint:
            raise IdempotencyKeyReused(
                "This Idempotency-Key was already used with a different request body or endpoint."
            )
        if existing.state == IdempotencyKey.State.COMPLETED:
            return IdempotencyClaim(replay=existing)
        if existing.lease_expires_at > now:
            raise _in_use(existing.lease_expires_at - now)
        # The holder's lease ran out (it crashed): a conditional UPDATE lets exactly one taker win.
        taken = IdempotencyKey.objects.filter(
            pk=existing.pk, state=IdempotencyKey.State.IN_PROGRESS, lease_expires_at=existing.lease_expires_at
        ).update(lease_expires_at=lease)
        if taken:
            return IdempotencyClaim(key_id=existing.pk, lease=lease)
        raise _in_use(timedelta(seconds=settings.IDEMPOTENCY_LEASE_SECONDS))
    raise _in_use(timedelta(seconds=1))


def _in_use(remaining: timedelta) -> IdempotencyKeyInUse:
    return IdempotencyKeyInUse(
        "The first request with this key is still running; retry shortly.",
        retry_after=max(1, math.ceil(remaining.total_seconds())),
    )


def idempotency_key_complete(
    *, claim: IdempotencyClaim, status: int, headers: dict[str, str], body: Any
) -> bool:
    """Store the response of the request holding `claim`. False if its lease was taken over."""
    stored = IdempotencyKey.objects.filter(
        pk=claim.key_id, state=IdempotencyKey.State.IN_PROGRESS, lease_expires_at=claim.lease
    ).update(
        state=IdempotencyKey.State.COMPLETED,
        response_status=status,
        response_headers=headers,
        response_body=body,
        completed_at=timezone.now(),
    )
    return bool(stored)


def idempotency_key_release(*, claim: IdempotencyClaim) -> None:
    """Delete the claim (after a 5xx or a Retry-After answer) so a retry with the same key runs again.

    The 5xx may be the request's database connection dropping between transactions (a failed
    transaction closes its connection itself; a failed autocommit read does not): a dead connection
    is closed first so that the delete runs on a fresh one, instead of failing too and leaving the
    key claimed (every retry would be a 409 idempotency_key_in_use until the lease ran out).
    """
    if not connection.in_atomic_block:
        connection.close_if_unusable_or_obsolete()
    IdempotencyKey.objects.filter(
        pk=claim.key_id, state=IdempotencyKey.State.IN_PROGRESS, lease_expires_at=claim.lease
    ).delete()


def purge_idempotency_keys(*, older_than: datetime) -> int:
    """Delete keys created before `older_than` (kept IDEMPOTENCY_RETENTION_HOURS); returns how many."""
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=older_than).delete()
    return deleted


def _replay(row: IdempotencyKey) -> Response:
    headers = dict(row.response_headers or {})
    content_type = headers.pop("Content-Type", None)
    response = Response(
        row.response_body, status=row.response_status, headers=headers, content_type=content_type
    )
    response[REPLAYED_HEADER] = "true"
    return response


def _run_handler(
    view_method: Callable[..., Response], view: Any, request: Request, *args: Any, **kwargs: Any
) -> Response:
    try:
        return view_method(view, request, *args, **kwargs)
    except Exception as exc:  # rendered here, not by dispatch, so that business errors are stored too
        return view.handle_exception(exc)


def _key_and_fingerprint(request: Request) -> tuple[str, str]:
    """The request's Idempotency-Key and fingerprint; raises 401 for an anonymous caller (keys belong
    to a user) and 400 for a missing or over-long key."""
    if not request.user or not request.user.is_authenticated:
        raise NotAuthenticated()
    key = request.headers.get(IDEMPOTENCY_HEADER, "")
    if not key.strip():
        raise IdempotencyKeyMissing(f"Send an {IDEMPOTENCY_HEADER} header, e.g. a new UUID per request.")
    if len(key) > MAX_KEY_LENGTH:
        raise IdempotencyKeyInvalid(
            f"The {IDEMPOTENCY_HEADER} header is longer than {MAX_KEY_LENGTH} characters."
        )
    return key, request_fingerprint(method=request.method, route=request.path, body=request.data)


def _storable(response: Response) -> tuple[int, dict[str, str], Any] | None:
    """(status, headers, body) of an answer worth replaying; None for a 5xx or a "retry" answer."""
    if response.status_code >= 500 or response.has_header("Retry-After"):
        return None
    headers = {name: response[name] for name in _REPLAYED_RESPONSE_HEADERS if response.has_header(name)}
    if response.content_type:
        headers["Content-Type"] = response.content_type
    return response.status_code, headers, json.loads(json.dumps(response.data, cls=JSONEncoder))


def idempotent(view_method: Callable[..., Response]) -> Callable[..., Response]:
    """Make a DRF APIView handler (e.g. `post`) idempotent under the `Idempotency-Key` header, with a
    committed claim (for work that calls outside: see the module's docstring).

    The caller must be authenticated (keys are scoped to request.user). Exceptions raised by the
    handler are rendered by the view's exception handler first, so business errors (4xx) are stored
    and replayed like successes.
    """

    @functools.wraps(view_method)
    def wrapper(view: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        key, fingerprint = _key_and_fingerprint(request)
        claim = idempotency_key_claim(
            owner=request.user, key=key, method=request.method, route=request.path, fingerprint=fingerprint
        )
        if claim.replay is not None:
            return _replay(claim.replay)
        try:
            response = _run_handler(view_method, view, request, *args, **kwargs)
        except BaseException:
            idempotency_key_release(claim=claim)
            raise
        stored = _storable(response)
        if stored is None:
            idempotency_key_release(claim=claim)
            return response
        status, headers, body = stored
        idempotency_key_complete(claim=claim, status=status, headers=headers, body=body)
        return response

    return wrapper


class IdempotencyKeyTaken(Exception):
    """Recording a key found it taken: another request with the key committed first. Raised inside
    the work's transaction, which must roll back; `TransactionalKey.stored` then tells the answer."""


@dataclass(frozen=True)
class TransactionalKey:
    """An Idempotency-Key recorded in the transaction of the work it guards (see the module's docstring)."""

    owner: Any
    key: str
    method: str
    route: str
    fingerprint: str

    def record(self, *, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        """Insert the key, completed with this answer, in the caller's transaction (its last statement).

        Raises IdempotencyKeyTaken when the key exists (waiting first, if the request that inserted it
        has not committed yet): the caller's transaction must then roll back.
        """
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        key_column = connection.ops.quote_name("key")  # a reserved word in MySQL
        try:
            # Written here rather than built by the ORM: it is the last statement of every hold.
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {IdempotencyKey._meta.db_table} (owner_id, {key_column}, method, route,"
                    " request_fingerprint, state, lease_expires_at, response_status, response_headers,"
                    " response_body, created_at, completed_at) VALUES"
                    " (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    [
                        self.owner.pk,
                        self.key,
                        self.method,
                        self.route[:255],
                        self.fingerprint,
                        IdempotencyKey.State.COMPLETED,
                        now,
                        status,
                        json.dumps(headers or {}),
                        json.dumps(body, cls=JSONEncoder),
                        now,
                        now,
                    ],
                )
        except IntegrityError:
            raise IdempotencyKeyTaken() from None

    def record_alone(
        self, *, status: int, body: Any, headers: dict[str, str] | None = None
    ) -> IdempotencyKey | None:
        """`record` in a transaction of its own, for an answer decided outside the work's transaction
        (a refusal). Returns the stored row instead when another request recorded the key first."""
        try:
            with transaction.atomic(durable=True):
                self.record(status=status, body=body, headers=headers)
        except IdempotencyKeyTaken:
            return self.stored()
        return None

    def stored(self) -> IdempotencyKey:
        """The answer another request recorded for this key (after IdempotencyKeyTaken).

        Raises IdempotencyKeyReused (422) when that request was another one (body or endpoint), and
        IdempotencyKeyInUse (409) when the key is held by a request that has not finished.
        """
        row = IdempotencyKey.objects.filter(owner=self.owner, key=self.key).first()
        if row is None:  # purged or released meanwhile: the client's retry runs again
            raise _in_use(timedelta(seconds=1))
        if row.request_fingerprint != self.fingerprint:
            raise IdempotencyKeyReused(
                "This Idempotency-Key was already used with a different request body or endpoint."
            )
        if row.state != IdempotencyKey.State.COMPLETED:
            raise _in_use(max(row.lease_expires_at - timezone.now(), timedelta(seconds=1)))
        return row


def idempotency_answer_recorded(*, owner: Any, key: str) -> Any | None:
    """The body answered under `owner`'s `key`, whatever request it answered (None while none is
    recorded). Where the key is a page's own (apps/core/forms.py: IdempotentForm), the page sent again
    with other data is led to what it did the first time."""
    row = (
        IdempotencyKey.objects.filter(owner=owner, key=key, state=IdempotencyKey.State.COMPLETED)
        .only("response_body")
        .first()
    )
    return None if row is None else row.response_body


def idempotent_in_transaction(view_method: Callable[..., Response]) -> Callable[..., Response]:
    """Make a DRF APIView handler idempotent under `Idempotency-Key` for work that is one database
    transaction: the handler gets `idempotency=` a TransactionalKey and records its answer with it
    as the last statement of that transaction (e.g. through the service's before_commit).

    A duplicate of a committed request replays its answer; a business refusal (4xx) is rendered and
    stored in a transaction of its own, unless a concurrent duplicate got there first, whose answer
    is replayed instead; a 5xx or a "retry" answer stores nothing.
    """

    @functools.wraps(view_method)
    def wrapper(view: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        key, fingerprint = _key_and_fingerprint(request)
        idempotency = TransactionalKey(
            owner=request.user, key=key, method=request.method, route=request.path, fingerprint=fingerprint
        )
        try:
            return view_method(view, request, *args, idempotency=idempotency, **kwargs)
        except IdempotencyKeyTaken:
            return _replay(idempotency.stored())
        except Exception as exc:  # rendered here, not by dispatch, so that business errors are stored
            response = view.handle_exception(exc)
        stored = _storable(response)
        if stored is not None:
            status, headers, body = stored
            first = idempotency.record_alone(status=status, body=body, headers=headers)
            if first is not None:
                return _replay(first)
        return response

    return wrapper
