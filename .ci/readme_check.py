#!/usr/bin/env python3
"""Runs README.md the way a newcomer would, so it cannot drift from what works.

1. The quick start's `make run`, as written, on a fresh SQLite file, a mail folder of its own and a
   free port (RUN_PORT), until it says it is ready.
2. The "Using the API" example, as written, in bash against it (API names its port). curl is made to
   fail on an HTTP error, so any wrong answer fails the check, and the last command must print what
   its `# → …` comment says.
3. The mail viewer lists the booking's e-ticket; the console showed one line for that email, one
   line per request, and none of the old noise (tracebacks, email bodies, kombu's hostname warning).
4. Ctrl-C, sent to make's process group as a terminal sends it: make run stops its web server,
   worker and beat before it returns, says so last, and leaves no process behind.
5. The quick start's `make test`, as written, as far as collecting the tests (PYTEST_ADDOPTS): its
   own checks and the suite's collection. CI has just run the whole suite with it.

Standard library only. Exit status 0 when all of it holds; otherwise the first failure and the
console of `make run`.
"""

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_SECONDS = 600  # a fresh clone installs .venv first
STEP_TIMEOUT_SECONDS = 120
# A curl that fails on an HTTP error status and still prints the body (the problem), in the
# example's bash and every subshell of it.
STRICT_CURL = 'curl() { command curl --fail-with-body "$@"; }\n'
# What make run's console must no longer show.
NOISE = {
    "Traceback": "a traceback",
    "No hostname was supplied": "kombu's hostname warning",
    "WARNING/MainProcess": "Celery's redirected output",
    "Content-Type: multipart": "an email printed to the console",
    "make: ***": "an error from make",
}


class CheckFailed(Exception):
    pass


def say(text: str) -> None:
    sys.stdout.write(f"{text}\n")
    sys.stdout.flush()


def sections(markdown: str) -> dict[str, str]:
    parts = re.split(r"^## (.+)$", markdown, flags=re.MULTILINE)
    return {title.strip(): body for title, body in zip(parts[1::2], parts[2::2], strict=True)}


def shell_blocks(section: str) -> list[str]:
    return re.findall(r"^```sh\n(.*?)^```$", section, flags=re.MULTILINE | re.DOTALL)


def commands(block: str) -> list[str]:
    return [line.split("#", 1)[0].strip() for line in block.splitlines() if line.split("#", 1)[0].strip()]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode()


