"""Fixtures of the notifications tests: a real SMTP server on loopback, this run's own queues."""

from collections.abc import Iterator

import pytest

from apps.core.testing.broker import queues_emptied
from apps.notifications.tests.support import CollectingHandler, running_smtp_server


@pytest.fixture
def smtp_server() -> Iterator[tuple[CollectingHandler, int]]:
    with running_smtp_server() as server:
        yield server


@pytest.fixture
def empty_queue() -> Iterator[None]:
    """This run's queues (the default one, e-mail, payments, housekeeping: airline/queues.py) exist and
    are empty before and after the test (nothing else consumes them)."""
    with queues_emptied():
        yield
