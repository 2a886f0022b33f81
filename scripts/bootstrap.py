"""What `make run` and `make test` check and set up before anything else, with the standard library
only: it runs on whatever python3 the machine has, before .venv exists.

    python3 scripts/bootstrap.py python                  this Python is 3.11+ and can make a venv
    python3 scripts/bootstrap.py port HOST PORT          nothing listens on HOST:PORT yet
    python3 scripts/bootstrap.py venv VENV               create or repair VENV; install requirements.txt
    python3 scripts/bootstrap.py require-mysqlclient VENV   VENV has mysqlclient (make test needs it)
    python3 scripts/bootstrap.py node-modules            `npm ci` when node_modules is missing or outdated

A problem is one line saying what is missing and how to get it, and exit status 2. Nothing is left
half-installed: a venv made by an older or vanished Python is replaced, and one this run created is
removed again if its install fails. mysqlclient compiles against MariaDB's headers; when they (or
pkg-config, a C compiler, Python's headers) are missing, it is skipped with one line and the rest
installed, since the embedded default does not need it. The marker VENV/.installed records what was
installed from which requirements, so the next run does nothing unless they changed or the missing
build tools appeared. node_modules (axe-core, which the browser tests run in each page) is installed
from package-lock.json with `npm ci`; its marker node_modules/.installed records the lock file it
came from, so it is installed again only when package-lock.json changes.
"""

import errno
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

MINIMUM_PYTHON = (3, 11)
ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "requirements.txt"
PACKAGE_LOCK = ROOT / "package-lock.json"
NODE_MODULES = ROOT / "node_modules"
MARKER = ".installed"
# mysqlclient's build looks its headers up under these pkg-config names, in this order, unless
# MYSQLCLIENT_CFLAGS and MYSQLCLIENT_LDFLAGS name them.
MYSQLCLIENT_PKG_CONFIG_NAMES = ("mysqlclient", "mariadb", "libmariadb", "perconaserverclient")


class Problem(Exception):
    """A missing prerequisite, said in one line."""


def say(message, stream=sys.stdout):
    stream.write(f"{message}\n")
    stream.flush()


# --- Python ----------------------------------------------------------------------------------------


def version_text(version_info):
    return ".".join(str(part) for part in version_info[:3])


def python_problem(version_info, executable):
    """Why this interpreter cannot run Airline, or None."""
    if tuple(version_info[:2]) < MINIMUM_PYTHON:
        wanted = version_text(MINIMUM_PYTHON)
        return (
            f"Airline needs Python {wanted} or newer, and {executable} is {version_text(version_info)}: "
            f"install python{wanted} (or newer) and run make with PYTHON=python{wanted}."
        )
    try:
        import ensurepip  # noqa: F401
        import venv  # noqa: F401
    except ImportError:
        package = f"python3.{version_info[1]}-venv"
        return f"{executable} cannot create virtual environments: install {package} (apt-get install it)."
    return None


def check_python():
    problem = python_problem(sys.version_info, sys.executable)
    if problem:
        raise Problem(problem)


# --- Port ------------------------------------------------------------------------------------------


def _bind(host, port):
    """Bind HOST:PORT the way the development server does (SO_REUSEADDR); the OSError if it cannot."""
    family, kind, protocol, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    with socket.socket(family, kind, protocol) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as error:
            return error
    return None


def free_port_after(host, port):
    for candidate in range(port + 1, min(port + 50, 65536)):
        if _bind(host, candidate) is None:
            return candidate
    return None


def check_port(host, port):
    try:
        error = _bind(host, port)
    except socket.gaierror:
        raise Problem(f"{host} is not a host name this machine knows: try RUN_HOST=127.0.0.1.") from None
    if error is None:
        return
    if error.errno == errno.EADDRINUSE:
        other = free_port_after(host, port)
        hint = f"make run RUN_PORT={other}" if other else "make run RUN_PORT=<a free port>"
        raise Problem(
            f"Port {port} on {host} is already in use by another program: stop it, or use another: {hint}"
        )
    if error.errno == errno.EACCES:
        raise Problem(f"Port {port} needs administrator rights: use one above 1023, e.g. RUN_PORT=8000.")
    if error.errno == errno.EADDRNOTAVAIL:
        raise Problem(f"{host} is not an address of this machine: try RUN_HOST=127.0.0.1.")
    raise Problem(f"Cannot listen on {host}:{port}: {error.strerror}.")


