"""The server under test, started and always stopped by the bench: the production configuration
(airline/serve.py as it is) or a variant, for comparing servers in one run (docs/BENCHMARK.md).

A variant is written `CLASS:WORKERSxTHREADS` (or `CLASS:WORKERS` for one thread each):
- `gthread:3x4`, `sync:4`, `asgi:3`: gunicorn with the repository's gunicorn.conf.py, its worker class,
  workers and threads overridden through the GUNICORN_* variables that file reads;
- `granian:3x4`: granian serving the same WSGI application, 3 workers of 4 blocking threads each.
"""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from airline import serve

BASE_DIR = Path(__file__).resolve().parent.parent
GUNICORN_CONF = BASE_DIR / "gunicorn.conf.py"
WSGI_APP = "airline.wsgi:application"
ASGI_APP = "airline.asgi:application"  # gunicorn's asgi worker serves the ASGI application
READY_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 15
GUNICORN_CLASSES = ("sync", "gthread", "asgi")
PRODUCTION = "conf"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def _without_gunicorn_overrides() -> Iterator[None]:
    """The production configuration is the file's own values, whatever GUNICORN_* the shell exported."""
    saved = {key: os.environ.pop(key) for key in list(os.environ) if key.startswith("GUNICORN_")}
    try:
        yield
    finally:
        os.environ.update(saved)


@dataclass(frozen=True)
class ServerSpec:
    """One server configuration: `kind` is "conf" (airline/serve.py untouched), "gunicorn" or "granian"."""

    kind: str
    worker_class: str
    workers: int
    threads: int
    keepalive: bool  # what the configuration promises; the bench also counts closed connections

    @property
    def label(self) -> str:
        shape = f"{self.workers}x{self.threads}" if self.threads > 1 else str(self.workers)
        name = "granian" if self.kind == "granian" else self.worker_class
        return f"{name}:{shape}" + (" (airline/serve.py)" if self.kind == PRODUCTION else "")

    @property
    def threads_total(self) -> int:
        return self.workers * self.threads

    @classmethod
    def production(cls) -> "ServerSpec":
        """What airline/serve.py configures: the image, compose and the bench all run this."""
        return cls(
            kind=PRODUCTION,
            worker_class="granian",
            workers=serve.WORKERS,
            threads=serve.THREADS,
            keepalive=True,  # --http1-keep-alive
        )

    @classmethod
    def parse(cls, text: str) -> "ServerSpec":
        """`gthread:3x4`, `sync:4`, `asgi:3` or `granian:3x4` (see the module's docstring)."""
        name, _, shape = text.strip().partition(":")
        workers_text, _, threads_text = shape.partition("x")
        try:
            workers, threads = int(workers_text), int(threads_text or 1)
        except ValueError:
            raise ValueError(f"server {text!r}: expected CLASS:WORKERSxTHREADS, e.g. gthread:3x4") from None
        if workers < 1 or threads < 1:
            raise ValueError(f"server {text!r}: workers and threads must be at least 1")
        if name == "granian":
            return cls(
                kind="granian", worker_class="granian", workers=workers, threads=threads, keepalive=True
            )
        if name not in GUNICORN_CLASSES:
            raise ValueError(f"server {text!r}: unknown class {name!r} (gthread, sync, asgi or granian)")
        if name != "gthread" and threads > 1:
            raise ValueError(f"server {text!r}: only gthread runs several threads per worker")
        return cls(
            kind="gunicorn", worker_class=name, workers=workers, threads=threads, keepalive=name != "sync"
        )

    def command(self, port: int) -> list[str]:
        if self.kind == PRODUCTION:
            # as the image runs it, on loopback at the bench's port (its values untouched)
            return serve.command({"SERVER_BIND": f"127.0.0.1:{port}"})
        bin_dir = Path(sys.executable).parent
        if self.kind == "granian":
            return [
                str(bin_dir / "granian"),
                "--interface=wsgi",
                "--host=127.0.0.1",
                f"--port={port}",
                f"--workers={self.workers}",
                f"--blocking-threads={self.threads}",
                "--backlog=2048",  # as gunicorn.conf.py
                "--no-ws",
                WSGI_APP,
            ]
        app = ASGI_APP if self.worker_class == "asgi" else WSGI_APP
        return [str(bin_dir / "gunicorn"), f"--config={GUNICORN_CONF}", app, f"--bind=127.0.0.1:{port}"]

    def environment(self) -> dict[str, str]:
        """GUNICORN_* overrides for a gunicorn variant; none for the production configuration."""
        if self.kind != "gunicorn":
            return {}
        return {
            "GUNICORN_WORKER_CLASS": self.worker_class,
            "GUNICORN_WORKERS": str(self.workers),
            "GUNICORN_THREADS": str(self.threads),
        }


class Server:
    """`with Server(spec, ...) as server:` starts it, waits for /healthz, and stops it on exit.

    The server runs in its own process group, so stopping it (SIGTERM, then SIGKILL after
    STOP_TIMEOUT_SECONDS) also ends its workers, whatever state they are in.
    """

    def __init__(self, spec: ServerSpec, *, env: dict[str, str], log_path: Path) -> None:
        self.spec, self.env, self.log_path = spec, env, log_path
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "Server":
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("w")
        with _without_gunicorn_overrides():
            environment = {**os.environ, **self.env, **self.spec.environment()}
        self.process = subprocess.Popen(
            self.spec.command(self.port),
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=BASE_DIR,
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
                raise RuntimeError(
                    f"{self.spec.label} exited with {self.process.returncode}; see {self.log_path}"
                )
            try:
                with urllib.request.urlopen(f"{self.base_url}/healthz", timeout=1) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.1)  # polling a starting process: there is nothing to wait on instead
        raise RuntimeError(f"{self.spec.label} did not answer /healthz within {READY_TIMEOUT_SECONDS} s")

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
