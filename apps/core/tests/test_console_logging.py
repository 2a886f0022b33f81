"""What the console shows: one line per request, tracebacks only for server errors, and the Celery
processes logging through the same configuration as the web."""

import json
import logging
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.test import Client
from django.urls import path

from airline.urls import urlpatterns as project_urls


def exploding_page(request):
    raise RuntimeError("a bug in a page")


urlpatterns = [path("test-explode-page", exploding_page), *project_urls]


def test_every_record_goes_through_the_one_console_handler():
    # Django's defaults give "django" (DEBUG only) and runserver's "django.server" handlers of their
    # own, which printed each of their records a second time in another format.
    assert logging.getLogger("django").handlers == []
    assert logging.getLogger("django.server").handlers == []
    assert logging.getLogger("django.server").propagate


@pytest.mark.django_db
def test_an_admin_403_logs_its_access_line_and_no_traceback(client, admin_user, caplog):
    # given an admin / when they open a page the admin refuses to everyone (adding audit events)
    client.force_login(admin_user)
    response = client.get("/admin/core/auditevent/add/")

    # then one line says so, and no record carries a traceback
    assert response.status_code == 403
    assert [record.getMessage() for record in caplog.records] == ["GET /admin/core/auditevent/add/ 403"]
    assert not [record for record in caplog.records if record.exc_info]


@pytest.mark.django_db
def test_an_unknown_page_logs_only_its_access_line(client, caplog):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert [record.getMessage() for record in caplog.records] == ["GET /no-such-page/ 404"]


@pytest.mark.django_db
@pytest.mark.urls("apps.core.tests.test_console_logging")
def test_a_server_error_on_a_page_still_logs_its_traceback(caplog):
    response = Client(raise_request_exception=False).get("/test-explode-page")

    assert response.status_code == 500
    (error,) = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert error.name == "django.request"
    assert error.exc_info[0] is RuntimeError


@pytest.mark.slow
def test_celery_processes_log_through_the_django_configuration():
    # given a Celery process setting up its logging as a worker does with `-l warning`
    script = (
        "import json, logging, django; django.setup()\n"
        "from airline.celery import app\n"
        "app.log.setup_logging_subsystem(loglevel='WARNING')\n"
        "root = logging.getLogger()\n"
        "print(json.dumps({'level': root.level, 'handlers': [[type(f).__name__ for f in h.filters]"
        " for h in root.handlers]}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "airline.settings.test"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    # then the root logger keeps settings.LOGGING's one handler (with the scrubbing filter) and level
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == {
        "level": logging.getLevelName(settings.LOG_LEVEL),
        "handlers": [["RequestIdFilter"]],
    }
