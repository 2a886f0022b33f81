"""`make run`'s last step: the development web server, a Celery worker and Celery beat, together.

The three run as child processes, each in a process group of its own, so a terminal's Ctrl-C
reaches make and this command but not them, and this command stops them in order: SIGTERM to each
group (the worker finishes its task, a warm shutdown), waiting for all of them before it returns,
so their last words come before the shell's prompt; a second Ctrl-C kills them at once. (Killed
itself with SIGKILL, it cannot stop them: they are found by their command lines then.)

When one of the three exits by itself (the web server cannot take its port, the worker cannot reach
its broker), the others are stopped too and the command fails, rather than leaving a worker and beat
running without a site. "Ready" is said only once /healthz answers.
"""

import contextlib
import os
import select
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

READY_TIMEOUT_SECONDS = 120
STOP_TIMEOUT_SECONDS = 30
# How often the web server is asked whether it answers yet, while nothing else wakes this command.
READY_POLL_SECONDS = 0.2
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Command(BaseCommand):
    help = "Run the development web server, a Celery worker and Celery beat together until Ctrl-C (make run)."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args, host: str, port: int, **options) -> None:
        address = f"[{host}]" if ":" in host else host
        site_url = f"http://{address}:{port}"
        celery = str(Path(sys.executable).with_name("celery"))
        programs = {
            "the web server": [sys.executable, "manage.py", "runserver", f"{address}:{port}"],
            "the Celery worker": [celery, "-A", "airline", "--quiet", "worker", "--pool=solo"],
            "Celery beat": [celery, "-A", "airline", "--quiet", "beat"],
        }
        environment = {
            **os.environ,
            # Links written outside a request (the mail outbox's log line) point at this server.
            "SITE_URL": site_url,
            "DJANGO_RUNSERVER_HIDE_WARNING": "true",
            "PYTHONUNBUFFERED": "1",
        }
        status = _Supervisor(self).run(programs, environment, ready_url=f"{_local(site_url, host)}/healthz")
        if status:
            raise SystemExit(status)

    def say(self, text: str, *, error: bool = False) -> None:
        # Flushed at once: the children write to the same terminal or pipe, in between.
        stream = self.stderr if error else self.stdout
        stream.write(text)
        stream.flush()

    def ready(self, site_url: str) -> None:
        self.say(
            self.style.SUCCESS(f"Airline is ready at {site_url}/")
            + f"\n  API docs {site_url}/api/docs/   admin {site_url}/{settings.ADMIN_URL}   "
            f"mail {site_url}/dev/mail/\n"
            "  Sign in as a demo user printed above. Ctrl-C stops the web server, the worker and beat."
        )


def _local(site_url: str, host: str) -> str:
    """Where this machine reaches a server listening on `host` (every address: the loopback one)."""
    return site_url.replace("[::]", "[::1]") if host == "::" else site_url.replace("0.0.0.0", "127.0.0.1")


class _Supervisor:
    def __init__(self, command: Command):
        self.command = command
        self.stop_requests: list[int] = []
        self.children: dict[str, subprocess.Popen] = {}

    def run(self, programs: dict[str, list[str]], environment: dict[str, str], *, ready_url: str) -> int:
        self._listen_for_signals()
        for name, arguments in programs.items():
            self.children[name] = subprocess.Popen(
                arguments,
                cwd=settings.BASE_DIR,
                env=environment,
                stdin=subprocess.DEVNULL,
                process_group=0,
            )
        failure = self._wait_until_ready(ready_url)
        if failure is None and not self.stop_requests:
            self.command.ready(environment["SITE_URL"])
            failure = self._wait_for_an_end()
        if failure:
            self.command.say(f"{failure}, so Airline stops.", error=True)
        else:
            self.command.say("Stopping Airline (Ctrl-C again to stop at once)...")
        self._stop_all()
        self.command.say("Airline stopped.")
        return 1 if failure else 0

    # --- waiting ------------------------------------------------------------------------------------

    def _listen_for_signals(self) -> None:
        """Stop signals are recorded; every signal, SIGCHLD included, also wakes `_sleep`."""
        self._wake_read, wake_write = os.pipe()
        os.set_blocking(self._wake_read, False)
        os.set_blocking(wake_write, False)
        signal.set_wakeup_fd(wake_write, warn_on_full_buffer=False)
        for stop_signal in STOP_SIGNALS:
            signal.signal(stop_signal, lambda signum, frame: self.stop_requests.append(signum))
        signal.signal(signal.SIGCHLD, lambda signum, frame: None)

    def _sleep(self, timeout: float | None) -> None:
        """Until a signal arrives (a child exited, a stop was asked) or `timeout` seconds pass."""
        readable, _, _ = select.select([self._wake_read], [], [], timeout)
        if readable:
            with contextlib.suppress(BlockingIOError):
                os.read(self._wake_read, 4096)

    def _exited(self) -> str | None:
        for name, child in self.children.items():
            if child.poll() is not None:
                return f"{name[0].upper()}{name[1:]} stopped (exit status {child.returncode}, see above)"
        return None

    def _wait_until_ready(self, ready_url: str) -> str | None:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while not self.stop_requests:
            failure = self._exited()
            if failure:
                return failure
            if _answers(ready_url):
                return None
            if time.monotonic() > deadline:
                return f"{ready_url} did not answer within {READY_TIMEOUT_SECONDS} s"
            self._sleep(READY_POLL_SECONDS)
        return None

    def _wait_for_an_end(self) -> str | None:
        while not self.stop_requests:
            failure = self._exited()
            if failure:
                return failure
            self._sleep(None)
        return None

    # --- stopping -----------------------------------------------------------------------------------

    def _signal_groups(self, signum: int) -> None:
        for child in self.children.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signum)

    def _stop_all(self) -> None:
        requests_before = len(self.stop_requests)
        self._signal_groups(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        while any(child.poll() is None for child in self.children.values()):
            left = deadline - time.monotonic()
            # A second Ctrl-C hurries; another SIGTERM (make passes its own on to us) does not.
            if left <= 0 or signal.SIGINT in self.stop_requests[requests_before:]:
                break
            self._sleep(left)
        # Whatever still runs (a stuck task, a second Ctrl-C), and any grandchild of a group (the
        # development server's autoreloader runs the server as its child), ends now.
        self._signal_groups(signal.SIGKILL)
        for child in self.children.values():
            child.wait()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (OSError, urllib.error.URLError):
        return False
