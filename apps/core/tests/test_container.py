"""The image and the compose file: what can be checked without a Docker engine."""

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from django.conf import settings

from airline.queues import task_queues

ROOT = Path(settings.BASE_DIR)


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def profile(name: str) -> dict[str, dict]:
    return {service: spec for service, spec in compose()["services"].items() if name in spec["profiles"]}


def dockerfile_stages() -> list[str]:
    """The Dockerfile's stages, each from its FROM line on."""
    return re.split(r"^(?=FROM )", (ROOT / "Dockerfile").read_text(), flags=re.MULTILINE)[1:]


def test_every_service_belongs_to_a_profile_and_nothing_is_required():
    # `docker compose --profile services up -d` must need no variable at all: a required one
    # (${NAME:?message}) fails the whole file, whichever services are started.
    services = compose()["services"]

    assert {name for name, spec in services.items() if not spec.get("profiles")} == set()
    assert ":?" not in (ROOT / "docker-compose.yml").read_text()
    assert set(profile("services")) == {"dev-db", "dev-redis", "dev-rabbitmq"}


def test_the_services_profile_publishes_the_usual_ports_on_localhost_only():
    ports = {name: spec["ports"] for name, spec in profile("services").items()}

    assert ports == {
        "dev-db": ["127.0.0.1:${DEV_DB_PORT:-3306}:3306"],
        "dev-redis": ["127.0.0.1:${DEV_REDIS_PORT:-6379}:6379"],
        "dev-rabbitmq": ["127.0.0.1:${DEV_RABBITMQ_PORT:-5672}:5672"],
    }


def test_the_site_publishes_only_itself_and_its_mail_viewer():
    published = {name: spec["ports"] for name, spec in profile("site").items() if spec.get("ports")}

    assert published == {
        "web": ["127.0.0.1:${AIRLINE_PORT:-8000}:8000"],
        "mailpit": ["127.0.0.1:${MAILPIT_PORT:-8025}:8025"],
    }


def test_the_site_builds_one_image_that_every_app_container_runs():
    site = profile("site")
    builders = [name for name, spec in site.items() if "build" in spec]
    app = {name: spec for name, spec in site.items() if spec.get("image") == "airline:local"}

    assert builders == ["setup"]
    workers = {"worker-email", "worker-payments", "worker-housekeeping"}
    assert set(app) == {"setup", "web", "beat", *workers}
    assert {name for name, spec in app.items() if spec["pull_policy"] == "never"} == {"web", "beat", *workers}
    assert all(
        spec["depends_on"] == {"setup": {"condition": "service_completed_successfully"}}
        for name, spec in app.items()
        if name != "setup"
    )
    # web runs the image's command: the production server configuration (airline/serve.py)
    assert "command" not in site["web"]
    assert 'CMD ["python", "-m", "airline.serve"]' in dockerfile_stages()[-1]


def test_the_sites_workers_consume_every_queue_once_and_beat_runs_once():
    # the compose site keeps the default queue's name, "airline" (airline/queues.py names the others)
    site = profile("site")
    consumed = []
    for spec in site.values():
        command = spec.get("command") or []
        if command[:4] == ["celery", "-A", "airline", "worker"]:
            consumed += command[command.index("-Q") + 1].split(",")

    assert sorted(consumed) == sorted(queue.name for queue in task_queues("airline"))
    assert [name for name, spec in site.items() if "beat" in (spec.get("command") or [])] == ["beat"]
    assert "replicas" not in site["beat"].get("deploy", {})


def test_the_final_image_stage_runs_as_a_user_with_a_health_check_and_no_build_or_test_tools():
    final = dockerfile_stages()[-1]

    assert "COPY --from=build /opt/venv /opt/venv" in final
    assert "build-essential" not in final
    assert "requirements" not in final  # nothing is installed here; the build stage's venv is copied
    assert re.search(r"^USER airline$", final, flags=re.MULTILINE)
    assert "HEALTHCHECK" in final
    assert "-r /tmp/runtime.txt" in dockerfile_stages()[0]
    runtime = (ROOT / "requirements" / "runtime.txt").read_text().lower()
    assert not {"pytest", "playwright", "schemathesis", "hypothesis", "ruff", "aiohttp"} & set(
        re.findall(r"^([a-z0-9_-]+)==", runtime, flags=re.MULTILINE)
    )


def run_healthcheck(port: int, allowed_hosts: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "docker/healthcheck.py"],
        cwd=ROOT,
        env={**os.environ, "GUNICORN_BIND": f"0.0.0.0:{port}", "DJANGO_ALLOWED_HOSTS": allowed_hosts},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "airline.settings.production",
    "DJANGO_SECRET_KEY": "k3y-" + "x" * 50,
    "DATABASE_URL": "mysql://root:@127.0.0.1:3306/airline",
    "REDIS_URL": "redis://127.0.0.1:6379/15",
    "CELERY_BROKER_URL": "amqp://guest:guest@127.0.0.1:5672//",
    "ALLOW_SIMULATED_GATEWAY": "true",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.slow
@pytest.mark.integration
def test_the_health_check_passes_production_host_and_https_checks(tmp_path):
    # given the image's server (airline/serve.py) under production settings: one allowed host, and
    # plain HTTP redirected to HTTPS
    port = free_port()
    environment = {
        **os.environ,
        **PRODUCTION,
        "DJANGO_ALLOWED_HOSTS": ".airline.example,www.airline.example",
        "SERVER_BIND": f"127.0.0.1:{port}",
        "SERVER_WORKERS": "1",
    }
    log = tmp_path / "server.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "airline.serve"],
            cwd=ROOT,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while not _listening(port):
            assert server.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)  # polling the port, bounded by the deadline

        # when the health check asks
        healthy = run_healthcheck(port, environment["DJANGO_ALLOWED_HOSTS"])
    finally:
        server.terminate()
        server.wait(timeout=30)

    # then it is healthy
    assert (healthy.returncode, healthy.stderr) == (0, ""), log.read_text()


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_the_health_check_fails_when_nothing_answers():
    closed = free_port()

    result = run_healthcheck(closed, "localhost")

    assert result.returncode == 1
    assert f"/healthz on port {closed} did not answer" in result.stderr


@pytest.mark.slow
def test_production_reads_its_secret_key_from_a_file(tmp_path):
    secret = tmp_path / "secret_key"
    secret.write_text("k3y-from-a-file-" + "x" * 40 + "\n")
    environment = {key: value for key, value in os.environ.items() if key != "DJANGO_SECRET_KEY"}
    environment.update({**PRODUCTION, "DJANGO_SECRET_KEY_FILE": str(secret)})
    del environment["DJANGO_SECRET_KEY"]

    result = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.SECRET_KEY)"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout == "k3y-from-a-file-" + "x" * 40 + "\n"
