"""Read replicas: which reads may leave the primary, and which replicas are fit to take them.

The rules (docs/SCALING.md, "Read replicas"):

- Every write, and every read outside `catalogue_read`, goes to the primary (`default`). A booking,
  payment, idempotency key, sign-in, the sweeper and every staff action read the primary because
  nothing routes them anywhere else: the router below answers `default` unless a catalogue read is
  in progress, and then only for the flights app's models.
- `catalogue_read(read)` runs the reads of search, the results page, fares by day, a flight's detail
  and its seat map (the entry points call it; a hold never does) on a healthy replica, or on the
  primary when there is none, when the reads run inside a transaction, or when the client wrote
  moments ago (read-your-writes: `ReplicaPinMiddleware` in apps/core/middleware.py).
- A replica is healthy while it replicates and is at most `REPLICA_MAX_LAG_SECONDS` behind, less
  the time a verdict is reused (`REPLICA_CHECK_SECONDS`), so what a read sees is never older than
  `REPLICA_MAX_LAG_SECONDS`. The verdict is kept per process for `REPLICA_CHECK_SECONDS`; a replica
  that cannot be reached costs one connect timeout (1 s) per check at most, and a read that fails on
  a replica is marked down and answered from the primary.

With no replica configured (`DATABASE_REPLICA_URLS` empty) no router is installed and
`catalogue_read` just calls its function: everything reads the primary, as it always did.
"""

import contextlib
import logging
import random
import threading
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, InterfaceError, OperationalError, connections

logger = logging.getLogger(__name__)

T = TypeVar("T")

# How long a replica's verdict (usable or not) is reused by this process before it is asked again.
REPLICA_CHECK_SECONDS = 1.0
# The apps whose models a catalogue read may take from a replica.
CATALOGUE_APPS = frozenset({"flights"})

# The replica alias the current catalogue read uses; None outside one.
_catalogue_alias: ContextVar[str | None] = ContextVar("catalogue_alias", default=None)
# True while a request of a client that wrote moments ago is handled (ReplicaPinMiddleware).
replica_pinned: ContextVar[bool] = ContextVar("replica_pinned", default=False)


