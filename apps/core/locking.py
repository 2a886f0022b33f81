"""Row locks: the one helper every service locks through, and the one lock order.

Two use cases that lock the same rows in different orders can wait on each other forever (InnoDB
then kills one as a deadlock). So every row lock in Airline is taken through `lock_rows`, inside a
`locked_transaction`, and in this order (docs/ARCHITECTURE.md, "Locks"):

    flight → airplane → booking(s) → payment (→ outbox rows, which the relay locks alone)

Within one kind, rows are locked by ascending primary key. A use case may skip kinds (a payment
locks its booking, then the payment), never go back to an earlier one: `lock_rows` refuses that,
and refuses to run outside a `locked_transaction`, so a wrong order fails in the first test that
runs it instead of as a rare deadlock in production. Seat assignments and seat counters are never
locked themselves: they change only while their flight's row is locked, or through a conditional
UPDATE of that row (the optimistic hold).

This module names other apps' models by label only; it imports none of them.
"""

import contextlib
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TypeVar

from django.db import connection, models, transaction

from apps.core.rows import model_from_row

# Model labels (app_label.ModelName, lower case), in the order their rows may be locked.
LOCK_ORDER: tuple[str, ...] = (
    "flights.flight",
    "flights.airplane",
    "bookings.booking",
    "payments.payment",
    "notifications.notification",  # the outbox relay's claim; locked on its own
)

M = TypeVar("M", bound=models.Model)


class LockOrderViolation(RuntimeError):
    """A lock taken against LOCK_ORDER, or outside a locked_transaction: a programming error."""


class LockedRowsChanged(Exception):
    """The rows a use case had to lock changed between reading which they are and locking them (a
    booking moved to another flight meanwhile: apps/bookings/locks.py). Rows of an earlier kind cannot
    be locked any more in this transaction, so `retry_on_lock_conflict` (apps/core/db.py) runs the use
    case again in a fresh one, as after a deadlock."""


@dataclass
class _Scope:
    highest: int = -1


_scope: ContextVar[_Scope | None] = ContextVar("lock_scope", default=None)


@contextlib.contextmanager
def locked_transaction(*, durable: bool = True) -> Iterator[None]:
    """A transaction in which rows may be locked (with `lock_rows`), in LOCK_ORDER.

    `durable` (the default) makes it the outermost transaction, as a use case's must be: its locks
    are released at its end, not at some caller's. Catalogue writes that the admin wraps in its own
    transaction pass durable=False. A nested locked_transaction continues the enclosing one's order.
    """
    outer = _scope.get()
    with transaction.atomic(durable=durable and outer is None):
        token = _scope.set(outer or _Scope())
        try:
            yield
        finally:
            _scope.reset(token)


def lock_rows(queryset: models.QuerySet[M], *, skip_locked: bool = False) -> list[M]:
    """SELECT … FOR UPDATE the rows of `queryset`, by ascending primary key, and return them.

    `skip_locked` leaves out rows another transaction holds (the hold sweeper's batches). Raises
    LockOrderViolation outside a locked_transaction or when `queryset`'s model comes before one
    already locked in this transaction.
    """
    _order_take(queryset.model)
    ordered = tuple(queryset.query.order_by) in (("pk",), ("id",))
    if queryset.query.is_sliced and not ordered:
        raise LockOrderViolation("A sliced queryset is locked only when ordered by primary key.")
    if not ordered and queryset.query.order_by:
        raise LockOrderViolation("Rows are locked by ascending primary key only.")
    if not queryset.query.is_sliced:
        queryset = queryset.order_by("pk")
    return list(queryset.select_for_update(skip_locked=skip_locked))


def lock_row(queryset: models.QuerySet[M]) -> M | None:
    """`lock_rows` for at most one row (a lookup by primary key): the row, or None."""
    rows = lock_rows(queryset)
    return rows[0] if rows else None


def lock_row_raw(model: type[M], pk: int, columns: Sequence[str]) -> M | None:
    """Lock one row by primary key reading only `columns`, with SQL written here rather than built by
    the ORM: for the hot path (a hold locks its flight on every request), where building the query
    cost several times what the database spends answering it. The same rules as `lock_rows`.

    Returns the row as a model instance with those columns loaded (the others deferred), or None.
    """
    _order_take(model)
    options = model._meta
    selected = list(dict.fromkeys([options.pk.attname, *columns]))
    sql = f"SELECT {', '.join(selected)} FROM {options.db_table} WHERE {options.pk.column} = %s"
    if connection.features.has_select_for_update:
        sql += " FOR UPDATE"
    with connection.cursor() as cursor:
        cursor.execute(sql, [pk])
        row = cursor.fetchone()
    return None if row is None else model_from_row(model, selected, row)


def _order_take(model: type[models.Model]) -> None:
    """Check that rows of `model` may be locked now, and record that they are."""
    scope = _scope.get()
    if scope is None or not connection.in_atomic_block:
        raise LockOrderViolation("Rows are locked only inside locked_transaction().")
    label = model._meta.label_lower
    try:
        rank = LOCK_ORDER.index(label)
    except ValueError:
        raise LockOrderViolation(f"{label} has no place in LOCK_ORDER.") from None
    if rank < scope.highest:
        raise LockOrderViolation(f"{label} locked after {LOCK_ORDER[scope.highest]}: see LOCK_ORDER.")
    scope.highest = rank
