import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def _import_production_settings(extra_env: dict[str, str]) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SECRET_KEY"}
    env.update(extra_env)
    return subprocess.run(
        [sys.executable, "-c", "import airline.settings.production"],
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
}


@pytest.mark.slow
def test_production_settings_refuse_to_start_without_a_secret_key():
    result = _import_production_settings({**SERVICES, "DJANGO_SECRET_KEY": ""})

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


@pytest.mark.slow
def test_production_settings_start_with_a_secret_key():
    result = _import_production_settings({**SERVICES, "DJANGO_SECRET_KEY": "x" * 60})

    assert result.returncode == 0, result.stderr
