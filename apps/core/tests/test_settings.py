import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def _run_with_production_settings(args: list[str], extra_env: dict[str, str]) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    env.update(extra_env, DJANGO_SETTINGS_MODULE="airline.settings.production")
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


SERVICES = {
    "DATABASE_URL": "mysql://root:@127.0.0.1:3306/airline",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "CELERY_BROKER_URL": "amqp://guest:guest@127.0.0.1:5672//",
    "ALLOW_SIMULATED_GATEWAY": "true",
}
SECRET = "k3y-" + "".join(chr(97 + (i * 7) % 26) + str(i % 10) for i in range(30))


@pytest.mark.slow
def test_production_settings_refuse_to_start_without_a_secret_key():
    result = _run_with_production_settings(["-c", "import airline.settings.production"], {**SERVICES})

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


@pytest.mark.slow
def test_check_deploy_is_clean_under_production_settings():

    result = _run_with_production_settings(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        {**SERVICES, "DJANGO_SECRET_KEY": SECRET},
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.slow
def test_production_settings_refuse_the_simulated_gateway_unless_a_demo_says_so():
    services = {**SERVICES, "DJANGO_SECRET_KEY": SECRET}
    del services["ALLOW_SIMULATED_GATEWAY"]

    refused = _run_with_production_settings(["-c", "import airline.settings.production"], services)
    demo = _run_with_production_settings(
        ["-c", "import airline.settings.production"], {**services, "ALLOW_SIMULATED_GATEWAY": "true"}
    )

    assert refused.returncode != 0
    assert "ALLOW_SIMULATED_GATEWAY" in refused.stderr
    assert demo.returncode == 0, demo.stderr
