"""This run's Celery queues on the real broker (RabbitMQ), for tests that count what was queued."""

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from kombu import Connection


def this_run_queue_names() -> tuple[str, ...]:
    """Every queue of this run: the default one, e-mail, payments and housekeeping (airline/queues.py)."""
    return tuple(queue.name for queue in settings.CELERY_TASK_QUEUES)


def queues_purge() -> None:
    """Declare this run's queues (as Celery does) and empty them."""
    with Connection(settings.CELERY_BROKER_URL) as connection:
        channel = connection.default_channel
        for queue in settings.CELERY_TASK_QUEUES:
            queue(channel).declare()
            channel.queue_purge(queue.name)


@contextmanager
def queues_emptied() -> Iterator[None]:
    """This run's queues exist and are empty before and after the block (nothing else consumes them)."""
    queues_purge()
    try:
        yield
    finally:
        queues_purge()


def queue_depth(name: str) -> int:
    """Messages ready in queue `name` (not those a worker holds unacknowledged)."""
    with Connection(settings.CELERY_BROKER_URL) as connection:
        return connection.default_channel.queue_declare(name, passive=True).message_count


def queued_tasks_take() -> Counter[tuple[str, str]]:
    """Take every message off this run's queues; how many of each (queue, task name) there were."""
    taken: Counter[tuple[str, str]] = Counter()
    with Connection(settings.CELERY_BROKER_URL) as connection:
        channel = connection.default_channel
        for name in this_run_queue_names():
            while (message := channel.basic_get(name, no_ack=True)) is not None:
                taken[(name, message.headers["task"])] += 1
    return taken
