"""Database helpers shared by every app's services.

`retry_on_lock_conflict` bounds what a use case does when InnoDB gives up on it
(docs/ARCHITECTURE.md, "Locks"): a lock wait timeout (MySQL error 1205, after
`innodb_lock_wait_timeout` seconds) or a deadlock (1213, the victim's whole transaction is rolled
back) is retried once in a fresh transaction, then answered `409 busy` with `Retry-After`. In the
embedded SQLite mode, "database is locked" plays the same part. `LockedRowsChanged` (the rows to lock
changed while they were being locked, apps/core/locking.py) is retried the same way.
"""

import functools
import logging
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from django.db import OperationalError, connection

from apps.core.exceptions import Busy
from apps.core.locking import LockedRowsChanged

logger = logging.getLogger(__name__)

MYSQL_LOCK_WAIT_TIMEOUT = 1205
MYSQL_DEADLOCK = 1213

P = ParamSpec("P")
R = TypeVar("R")


def is_lock_conflict(error: BaseException) -> bool:
    """True for a lock wait timeout, a deadlock or LockedRowsChanged: errors a fresh transaction may not
    meet again."""
    if isinstance(error, LockedRowsChanged):
        return True
    if not isinstance(error, OperationalError) or not error.args:
        return False
    first = error.args[0]
    if isinstance(first, int):
        return first in (MYSQL_LOCK_WAIT_TIMEOUT, MYSQL_DEADLOCK)
    return "database is locked" in str(first)


def retry_on_lock_conflict(func: Callable[P, R]) -> Callable[P, R]:
    """Run `func` again once after a lock conflict (or LockedRowsChanged), then raise Busy.

    Put it on the outermost use case only: the retry needs the failed transaction to be over, so
    inside an enclosing transaction a conflict is answered Busy at once.
    """

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except (OperationalError, LockedRowsChanged) as error:
            if not is_lock_conflict(error):
                raise
            if connection.in_atomic_block:
                raise Busy() from error
            logger.info("%s retried after a lock conflict: %s", func.__qualname__, error)
        try:
            return func(*args, **kwargs)
        except (OperationalError, LockedRowsChanged) as error:
            if not is_lock_conflict(error):
                raise
            logger.warning("%s gave up after a second lock conflict: %s", func.__qualname__, error)
            raise Busy() from error

    return wrapper
