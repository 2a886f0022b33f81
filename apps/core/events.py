"""Domain events: how an app tells others what happened without importing them.

Dependencies point one way (core ← accounts ← flights ← bookings ← payments); notifications is
told what happened and never reaches back. A service publishes an event inside its transaction;
subscribers (registered in their AppConfig.ready) run synchronously in that same transaction, so
an outbox row they write commits or rolls back with the change it announces.

Events and their payloads:
- "booking.held"       booking
- "booking.confirmed"  booking, payment
- "booking.cancelled"  booking, refunded (bool), by_airline (bool: the flight was cancelled)
- "booking.expired"    booking
"""

from collections import defaultdict
from collections.abc import Callable
from typing import Any

Subscriber = Callable[..., None]

_subscribers: dict[str, list[Subscriber]] = defaultdict(list)


def subscribe(event: str, subscriber: Subscriber) -> None:
    if subscriber not in _subscribers[event]:
        _subscribers[event].append(subscriber)


def publish(event: str, **payload: Any) -> None:
    for subscriber in list(_subscribers[event]):
        subscriber(**payload)
