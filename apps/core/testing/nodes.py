"""Web nodes for tests: the production server (airline/serve.py, granian) as separate processes on
loopback, each on a port of its own, all on this run's test database, Redis and broker.

What a load balancer in front of several nodes relies on (docs/SCALING.md, "The shape") is then
tested over real HTTP: no state kept in one node that another needs.
"""

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection

from airline import serve

READY_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 15


@dataclass(frozen=True)
class WebNode:
    name: str
    base_url: str
    log_path: Path

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def log_tail(self) -> str:
        return self.log_path.read_text()[-3000:] if self.log_path.exists() else ""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def this_run_database_url() -> str:
    """This run's test database as a URL a subprocess's settings read (DATABASE_URL)."""
    database = connection.settings_dict
    return (
        f"mysql://{database['USER']}:{database['PASSWORD']}@{database['HOST'] or '127.0.0.1'}:"
        f"{database['PORT'] or 3306}/{database['NAME']}"
    )


@contextlib.contextmanager
def running_web_node(
    name: str,
    *,
    log_dir: Path,
    settings_module: str = "airline.settings.test",
    environment: dict[str, str] | None = None,
    workers: int = 1,
    threads: int = 2,
) -> Iterator[WebNode]:
    """One node: `python -m airline.serve`'s command line (its workers and threads overridden, as
    SERVER_WORKERS and SERVER_THREADS allow), in a process group of its own, ready once /healthz
    answers; stopped on exit (SIGTERM to the group, SIGKILL after STOP_TIMEOUT_SECONDS)."""
    port = free_port()
    node = WebNode(name=name, base_url=f"http://127.0.0.1:{port}", log_path=log_dir / f"{name}.log")
    command = serve.command(
        {"SERVER_BIND": f"127.0.0.1:{port}", "SERVER_WORKERS": str(workers), "SERVER_THREADS": str(threads)}
    )
    node_environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": settings_module,
        "DATABASE_URL": this_run_database_url(),
        "CELERY_TASK_DEFAULT_QUEUE": settings.CELERY_TASK_DEFAULT_QUEUE,
        "PYTHONUNBUFFERED": "1",
        **(environment or {}),
    }
    with node.log_path.open("w") as log:
        process = subprocess.Popen(
            command,
            cwd=settings.BASE_DIR,
            env=node_environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_ready(node, process)
        yield node
    finally:
        _stop(process)


def _wait_ready(node: WebNode, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"web node {node.name} exited with {process.returncode}:\n{node.log_tail()}")
        try:
            with urllib.request.urlopen(node.url("/healthz"), timeout=1) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)  # polling a starting process, bounded by the deadline
    raise RuntimeError(f"web node {node.name} did not answer /healthz in {READY_TIMEOUT_SECONDS} s")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    group = os.getpgid(process.pid)
    os.killpg(group, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(group, signal.SIGKILL)
        process.wait()
    with contextlib.suppress(ProcessLookupError):  # workers left behind by a server that died first
        os.killpg(group, signal.SIGKILL)
