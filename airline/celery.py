import os

from celery import Celery
from celery.signals import setup_logging

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "airline.settings.local")

app = Celery("airline")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Every worker runs the outbox relay (apps/notifications/relay.py): it queues new emails' send tasks.
app.steps["worker"].add("apps.notifications.relay:OutboxRelay")


@setup_logging.connect
def use_django_logging(**kwargs) -> None:
    """Workers and beat log through settings.LOGGING, like the web processes: the same format (JSON
    lines in production), the same levels and the same scrubbing of secrets. Without a receiver of
    this signal Celery replaces the root logger's handlers with its own, and its `-l` option sets
    the level; with one it leaves logging to us."""
    from django.conf import settings
    from django.utils.log import configure_logging

    configure_logging(settings.LOGGING_CONFIG, settings.LOGGING)