class ReplicaRouter:
    """Installed only when replicas are configured (airline/settings/base.py)."""

    def db_for_read(self, model: type, **hints: Any) -> str:
        alias = _catalogue_alias.get()
        if alias is not None and model._meta.app_label in CATALOGUE_APPS:
            return alias
        # Not None: Django would then read where a related instance came from, and an instance a
        # catalogue read brought from a replica must not draw later reads there.
        return DEFAULT_DB_ALIAS

    def db_for_write(self, model: type, **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True  # every alias holds the same rows (the replicas copy the primary)

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == DEFAULT_DB_ALIAS  # replicas receive the schema through replication


def catalogue_read(read: Callable[[], T]) -> T:
    """`read()` with the flights app's reads on a healthy replica, if one may be used now; else on
    the primary. A replica that fails during the read (it went away) is marked down and the read
    runs again on the primary: catalogue reads write nothing, so running one twice is harmless."""
    alias = replica_for_reads()
    if alias == DEFAULT_DB_ALIAS:
        return read()
    scope = _catalogue_alias.set(alias)
    try:
        return read()
    except (OperationalError, InterfaceError) as error:
        _close(alias)
        _mark_down(alias, _one_line(error))
    finally:
        _catalogue_alias.reset(scope)
    return read()


def replica_for_reads() -> str:
    """The alias a catalogue read may use now: a healthy replica chosen at random, or `default`."""
    aliases = settings.DATABASE_REPLICA_ALIASES
    if not aliases:
        return DEFAULT_DB_ALIAS
    primary = connections[DEFAULT_DB_ALIAS]
    if replica_pinned.get() or primary.in_atomic_block:
        return DEFAULT_DB_ALIAS
    usable = [alias for alias in aliases if not _is_primary(alias, primary.settings_dict) and _usable(alias)]
    return random.choice(usable) if usable else DEFAULT_DB_ALIAS


def _is_primary(alias: str, primary: dict[str, Any]) -> bool:
    """Whether the alias names the primary's own database: in the test suite each replica alias
    mirrors the primary (TEST MIRROR), which is then the primary, not a replica to check."""
    replica = connections[alias].settings_dict
    return all(replica.get(key) == primary.get(key) for key in ("HOST", "PORT", "NAME"))


@dataclass(slots=True)
class _ReplicaState:
    usable: bool = False
    checked_at: float = float("-inf")  # time.monotonic() of the last verdict
    # When the replica was last known to hold everything the primary had committed (monotonic), so
    # a replica whose SQL thread stopped is used only while that is recent enough.
    fresh_as_of: float | None = None
    announced: bool = False  # whether a verdict has been logged yet


_states: dict[str, _ReplicaState] = {}
_states_lock = threading.Lock()


def _state(alias: str) -> _ReplicaState:
    with _states_lock:
        return _states.setdefault(alias, _ReplicaState())


def _usable(alias: str) -> bool:
    state = _state(alias)
    now = time.monotonic()
    if now - state.checked_at < REPLICA_CHECK_SECONDS:
        return state.usable
    with _states_lock:  # one thread asks; the others keep the last verdict meanwhile
        if now - state.checked_at < REPLICA_CHECK_SECONDS:
            return state.usable
        state.checked_at = now
    usable, reason = _check(alias, state, now)
    _record(alias, state, usable, reason)
    return usable


def _mark_down(alias: str, reason: str) -> None:
    state = _state(alias)
    state.checked_at = time.monotonic()
    _record(alias, state, False, reason)


def _record(alias: str, state: _ReplicaState, usable: bool, reason: str) -> None:
    if usable != state.usable or not state.announced:
        state.announced = True
        if usable:
            logger.info("Replica %s is up (%s): catalogue reads use it", alias, reason)
        else:
            logger.warning("Replica %s is down (%s): catalogue reads go to the primary", alias, reason)
    state.usable = usable


def _check(alias: str, state: _ReplicaState, now: float) -> tuple[bool, str]:
    """Whether the replica may serve reads now, and why: reachable, replicating, and behind the
    primary by at most REPLICA_MAX_LAG_SECONDS less REPLICA_CHECK_SECONDS (the verdict's reuse).

    The lag is MariaDB's Seconds_Behind_Master while both replication threads run (rounded up: the
    server rounds it down). While the SQL thread is stopped that is NULL, so the replica's applied
    GTID position is compared with the one its I/O thread received: equal, it holds all it was sent;
    behind, it is as old as the last moment this process saw it hold everything (no heartbeat table
    needed). Needs the REPLICATION CLIENT (SLAVE MONITOR) privilege on the replica.
    """
    connection = connections[alias]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SHOW SLAVE STATUS")
            row = cursor.fetchone()
            status = dict(zip([column[0] for column in cursor.description], row, strict=True)) if row else {}
            cursor.execute("SELECT @@gtid_slave_pos")
            (applied,) = cursor.fetchone()
    except DatabaseError as error:  # unreachable, gone, or not allowed to ask
        _close(alias)
        return False, f"check failed: {_one_line(error)}"
    if not status:
        return False, "not replicating: SHOW SLAVE STATUS is empty"
    if status.get("Slave_IO_Running") != "Yes":
        return False, f"replication I/O thread {status.get('Slave_IO_Running')}"
    if status.get("Slave_SQL_Running") == "Yes":
        behind = status.get("Seconds_Behind_Master")
        if behind is None:
            return False, "lag unknown"
        lag = float(behind) + 1
        state.fresh_as_of = now - lag
    else:
        received = _gtid_positions(status.get("Gtid_IO_Pos") or "")
        if not received:
            return False, "SQL thread stopped and no GTID position to compare"
        if all(_gtid_positions(applied or "").get(domain) == seq for domain, seq in received.items()):
            state.fresh_as_of = now
        elif state.fresh_as_of is None:
            return False, "SQL thread stopped, behind by an unknown time"
        lag = now - state.fresh_as_of
    allowed = settings.REPLICA_MAX_LAG_SECONDS - REPLICA_CHECK_SECONDS
    if lag > allowed:
        return False, f"{lag:.1f} s behind the primary, more than {allowed:.0f} s allowed"
    return True, f"at most {lag:.1f} s behind the primary"


def _gtid_positions(text: str) -> dict[str, str]:
    """A GTID position such as "0-1-264,1-2-17" as {domain: "server-sequence"}."""
    positions = {}
    for gtid in text.replace(" ", "").split(","):
        domain, _, rest = gtid.partition("-")
        if rest:
            positions[domain] = rest
    return positions


def _close(alias: str) -> None:
    """Drop this thread's connection to the replica, so the next check connects afresh."""
    with contextlib.suppress(DatabaseError):
        connections[alias].close()


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__
