"""A MariaDB primary (binary log, GTID) and a replica of our own, in a temporary directory, on free ports.

Used by the read-replica tests (apps/core/tests/test_replicas.py) and by the benchmarks that need a
primary whose work is theirs alone: `make bench-replica` (bench/replica.py, search on the replica
while booking on the primary) and `make bench-capacity` (bench/capacity.py, the primary's CPU per
booking). The shared development MariaDB keeps binary logging off and serves every engineer's
tests, so neither replication nor a CPU count can be done on it.

`mariadb_pair(root)` runs `mariadb-install-db` once into `root/seed`, copies it for each server,
starts `mariadbd` on each (`--no-defaults`: nothing from the machine's my.cnf), points the replica at
the primary (`MASTER_USE_GTID=slave_pos`) and stops both on exit. No Django here: the bench imports
it before Django is configured for the primary it starts.
"""

import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import MySQLdb

STARTUP_SECONDS = 30
STOP_SECONDS = 20
# Small and fast by default (the tests); the bench passes its own sizes and durability in `options`.
DEFAULT_OPTIONS = (
    "--innodb-buffer-pool-size=32M",
    "--innodb-log-file-size=8M",
    "--innodb-flush-log-at-trx-commit=2",
)
PRIMARY_OPTIONS = ("--server-id=1", "--log-bin=binlog", "--gtid-domain-id=0")
REPLICA_OPTIONS = ("--server-id=2", "--relay-log=relay")


class MariaDBUnavailable(RuntimeError):
    """mariadbd or mariadb-install-db is not installed."""


def program(name: str) -> str:
    found = shutil.which(name) or next(
        (str(path) for path in (Path("/usr/sbin") / name, Path("/usr/bin") / name) if path.exists()), None
    )
    if found is None:
        raise MariaDBUnavailable(
            f"{name} was not found: a MariaDB primary and replica of our own need it"
            " (Debian: apt-get install mariadb-server)."
        )
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(
    condition: Callable[[], object],
    seconds: float,
    what: str,
    transient: tuple[type[BaseException], ...] = (),
) -> object:
    """The first true value of `condition()`, asked every 50 ms for at most `seconds`; an OSError,
    MySQLdb error or one of `transient` counts as not yet."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            value = condition()
        except (OSError, MySQLdb.Error, *transient):
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"Waited {seconds} s for {what}")
        time.sleep(0.05)


@dataclass
class MariaDB:
    """One mariadbd of our own, in `datadir`, on `port`."""

    name: str
    datadir: Path
    port: int
    extra: list[str]
    options: tuple[str, ...] = DEFAULT_OPTIONS
    process: subprocess.Popen | None = None

    def url(self, database: str) -> str:
        return f"mysql://root:@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        command = [
            program("mariadbd"),
            "--no-defaults",
            f"--datadir={self.datadir}",
            f"--port={self.port}",
            "--bind-address=127.0.0.1",
            f"--socket={self.datadir}.sock",
            f"--pid-file={self.datadir}.pid",
            f"--log-error={self.datadir}.err",
            "--skip-name-resolve",
            "--skip-performance-schema",
            "--character-set-server=utf8mb4",
            "--collation-server=utf8mb4_unicode_ci",
            *(["--user=root"] if os.geteuid() == 0 else []),
            *self.options,
            *self.extra,
        ]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def wait_ready(self) -> None:
        def answers() -> bool:
            if self.process.poll() is not None:
                log = Path(f"{self.datadir}.err").read_text(errors="replace")[-2000:]
                raise AssertionError(f"{self.name} mariadbd exited ({self.process.returncode}):\n{log}")
            self.query("SELECT 1")
            return True

        wait_until(answers, STARTUP_SECONDS, f"the {self.name} MariaDB to answer")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def query(self, *statements: str) -> list[tuple]:
        """Runs the statements in one session; the rows of the last."""
        connection = MySQLdb.connect(
            host="127.0.0.1", port=self.port, user="root", passwd="", connect_timeout=2
        )
        try:
            cursor = connection.cursor()
            for statement in statements:
                cursor.execute(statement)
            rows = list(cursor.fetchall())
            connection.commit()
            return rows
        finally:
            connection.close()

    def value(self, statement: str) -> object:
        return self.query(statement)[0][0]

    def selects(self) -> int:
        """How many SELECT statements the server has run (SHOW statements are not counted)."""
        return int(self.query("SHOW GLOBAL STATUS LIKE 'Com_select'")[0][1])


@dataclass
class MariaDBPair:
    primary: MariaDB
    replica: MariaDB | None
    root: Path

    def caught_up(self) -> bool:
        sent = self.primary.value("SELECT @@gtid_binlog_pos")
        return self.replica.value("SELECT @@gtid_slave_pos") == sent

    def wait_caught_up(self, seconds: float = STARTUP_SECONDS) -> None:
        wait_until(self.caught_up, seconds, "the replica to catch up")


@contextlib.contextmanager
def mariadb_pair(
    root: Path, *, replica: bool = True, options: tuple[str, ...] = DEFAULT_OPTIONS
) -> Iterator[MariaDBPair]:
    """A running primary (binary log, GTID) and, unless `replica=False`, a replica replicating it
    from the start (so every database created on the primary reaches it), their files under `root`.
    Both are stopped on exit; the files are left to the caller (a temporary directory)."""
    seed = root / "seed"
    subprocess.run(
        [
            program("mariadb-install-db"),
            "--no-defaults",
            f"--datadir={seed}",
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
            "--innodb-log-file-size=8M",
            *(["--user=root"] if os.geteuid() == 0 else []),
        ],
        check=True,
        capture_output=True,
    )
    primary = MariaDB("primary", root / "primary", free_port(), list(PRIMARY_OPTIONS), options)
    servers = [primary]
    if replica:
        servers.append(MariaDB("replica", root / "replica", free_port(), list(REPLICA_OPTIONS), options))
    for server in servers:
        shutil.copytree(seed, server.datadir, symlinks=True)
    pair = MariaDBPair(primary=primary, replica=servers[1] if replica else None, root=root)
    try:
        for server in servers:
            server.start()
        for server in servers:
            server.wait_ready()
        if pair.replica is not None:
            pair.replica.query(
                f"CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={primary.port}, MASTER_USER='root',"
                " MASTER_PASSWORD='', MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1",
                "START SLAVE",
            )
        yield pair
    finally:
        for server in reversed(servers):
            server.stop()
