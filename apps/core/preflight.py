"""Which of the services configured in settings cannot be reached (for `make test`)."""

import socket
from urllib.parse import urlsplit

from django.conf import settings


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def unreachable_services() -> list[str]:
    database = settings.DATABASES["default"]
    targets: list[tuple[str, str | None, int | None]] = []
    if database["ENGINE"] == "django.db.backends.mysql":
        targets.append(("MariaDB", database.get("HOST") or "127.0.0.1", int(database.get("PORT") or 3306)))
    redis_url = getattr(settings, "REDIS_URL", "")
    if redis_url:
        parts = urlsplit(redis_url)
        targets.append(("Redis", parts.hostname, parts.port or 6379))
    broker = urlsplit(settings.CELERY_BROKER_URL)
    if broker.scheme in {"amqp", "pyamqp"}:
        targets.append(("RabbitMQ", broker.hostname, broker.port or 5672))
    return [
        f"{name} is not reachable at {host}:{port}"
        for name, host, port in targets
        if not _reachable(host or "127.0.0.1", port or 0)
    ]
