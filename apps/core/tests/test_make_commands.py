"""What `make run` and `make test` check before they start (scripts/bootstrap.py, manage.py preflight)
and how `make run`'s processes start and stop together (manage.py devserver)."""

import importlib.util
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
_spec = importlib.util.spec_from_file_location("bootstrap", ROOT / "scripts" / "bootstrap.py")
bootstrap = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bootstrap)

DEADLINE_SECONDS = 120


def run(arguments: list[str], **environment: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        arguments,
        cwd=ROOT,
        env={**os.environ, **environment},
        capture_output=True,
        text=True,
        timeout=DEADLINE_SECONDS,
        check=False,
    )


@pytest.fixture
def listening_port() -> Iterator[int]:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield server.getsockname()[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- Python ----------------------------------------------------------------------------------------


def test_a_python_older_than_3_11_is_named_with_the_fix():
    problem = bootstrap.python_problem((3, 10, 13, "final", 0), "/usr/bin/python3")

    assert problem == (
        "Airline needs Python 3.11 or newer, and /usr/bin/python3 is 3.10.13: install python3.11 (or newer) "
        "and run make with PYTHON=python3.11."
    )


def test_this_python_passes():
    assert bootstrap.python_problem(sys.version_info, sys.executable) is None


def fake_venv(tmp_path: Path, python_script: str) -> Path:
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
    python = venv / "bin" / "python"
    python.write_text(f"#!/bin/sh\n{python_script}\n")
    python.chmod(0o755)
    return venv


def test_a_venv_made_by_an_older_python_is_recognised_and_replaceable(tmp_path):
    venv = fake_venv(tmp_path, "echo 3.10.13")

    assert bootstrap.venv_python_problem(venv) == "it was made with Python 3.10.13"
    bootstrap.remove_venv(venv)
    assert not venv.exists()


def test_a_venv_whose_python_is_gone_is_recognised(tmp_path):
    venv = fake_venv(tmp_path, "exit 127")

    assert bootstrap.venv_python_problem(venv) == "its Python no longer runs"


def test_a_folder_that_is_no_venv_is_never_removed(tmp_path):
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "keep.txt").write_text("mine")

    with pytest.raises(bootstrap.Problem, match="is not a virtual environment"):
        bootstrap.remove_venv(folder)
    assert (folder / "keep.txt").read_text() == "mine"


def test_a_venv_link_is_removed_as_a_link_only(tmp_path):
    target = fake_venv(tmp_path, "echo 3.11.7")
    link = tmp_path / ".venv"
    link.symlink_to(target)

    bootstrap.remove_venv(link)

    assert not link.exists()
    assert (target / "bin" / "python").exists()


# --- mysqlclient -----------------------------------------------------------------------------------


def test_missing_mariadb_headers_are_named_with_their_package(monkeypatch):
    # given a machine where pkg-config finds no MariaDB client headers
    monkeypatch.setenv("PKG_CONFIG_LIBDIR", "/nonexistent")
    monkeypatch.delenv("MYSQLCLIENT_CFLAGS", raising=False)
    if not bootstrap.shutil.which("pkg-config"):
        pytest.skip("pkg-config is not installed here")

    missing = bootstrap.mysqlclient_missing_prerequisites(Path(sys.executable))

    assert ("MariaDB's client headers", "libmariadb-dev") in missing
    assert "apt-get install libmariadb-dev" in bootstrap.missing_text(missing)


def test_the_embedded_install_has_everything_but_mysqlclient(tmp_path):
    target = tmp_path / "requirements.txt"

    bootstrap.write_requirements_without_mysqlclient(target)

    lines = [
        line.split("==")[0] for line in target.read_text().splitlines() if line and not line.startswith("#")
    ]
    assert "mysqlclient" not in lines
    assert {"Django", "celery", "gunicorn", "pytest", "playwright"} <= set(lines)
    assert not [line for line in lines if line.startswith("-r")]


# --- Node packages ---------------------------------------------------------------------------------


def test_node_modules_are_installed_once_from_the_lock_and_again_when_it_changes(tmp_path, monkeypatch):
    # given a project whose npm records each run (a stand-in npm on PATH)
    (tmp_path / "package-lock.json").write_text('{"lockfileVersion": 3}')
    calls = tmp_path / "npm-calls"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    npm = bin_dir / "npm"
    npm.write_text(f'#!/bin/sh\necho "$@" >> {calls}\nmkdir -p node_modules\n')
    npm.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    node_modules, lock = tmp_path / "node_modules", tmp_path / "package-lock.json"

    # when the step runs twice, then once more after the lock changed
    bootstrap.ensure_node_modules(node_modules, lock)
    bootstrap.ensure_node_modules(node_modules, lock)
    lock.write_text('{"lockfileVersion": 3, "packages": {}}')
    bootstrap.ensure_node_modules(node_modules, lock)

    # then npm ci ran the first time and after the change only
    assert calls.read_text().splitlines() == ["ci --no-audit --no-fund --loglevel=error"] * 2
    assert bootstrap.node_modules_current(node_modules, lock)


def test_without_npm_the_node_step_is_one_line_saying_how_to_get_it(tmp_path):
    # given a checkout (bootstrap.py and a lock, no node_modules) on a machine without npm
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "bootstrap.py", tmp_path / "scripts")
    (tmp_path / "package-lock.json").write_text("{}")

    result = run(
        [sys.executable, str(tmp_path / "scripts" / "bootstrap.py"), "node-modules"], PATH="/nonexistent"
    )

    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("npm was not found: the browser tests check each page with axe-core")
    assert "apt-get install nodejs npm" in line
    assert not (tmp_path / "node_modules").exists()


