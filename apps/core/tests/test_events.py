"""Declared events: typed payloads, public subscribe and unsubscribe."""

from dataclasses import dataclass

import pytest

from apps.core.events import Event


@dataclass(frozen=True)
class Happened:
    what: str


def test_subscribers_get_each_publication_until_they_unsubscribe():
    event = Event("thing.happened", Happened)
    seen: list[str] = []

    def subscriber(payload: Happened) -> None:
        seen.append(payload.what)

    event.subscribe(subscriber)
    event.subscribe(subscriber)  # once, however often added
    event.publish(Happened("first"))
    event.unsubscribe(subscriber)
    event.unsubscribe(subscriber)  # harmless
    event.publish(Happened("second"))
    with event.subscribed(subscriber):
        event.publish(Happened("third"))
    event.publish(Happened("fourth"))

    assert seen == ["first", "third"]


def test_a_payload_of_another_class_is_refused():
    event = Event("thing.happened", Happened)
    seen: list = []
    event.subscribe(seen.append)

    with pytest.raises(TypeError, match="carries Happened"):
        event.publish({"what": "untyped"})  # type: ignore[arg-type]

    assert seen == []
