"""Celery tasks of the bookings app (thin: one service call each)."""

from celery import shared_task

from apps.bookings.services import booking_holds_expire, cancelled_flights_finish
from apps.core.periodic import periodic_job


# Every 30 s: expire holds past hold_expires_at and release their seats. A run cut short or run
# twice is harmless: each batch is its own transaction and re-checks status under the lock.
@periodic_job(
    name="expire-holds", every_seconds=30, description="Expire unpaid holds and release their seats."
)
@shared_task(name="apps.bookings.tasks.expire_holds_task", acks_late=True, time_limit=60, soft_time_limit=50)
def expire_holds_task() -> int:
    return booking_holds_expire()


# Every minute: cancel the bookings cancelled flights still have (a refund that failed, a payment that
# ended after the flight was cancelled), so every booking of a cancelled flight ends cancelled.
@periodic_job(
    name="finish-cancelled-flights",
    every_seconds=60,
    description="Cancel and refund the bookings left on cancelled flights.",
)
@shared_task(
    name="apps.bookings.tasks.finish_cancelled_flights_task",
    acks_late=True,
    time_limit=120,
    soft_time_limit=90,
)
def finish_cancelled_flights_task() -> int:
    return cancelled_flights_finish()
