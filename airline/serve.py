"""The production web server's configuration, in one place: `python -m airline.serve`.

granian (a web server written in Rust) serves the WSGI application with WORKERS processes of THREADS
blocking threads each, keeping connections alive. Chosen by measurement: in the same `make
bench-servers` run it was ahead of gunicorn's gthread workers (3 × 4) on every scenario measured
(docs/SCALING.md). The image, compose and `make bench` all run this. SERVER_BIND (host:port),
SERVER_WORKERS and SERVER_THREADS override the values below, e.g. to bind to loopback for the bench.
"""

import os
import sys
from pathlib import Path

BIND = "0.0.0.0:8000"
WORKERS = 3
THREADS = 4
BACKLOG = 2048
WSGI_APP = "airline.wsgi:application"
OVERRIDES = ("SERVER_BIND", "SERVER_WORKERS", "SERVER_THREADS")


def command(environment: os._Environ | dict[str, str] = os.environ) -> list[str]:
    """The server's command line, with the environment's overrides."""
    host, _, port = environment.get("SERVER_BIND", BIND).rpartition(":")
    return [
        str(Path(sys.executable).with_name("granian")),
        "--interface=wsgi",
        f"--host={host}",
        f"--port={port}",
        f"--workers={int(environment.get('SERVER_WORKERS', WORKERS))}",
        f"--blocking-threads={int(environment.get('SERVER_THREADS', THREADS))}",
        f"--backlog={BACKLOG}",
        "--http1-keep-alive",
        "--no-ws",
        "--respawn-failed-workers",
        WSGI_APP,
    ]


def main() -> None:
    argv = command()
    os.execv(argv[0], argv)


if __name__ == "__main__":
    main()
