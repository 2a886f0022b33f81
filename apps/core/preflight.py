"""Which of the services configured in settings cannot be reached (`make run`, `make test`)."""

import importlib.util
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
    """One sentence per configured service that does not accept a connection, naming its variable."""
    database = settings.DATABASES["default"]
    targets: list[tuple[str, str | None, int | None, str]] = []
    if database["ENGINE"] == "django.db.backends.mysql":
        host, port = database.get("HOST") or "127.0.0.1", int(database.get("PORT") or 3306)
        targets.append(("MariaDB", host, port, "DATABASE_URL"))
    redis_url = getattr(settings, "REDIS_URL", "")
    if redis_url:
        parts = urlsplit(redis_url)
        targets.append(("Redis", parts.hostname, parts.port or 6379, "REDIS_URL"))
    broker = urlsplit(settings.CELERY_BROKER_URL)
    if broker.scheme in {"amqp", "pyamqp"}:
        targets.append(("RabbitMQ", broker.hostname, broker.port or 5672, "CELERY_BROKER_URL"))
    return [
        f"{name} is not reachable at {host}:{port} ({variable})"
        for name, host, port, variable in targets
        if not _reachable(host or "127.0.0.1", port or 0)
    ]


def missing_database_driver() -> str | None:
    """The services mode's database driver, if settings name MariaDB and it is not installed."""
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.mysql":
        return None
    if importlib.util.find_spec("MySQLdb") is not None:
        return None
    return (
        "DATABASE_URL names MariaDB, but mysqlclient is not installed: install libmariadb-dev, pkg-config "
        "and a C compiler, then run make again"
    )
