"""Liveness and readiness: /healthz says the process serves; /readyz reaches every dependency."""

import logging
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from kombu import Connection

from apps.core.problems import PROBLEM_CONTENT_TYPE, problem_body

logger = logging.getLogger(__name__)


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def check_cache() -> None:
    probe = f"readyz:{uuid.uuid4().hex}"
    cache.set(probe, "1", timeout=5)
    if cache.get(probe) != "1":
        raise RuntimeError("cache did not return the value just written")
    cache.delete(probe)


def check_broker() -> None:
    with Connection(
        settings.CELERY_BROKER_URL,
        connect_timeout=settings.CELERY_BROKER_CONNECTION_TIMEOUT,
        transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS,
    ) as conn:
        conn.ensure_connection(max_retries=1, timeout=settings.CELERY_BROKER_CONNECTION_TIMEOUT)


CHECKS = {"database": check_database, "cache": check_cache, "broker": check_broker}


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def readyz(request: HttpRequest) -> JsonResponse:
    results: dict[str, str] = {}
    for name, check in CHECKS.items():
        try:
            check()
            results[name] = "ok"
        except Exception:  # any failure of a dependency means "not ready"; the reason goes to the log
            logger.warning("Readiness check %s failed", name, exc_info=True)
            results[name] = "unavailable"
    failed = [name for name, state in results.items() if state != "ok"]
    if failed:
        body = problem_body(
            status=503,
            code="service_unavailable",
            title="A dependency is unavailable",
            detail=f"Unavailable: {', '.join(failed)}.",
            checks=results,
        )
        return JsonResponse(body, status=503, content_type=PROBLEM_CONTENT_TYPE, headers={"Retry-After": "5"})
    return JsonResponse({"status": "ok", "checks": results})
