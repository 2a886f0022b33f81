"""Which Celery queue each task goes to, so that each kind of work has workers of its own and scales
apart (docs/SCALING.md, "Queues that scale apart"): a flood of e-mails never delays a payment's
reconciliation or the hold sweeper.

Every queue is named after CELERY_TASK_DEFAULT_QUEUE ("airline" gives "airline.email",
"airline.payments" and "airline.housekeeping"), so a test run or a bench with a default queue of its
own has all its queues to itself. A task not listed here goes to the default queue.
"""

from kombu import Exchange, Queue

EMAIL = "email"
PAYMENTS = "payments"
HOUSEKEEPING = "housekeeping"
KINDS = (EMAIL, PAYMENTS, HOUSEKEEPING)

TASK_KINDS = {
    # Sending the outbox, and the jobs that only queue sends (a lost task, a reminder).
    "apps.notifications.tasks.send_notification_task": EMAIL,
    "apps.notifications.tasks.retry_due_notifications_task": EMAIL,
    "apps.notifications.tasks.send_flight_reminders_task": EMAIL,
    # Money left unsettled: both ask the gateway, so a slow gateway holds back neither mail nor holds.
    "apps.payments.tasks.reconcile_stuck_payments_task": PAYMENTS,
    "apps.bookings.tasks.finish_cancelled_flights_task": PAYMENTS,
    # Housekeeping: the hold sweeper (it gives seats back every 30 s) and the daily purges.
    "apps.bookings.tasks.expire_holds_task": HOUSEKEEPING,
    "apps.notifications.tasks.purge_sent_notifications_task": HOUSEKEEPING,
    "apps.core.tasks.purge_idempotency_keys_task": HOUSEKEEPING,
    "apps.accounts.tasks.purge_expired_auth_sessions_task": HOUSEKEEPING,
}


def queue_name(default_queue: str, kind: str) -> str:
    return f"{default_queue}.{kind}"


def task_queues(default_queue: str) -> tuple[Queue, ...]:
    """The default queue and one per kind, each declared as Celery declares its default queue (a
    direct exchange of the queue's name), so a worker started without -Q consumes all of them."""
    names = (default_queue, *(queue_name(default_queue, kind) for kind in KINDS))
    return tuple(Queue(name, Exchange(name, type="direct"), routing_key=name) for name in names)


def task_routes(default_queue: str) -> dict[str, dict[str, str]]:
    return {task: {"queue": queue_name(default_queue, kind)} for task, kind in TASK_KINDS.items()}
