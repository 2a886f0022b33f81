"""Domain events: how an app tells others what happened without importing them.

Dependencies point one way (core ← accounts ← flights ← bookings ← payments); notifications is told
what happened and never reaches back. The app that owns a change declares its events, each an
`Event` with a payload class (a frozen dataclass whose fields are the event's documented arguments),
in its `events.py`. A service publishes inside its transaction; subscribers (connected in their
AppConfig.ready) run synchronously in that same transaction, so an outbox row they write commits or
rolls back with the change it announces. docs/ARCHITECTURE.md lists every event.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

P = TypeVar("P")


class Event(Generic[P]):
    """A declared event: `name` for logs and docs, `payload` the class every publication carries."""

    def __init__(self, name: str, payload: type[P]) -> None:
        self.name = name
        self.payload = payload
        self._subscribers: list[Callable[[P], None]] = []

    def __repr__(self) -> str:
        return f"<Event {self.name}>"

    def subscribe(self, subscriber: Callable[[P], None]) -> None:
        """Call `subscriber(payload)` on every publication from now on (once, however often added)."""
        if subscriber not in self._subscribers:
            self._subscribers.append(subscriber)

    def unsubscribe(self, subscriber: Callable[[P], None]) -> None:
        """Stop calling `subscriber`; unsubscribing one that is not subscribed does nothing."""
        if subscriber in self._subscribers:
            self._subscribers.remove(subscriber)

    @contextmanager
    def subscribed(self, subscriber: Callable[[P], None]) -> Iterator[None]:
        """`subscriber` is subscribed inside the block only (tests watching an event)."""
        self.subscribe(subscriber)
        try:
            yield
        finally:
            self.unsubscribe(subscriber)

    def publish(self, payload: P) -> None:
        """Call every subscriber with `payload`; a payload of another class is a programming error."""
        if not isinstance(payload, self.payload):
            raise TypeError(f"{self.name} carries {self.payload.__name__}, not {type(payload).__name__}")
        for subscriber in list(self._subscribers):
            subscriber(payload)
