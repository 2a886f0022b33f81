"""A bench database on a MariaDB of the bench's own: `make bench-replica` and `make bench-capacity`.

`make bench` runs on the shared MariaDB (airline_bench). These two need a server whose work is
theirs alone: bench/replica.py a primary with a binary log and a replica (the shared server has no
binary log), bench/capacity.py a primary whose CPU time counts only the bench's bookings. Both get
it here: `prepared(...)` starts the pair (apps/core/testing/mariadb_pair.py) in var/bench/, creates
and migrates the bench database on the primary (the replica receives it by replication), configures
this process's Django for it, as bench/run.py does for the shared one, and loads the bench's
catalogue, users and spread flights (bench/data.py).

The servers run with the durability of the shared server and of a production primary
(`innodb_flush_log_at_trx_commit=1`: every commit flushes the redo log) and a binary log; a buffer
pool that holds the whole bench database.
"""

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from apps.core.testing.mariadb_pair import MariaDBPair, mariadb_pair
from bench.run import (
    LOG_DIR,
    SPREAD_FLIGHTS,
    SPREAD_SEATS,
    Config,
    database_create,
    django_setup,
    queue_delete,
)

if TYPE_CHECKING:  # bench.data imports Django's models: only once Django is set up for the primary
    from apps.accounts.models import User
    from bench.data import Catalogue

DATABASE = "airline_bench"
BENCH_OPTIONS = (
    "--innodb-buffer-pool-size=256M",
    "--innodb-log-file-size=64M",
    "--innodb-flush-log-at-trx-commit=1",
    "--max-connections=300",
)


@dataclass
class Prepared:
    pair: MariaDBPair
    config: Config  # database_url: the pair's primary
    catalogue: "Catalogue"
    users: list["User"]
    spread_ids: list[int]

    @property
    def replica_url(self) -> str:
        return self.pair.replica.url(DATABASE)


@contextlib.contextmanager
def prepared(config: Config, *, replica: bool, users: int) -> Iterator[Prepared]:
    """The pair running, the bench database migrated and loaded on its primary, Django set up for it.
    Stopped and its files removed on exit (the servers' logs stay in var/bench/)."""
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    root = tempfile.mkdtemp(prefix=f"{config.name}-", dir=LOG_DIR)
    try:
        with mariadb_pair(Path(root), replica=replica, options=BENCH_OPTIONS) as pair:
            config = replace(config, database_url=pair.primary.url(DATABASE), create_database=True)
            database_create(config.database_url)
            django_setup(config)
            from django.core.cache import cache
            from django.core.management import call_command

            from bench import data

            call_command("migrate", verbosity=0, interactive=False)
            cache.clear()
            queue_delete(config)
            catalogue = data.catalogue_prepare(datetime.now(UTC))
            bench_users = data.users_make(users)
            spread_ids = data.flights_make(catalogue.airports, count=SPREAD_FLIGHTS, seats=SPREAD_SEATS)
            if replica:
                pair.wait_caught_up(60)
            try:
                yield Prepared(pair, config, catalogue, bench_users, spread_ids)
            finally:
                queue_delete(config)
    finally:
        shutil.rmtree(root, ignore_errors=True)