def test_the_repository_pins_axe_core_exactly():
    manifest = json.loads((ROOT / "package.json").read_text())
    lock = json.loads((ROOT / "package-lock.json").read_text())

    pinned = manifest["devDependencies"]["axe-core"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", pinned)
    assert lock["packages"]["node_modules/axe-core"]["version"] == pinned


# --- Port ------------------------------------------------------------------------------------------


def test_a_taken_port_is_one_line_naming_a_free_one(listening_port):
    result = run([sys.executable, "scripts/bootstrap.py", "port", "127.0.0.1", str(listening_port)])

    assert result.returncode == 2
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"Port {listening_port} on 127.0.0.1 is already in use by another program")
    assert "make run RUN_PORT=" in line


def test_a_free_port_passes_silently():
    result = run([sys.executable, "scripts/bootstrap.py", "port", "127.0.0.1", str(free_port())])

    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


# --- Services --------------------------------------------------------------------------------------


@pytest.mark.slow
def test_an_unreachable_database_is_one_line_naming_its_address():
    # given a DATABASE_URL whose port nothing listens on
    closed = free_port()

    result = run(
        [sys.executable, "manage.py", "preflight"],
        DJANGO_SETTINGS_MODULE="airline.settings.local",
        DATABASE_URL=f"mysql://root@127.0.0.1:{closed}/airline",
        REDIS_URL="",
        CELERY_BROKER_URL="filesystem://localhost/",
    )

    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"Cannot start: MariaDB is not reachable at 127.0.0.1:{closed} (DATABASE_URL).")
    assert "Traceback" not in result.stdout + result.stderr


# --- make run's processes --------------------------------------------------------------------------


def processes_with(marker: str) -> list[int]:
    """Processes whose environment holds `marker` (each of devserver's children inherits it)."""
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if marker.encode() in environ.read_bytes():
                found.append(int(environ.parent.name))
        except OSError:
            continue
    return found


@pytest.fixture
def embedded_site(tmp_path) -> dict[str, str]:
    """The embedded default's environment on a migrated SQLite file of this test's own."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "EMAIL_URL"}
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="airline.settings.local",
        SQLITE_PATH=str(tmp_path / "airline.sqlite3"),
        EMAIL_FILE_PATH=str(tmp_path / "mail"),
        # The filesystem broker's folder is the checkout's var/broker: a queue of its own keeps this
        # test's worker off the messages of a `make run` in the same checkout.
        CELERY_TASK_DEFAULT_QUEUE=f"devserver-test-{tmp_path.name}",
    )
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=environment,
        check=True,
        timeout=DEADLINE_SECONDS,
    )
    return environment


def start_devserver(environment: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    with log.open("w") as output:
        return subprocess.Popen(
            [sys.executable, "manage.py", "devserver", "--port", str(port)],
            cwd=ROOT,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def stop(devserver: subprocess.Popen, marker: str) -> None:
    """Whatever a failed test left: Ctrl-C first, then every process of this test (by its SQLite path)."""
    if devserver.poll() is None:
        devserver.send_signal(signal.SIGINT)
        try:
            devserver.wait(timeout=DEADLINE_SECONDS)
        except subprocess.TimeoutExpired:
            devserver.kill()
            devserver.wait()
    for pid in processes_with(marker):
        os.kill(pid, signal.SIGKILL)


def wait_for(condition, explain) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not condition():
        assert time.monotonic() < deadline, explain()
        time.sleep(0.2)  # polling a log file, bounded by the deadline


@pytest.mark.slow
@pytest.mark.integration
def test_ctrl_c_stops_the_web_server_worker_and_beat_before_returning(embedded_site, tmp_path):
    # given make run's three processes, ready
    log = tmp_path / "devserver.log"
    devserver = start_devserver(embedded_site, free_port(), log)
    try:
        wait_for(lambda: "Airline is ready at" in log.read_text(), log.read_text)
        assert len(processes_with(embedded_site["SQLITE_PATH"])) >= 4  # devserver and its three children

        # when Ctrl-C reaches it
        devserver.send_signal(signal.SIGINT)
        status = devserver.wait(timeout=DEADLINE_SECONDS)
        output = log.read_text()
        left = processes_with(embedded_site["SQLITE_PATH"])
    finally:
        stop(devserver, embedded_site["SQLITE_PATH"])

    # then it stopped all of them before it returned, and says so last
    assert status == 0, output
    assert left == []
    assert output.rstrip().endswith("Airline stopped."), output
    assert "Traceback" not in output


@pytest.mark.slow
@pytest.mark.integration
def test_when_the_web_server_cannot_start_nothing_is_left_running(embedded_site, tmp_path, listening_port):
    # given a port another program took after make run checked it
    log = tmp_path / "devserver.log"

    # when make run's processes start
    devserver = start_devserver(embedded_site, listening_port, log)
    try:
        status = devserver.wait(timeout=DEADLINE_SECONDS)
        left = processes_with(embedded_site["SQLITE_PATH"])
    finally:
        stop(devserver, embedded_site["SQLITE_PATH"])

    # then it fails, saying which process stopped, and the worker and beat are gone too
    output = log.read_text()
    assert status == 1, output
    assert "The web server stopped (exit status 1, see above), so Airline stops." in output
    assert "That port is already in use" in output
    assert "Airline is ready" not in output
    assert left == []
