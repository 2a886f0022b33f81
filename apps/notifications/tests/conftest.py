"""Fixtures of the notifications tests: a real SMTP server on loopback, this run's own queue."""

from collections.abc import Iterator

import pytest
from django.conf import settings
from kombu import Connection

from apps.notifications.tests.support import CollectingHandler, running_smtp_server


@pytest.fixture
def smtp_server() -> Iterator[tuple[CollectingHandler, int]]:
    with running_smtp_server() as server:
        yield server


@pytest.fixture
def empty_queue() -> Iterator[None]:
    """This run's queue exists and is empty before and after the test (nothing else consumes it)."""
    with Connection(settings.CELERY_BROKER_URL) as connection:
        channel = connection.default_channel
        channel.queue_declare(settings.CELERY_TASK_DEFAULT_QUEUE, durable=True, auto_delete=False)
        channel.queue_purge(settings.CELERY_TASK_DEFAULT_QUEUE)
    yield
    with Connection(settings.CELERY_BROKER_URL) as connection:
        connection.default_channel.queue_purge(settings.CELERY_TASK_DEFAULT_QUEUE)
