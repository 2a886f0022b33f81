"""Every periodic job of Airline, declared once (SPEC §6, STYLE rule 6).

django-celery-beat's database scheduler runs them; `periodic_tasks_sync` writes these rows and is
called by the notifications data migration and by `manage.py setup_beat` (which `make run` and
deployments call). Staff may edit or pause a job in the admin: syncing again leaves an existing job
as staff left it unless asked to reset. Every job is safe to run twice or concurrently.
"""

from dataclasses import dataclass

from django.apps import apps as global_apps
from django.apps.registry import Apps
from django.utils import timezone

DAILY_EXPIRY_SECONDS = 3600


@dataclass(frozen=True, slots=True)
class PeriodicJob:
    name: str
    task: str
    # Exactly one of: run every `every_seconds`, or daily at `daily_at` ("HH:MM", UTC).
    every_seconds: int | None = None
    daily_at: str | None = None
    description: str = ""


PERIODIC_JOBS: tuple[PeriodicJob, ...] = (
    # Every 30 s: expire holds past hold_expires_at and release their seats (skip-locked batches).
    PeriodicJob(
        name="expire-holds",
        task="apps.bookings.tasks.expire_holds_task",
        every_seconds=30,
        description="Expire unpaid holds and release their seats.",
    ),
    # Every minute: queue outbox emails that are due again (transient failure backoff, broker was
    # down at commit time, or a crashed worker's claim whose lease ran out).
    PeriodicJob(
        name="retry-notifications",
        task="apps.notifications.tasks.retry_due_notifications_task",
        every_seconds=60,
        description="Queue pending emails whose next attempt is due.",
    ),
    # Every minute: finalize payments stuck in processing past their lease by asking the gateway.
    PeriodicJob(
        name="reconcile-payments",
        task="apps.payments.tasks.reconcile_stuck_payments_task",
        every_seconds=60,
        description="Reconcile payments stuck in processing with the gateway.",
    ),
    # Every 15 minutes: one reminder per confirmed booking departing in the next 24 hours.
    PeriodicJob(
        name="flight-reminders",
        task="apps.notifications.tasks.send_flight_reminders_task",
        every_seconds=15 * 60,
        description="Email a reminder 24 hours before departure.",
    ),
    # Daily at 03:00 UTC (low traffic): delete sent emails older than NOTIFICATIONS_RETENTION_DAYS.
    PeriodicJob(
        name="purge-sent-notifications",
        task="apps.notifications.tasks.purge_sent_notifications_task",
        daily_at="03:00",
        description="Delete sent emails older than the retention period (30 days).",
    ),
    # Daily at 03:30 UTC: delete idempotency keys older than IDEMPOTENCY_RETENTION_HOURS (24 h).
    PeriodicJob(
        name="purge-idempotency-keys",
        task="apps.core.tasks.purge_idempotency_keys_task",
        daily_at="03:30",
        description="Delete idempotency keys older than 24 hours.",
    ),
)


def periodic_tasks_sync(*, app_registry: Apps = global_apps, reset: bool = False) -> list[str]:
    """Create the periodic tasks of PERIODIC_JOBS that are missing; returns the names created.

    With `reset`, existing ones get their declared task, schedule and enabled flag back. Takes the
    app registry so the data migration can pass its historical models.
    """
    interval_model = app_registry.get_model("django_celery_beat", "IntervalSchedule")
    crontab_model = app_registry.get_model("django_celery_beat", "CrontabSchedule")
    task_model = app_registry.get_model("django_celery_beat", "PeriodicTask")
    tracker_model = app_registry.get_model("django_celery_beat", "PeriodicTasks")

    created: list[str] = []
    changed = False
    for job in PERIODIC_JOBS:
        schedule: dict[str, object] = {"interval": None, "crontab": None}
        if job.every_seconds is not None:
            schedule["interval"] = _first_or_create(interval_model, every=job.every_seconds, period="seconds")
        else:
            hour, minute = (job.daily_at or "").split(":")
            schedule["crontab"] = _first_or_create(
                crontab_model,
                minute=str(int(minute)),
                hour=str(int(hour)),
                day_of_week="*",
                day_of_month="*",
                month_of_year="*",
                timezone="UTC",
            )
        declared = {
            "task": job.task,
            "description": job.description,
            "enabled": True,
            # A run not started within one period (workers down) is dropped: the next one follows.
            "expire_seconds": job.every_seconds or DAILY_EXPIRY_SECONDS,
            **schedule,
        }
        task, was_created = task_model.objects.get_or_create(name=job.name, defaults=declared)
        if was_created:
            created.append(job.name)
            changed = True
        elif reset:
            for field, value in declared.items():
                setattr(task, field, value)
            task.save()
            changed = True
    if changed:
        # Historical models send no signals: tell a running beat the schedule changed.
        tracker_model.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})
    return created


def _first_or_create(model, **fields):
    # get_or_create would fail on duplicates staff may have made in the admin; any equal row will do.
    return model.objects.filter(**fields).order_by("pk").first() or model.objects.create(**fields)