# --- Virtual environment ---------------------------------------------------------------------------


def requirement_files(path=REQUIREMENTS):
    """`path` and every file it includes with -r, in order."""
    files = [path]
    for line in path.read_text().splitlines():
        parts = line.split()
        if parts and parts[0] in {"-r", "--requirement"}:
            files.extend(requirement_files(path.parent / parts[1]))
    return files


def requirements_digest():
    digest = hashlib.sha256()
    for path in requirement_files():
        digest.update(path.read_bytes())
    return digest.hexdigest()


def write_requirements_without_mysqlclient(target):
    """requirements.txt with its includes inlined and mysqlclient left out, written to `target`."""
    lines = []
    for path in requirement_files():
        for line in path.read_text().splitlines():
            parts = line.split()
            if parts and (parts[0] in {"-r", "--requirement"} or parts[0].lower().startswith("mysqlclient")):
                continue
            lines.append(line)
    target.write_text("\n".join(lines) + "\n")


def venv_python_problem(venv):
    """Why the interpreter of an existing `venv` cannot be used, or None."""
    python = venv / "bin" / "python"
    try:
        result = subprocess.run(
            [str(python), "-c", "import sys; print('.'.join(map(str, sys.version_info[:3])))"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except OSError:
        return "its Python no longer runs"
    if result.returncode != 0:
        return "its Python no longer runs"
    version = tuple(int(part) for part in result.stdout.strip().split("."))
    if version[:2] < MINIMUM_PYTHON:
        return f"it was made with Python {version_text(version)}"
    return None


def remove_venv(venv):
    """Remove a virtual environment (a symlink to one: the link only)."""
    if venv.is_symlink():
        venv.unlink()
    elif (venv / "pyvenv.cfg").exists():
        shutil.rmtree(venv)
    else:
        raise Problem(f"{venv} is not a virtual environment, so it is left alone: move it away or set VENV.")


def mysqlclient_missing_prerequisites(python):
    """What mysqlclient needs to compile that this machine lacks, each with the Debian package that has it."""
    missing = []
    if not (shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")):
        missing.append(("a C compiler", "build-essential"))
    if not (os.environ.get("MYSQLCLIENT_CFLAGS") and os.environ.get("MYSQLCLIENT_LDFLAGS")):
        if not shutil.which("pkg-config"):
            missing.append(("pkg-config", "pkg-config"))
        elif not any(
            subprocess.run(["pkg-config", "--exists", name], check=False).returncode == 0
            for name in MYSQLCLIENT_PKG_CONFIG_NAMES
        ):
            missing.append(("MariaDB's client headers", "libmariadb-dev"))
    headers = subprocess.run(
        [
            str(python),
            "-c",
            "import os, sys, sysconfig; "
            "print(os.path.exists(os.path.join(sysconfig.get_paths()['include'], 'Python.h'))); "
            "print(f'python3.{sys.version_info[1]}-dev')",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    if headers[0] != "True":
        missing.append(("Python's headers", headers[1]))
    return missing


def missing_text(missing):
    what = ", ".join(name for name, _ in missing)
    packages = " ".join(package for _, package in missing)
    return f"{what} (Debian: apt-get install {packages})"


def pip_install(python, requirements):
    command = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-input"]
    return subprocess.run([*command, "-r", str(requirements)], cwd=ROOT, check=False).returncode == 0


def read_marker(venv):
    try:
        return json.loads((venv / MARKER).read_text())
    except (OSError, ValueError):
        return {}


def ensure_venv(venv):
    check_python()
    created = False
    if venv.exists() or venv.is_symlink():
        reason = venv_python_problem(venv)
        if reason:
            say(f"Replacing {venv}: {reason}.")
            remove_venv(venv)
    if not venv.exists():
        say(f"Creating {venv} with Python {version_text(sys.version_info)} ({sys.executable}).")
        result = subprocess.run([sys.executable, "-m", "venv", str(venv)], check=False)
        if result.returncode != 0:
            if venv.exists():
                shutil.rmtree(venv)
            raise Problem(f"{sys.executable} could not create {venv}: see the message above.")
        created = True
    python = venv / "bin" / "python"
    digest = requirements_digest()
    missing = mysqlclient_missing_prerequisites(python)
    state = read_marker(venv)
    if state.get("requirements") == digest and (
        state.get("mysqlclient") in {"installed", "failed to build"}
        or (state.get("mysqlclient") == "skipped" and missing)
    ):
        return
    try:
        install(venv, python, digest, missing, fresh=created or not state)
    except Problem:
        if created:
            remove_venv(venv)
        raise


def install(venv, python, digest, missing, *, fresh):
    if fresh:
        say(f"Installing requirements.txt into {venv}: a minute or two the first time.")
    else:
        say(f"Updating {venv} from requirements.txt.")
    without_mysqlclient = venv / "requirements-without-mysqlclient.txt"
    write_requirements_without_mysqlclient(without_mysqlclient)
    if missing:
        if not pip_install(python, without_mysqlclient):
            raise Problem("Installing the requirements failed: see pip's message above.")
        mysqlclient = "skipped"
        say(
            f"Skipped mysqlclient, which needs {missing_text(missing)}: make run does not need it; "
            "make test and the services mode do."
        )
    elif pip_install(python, REQUIREMENTS):
        mysqlclient = "installed"
    else:
        if not pip_install(python, without_mysqlclient):
            raise Problem("Installing the requirements failed: see pip's message above.")
        mysqlclient = "failed to build"
        say(
            f"mysqlclient did not build (pip's message above); everything else is installed, so make run "
            f"works and make test does not. To try again: rm {venv / MARKER}"
        )
    (venv / MARKER).write_text(json.dumps({"requirements": digest, "mysqlclient": mysqlclient}) + "\n")


def require_mysqlclient(venv):
    python = venv / "bin" / "python"
    importable = subprocess.run([str(python), "-c", "import MySQLdb"], capture_output=True, check=False)
    if importable.returncode == 0:
        return
    missing = mysqlclient_missing_prerequisites(python)
    if missing:
        raise Problem(
            f"make test needs mysqlclient, which needs {missing_text(missing)}: then make test again."
        )
    raise Problem(
        f"make test needs mysqlclient, which did not build: to retry, rm {venv / MARKER}; make test"
    )


# --- Node packages ---------------------------------------------------------------------------------


def node_modules_current(node_modules, package_lock):
    """Whether `node_modules` was installed by `npm ci` from this very `package_lock`."""
    try:
        return (
            json.loads((node_modules / MARKER).read_text()).get("package-lock")
            == hashlib.sha256(package_lock.read_bytes()).hexdigest()
        )
    except (OSError, ValueError):
        return False


def ensure_node_modules(node_modules=NODE_MODULES, package_lock=PACKAGE_LOCK):
    if node_modules_current(node_modules, package_lock):
        return
    npm = shutil.which("npm")
    if not npm:
        raise Problem(
            "npm was not found: the browser tests check each page with axe-core from package-lock.json; "
            "install Node.js 20 and npm (Debian: apt-get install nodejs npm), then make test again."
        )
    say(f"Installing {package_lock.name} into {node_modules.name} with npm ci.")
    result = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=package_lock.parent, check=False
    )
    if result.returncode != 0:
        raise Problem("npm ci failed: see npm's message above.")
    digest = hashlib.sha256(package_lock.read_bytes()).hexdigest()
    (node_modules / MARKER).write_text(json.dumps({"package-lock": digest}) + "\n")


def main(argv):
    command, *arguments = argv or ["help"]
    try:
        if command == "python" and not arguments:
            check_python()
        elif command == "port" and len(arguments) == 2:
            check_port(arguments[0], int(arguments[1]))
        elif command == "venv" and len(arguments) == 1:
            ensure_venv(Path(arguments[0]))
        elif command == "require-mysqlclient" and len(arguments) == 1:
            require_mysqlclient(Path(arguments[0]))
        elif command == "node-modules" and not arguments:
            ensure_node_modules()
        else:
            say(__doc__)
            return 1
    except Problem as problem:
        say(problem, sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