def wait_for(what: str, condition, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise CheckFailed(f"{what} did not happen within {timeout:.0f} s")
        time.sleep(0.5)  # polling a log file or a page, bounded by the deadline


def processes_with(marker: str) -> list[int]:
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if marker.encode() in environ.read_bytes():
                found.append(int(environ.parent.name))
        except OSError:
            continue
    return found


def stop(make_run: subprocess.Popen, marker: str) -> None:
    """After a failure: Ctrl-C first, then whatever of this run is left (found by its SQLite path)."""
    if make_run.poll() is None:
        os.killpg(make_run.pid, signal.SIGINT)
        try:
            make_run.wait(timeout=STEP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(make_run.pid, signal.SIGKILL)
            make_run.wait()
    for pid in processes_with(marker):
        os.kill(pid, signal.SIGKILL)


def check(readme: dict[str, str], workdir: Path) -> None:
    quick_start = [commands(block) for block in shell_blocks(readme["Quick start"])]
    if quick_start != [["make run", "make test"]]:
        raise CheckFailed(
            f"the quick start is no longer `make run` and `make test`: {quick_start}; update this check"
        )
    api_blocks = shell_blocks(readme["Using the API"])
    if len(api_blocks) != 1:
        raise CheckFailed(f"expected one example block under 'Using the API', found {len(api_blocks)}")
    api_example = api_blocks[0]
    expected_last = re.search(r"# → (\S+)\s*$", api_example.rstrip().splitlines()[-1])
    if not expected_last:
        raise CheckFailed("the API example's last line no longer says what it prints (# → …)")

    port = free_port()
    console = workdir / "make-run.log"
    marker = str(workdir / "airline.sqlite3")
    environment = {
        key: value
        for key, value in os.environ.items()
        if key
        not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "EMAIL_URL", "DJANGO_SETTINGS_MODULE"}
    }
    environment.update(SQLITE_PATH=marker, EMAIL_FILE_PATH=str(workdir / "mail"), RUN_PORT=str(port))

    say(f"1. make run (port {port})")
    with console.open("w") as output:
        make_run = subprocess.Popen(
            quick_start[0][0].split(),
            cwd=ROOT,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_for(
            "make run saying it is ready",
            lambda: "Airline is ready at" in console.read_text() or make_run.poll() is not None,
            START_TIMEOUT_SECONDS,
        )
        if make_run.poll() is not None:
            raise CheckFailed(f"make run exited with status {make_run.returncode} before it was ready")

        say("2. the API example")
        example = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", STRICT_CURL + api_example],
            cwd=workdir,
            env={**os.environ, "API": f"http://127.0.0.1:{port}/api/v1"},
            capture_output=True,
            text=True,
            timeout=STEP_TIMEOUT_SECONDS,
            check=False,
        )
        if example.returncode != 0:
            output = example.stdout[-3000:] + example.stderr
            raise CheckFailed(f"the API example failed (status {example.returncode}):\n{output}")
        last_line = example.stdout.strip().splitlines()[-1]
        if last_line != expected_last.group(1):
            raise CheckFailed(
                f"the API example's last command printed {last_line!r}, not {expected_last.group(1)!r}"
            )

        say("3. the mail viewer and the console")
        wait_for(
            "the e-ticket reaching the mail viewer",
            lambda: "Your e-ticket" in get(f"http://127.0.0.1:{port}/dev/mail/"),
            STEP_TIMEOUT_SECONDS,
        )
        log = console.read_text()
        ticket_lines = [line for line in log.splitlines() if "Your e-ticket" in line]
        if len(ticket_lines) != 1 or f"http://127.0.0.1:{port}/dev/mail/" not in ticket_lines[0]:
            raise CheckFailed(f"expected one console line with the e-ticket's link, found {ticket_lines}")
        if log.count("POST /api/v1/payments") != 1:
            raise CheckFailed("the payment request was not logged exactly once")

        say("4. Ctrl-C")
        os.killpg(make_run.pid, signal.SIGINT)
        status = make_run.wait(timeout=STEP_TIMEOUT_SECONDS)
        log = console.read_text()
        if status not in (0, -signal.SIGINT):
            raise CheckFailed(f"make run ended with status {status} after Ctrl-C")
        if not log.rstrip().endswith("Airline stopped."):
            raise CheckFailed("make run did not say 'Airline stopped.' last")
        left = processes_with(marker)
        if left:
            raise CheckFailed(f"processes still running after make run returned: {left}")
        noise = [what for text, what in NOISE.items() if text in log]
        if noise:
            raise CheckFailed(f"make run's console shows {', '.join(noise)}")
    except BaseException:
        sys.stderr.write(f"--- make run's console ---\n{console.read_text()[-6000:]}\n---\n")
        raise
    finally:
        stop(make_run, marker)

    say("5. make test, collecting only")
    make_test = subprocess.run(
        quick_start[0][1].split(),
        cwd=ROOT,
        env={**os.environ, "PYTEST_ADDOPTS": "--collect-only -q"},
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT_SECONDS,
        check=False,
    )
    if make_test.returncode != 0 or "tests collected" not in make_test.stdout:
        raise CheckFailed(
            f"make test failed (status {make_test.returncode}):\n{make_test.stdout[-3000:]}{make_test.stderr}"
        )


def main() -> int:
    readme = sections((ROOT / "README.md").read_text())
    with tempfile.TemporaryDirectory(prefix="readme-check-") as workdir:
        try:
            check(readme, Path(workdir))
        except CheckFailed as failure:
            sys.stderr.write(f"README check failed: {failure}\n")
            return 1
    say("README check: the quick start and the API example work as written.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
