"""Celery tasks of the bookings app (thin: one service call each)."""

from celery import shared_task

from apps.bookings.services import booking_holds_expire


# Beat runs this every 30 s (the schedule is declared with the others by the notifications app). A
# run cut short or run twice is harmless: each batch is its own transaction and re-checks status.
@shared_task(name="apps.bookings.tasks.expire_holds_task", acks_late=True, time_limit=60, soft_time_limit=50)
def expire_holds_task() -> int:
    return booking_holds_expire()
