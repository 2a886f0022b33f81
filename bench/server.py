"""The server under test: gunicorn serving airline.wsgi, started and always stopped by the bench."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

BASE_DIR = Path(__file__).resolve().parent.parent
READY_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 15


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Gunicorn:
    """`with Gunicorn(...) as server:` starts gunicorn, waits for /healthz, and stops it on exit.

    gunicorn runs in its own process group, so stopping it (SIGTERM, then SIGKILL after
    STOP_TIMEOUT_SECONDS) also ends its workers, whatever state they are in.
    """

    def __init__(self, *, env: dict[str, str], workers: int, threads: int, log_path: Path) -> None:
        self.env, self.workers, self.threads, self.log_path = env, workers, threads, log_path
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def command(self) -> list[str]:
        # The production configuration (gunicorn.conf.py), on a free loopback port.
        return [
            str(Path(sys.executable).with_name("gunicorn")),
            f"--config={BASE_DIR / 'gunicorn.conf.py'}",
            "airline.wsgi:application",
            f"--bind=127.0.0.1:{self.port}",
            f"--workers={self.workers}",
            f"--threads={self.threads}",
            # gthread keeps connections alive between requests; sync (one thread) closes each one.
            f"--worker-class={'gthread' if self.threads > 1 else 'sync'}",
        ]

    def __enter__(self) -> "Gunicorn":
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("w")
        self.process = subprocess.Popen(
            self.command(),
            env={**os.environ, **self.env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}; see {self.log_path}")
            try:
                with urllib.request.urlopen(f"{self.base_url}/healthz", timeout=1) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.1)  # polling a starting process: there is nothing to wait on instead
        raise RuntimeError(f"gunicorn did not answer /healthz within {READY_TIMEOUT_SECONDS} s")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        group = os.getpgid(self.process.pid)
        os.killpg(group, signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(group, signal.SIGKILL)
            self.process.wait()
        # Workers left behind by a master that died first still belong to the group.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)
