"""Periodic jobs: each app declares its own, next to the task that runs them; one command writes them all.

An app marks a Celery task as periodic in its `tasks.py`:

    @periodic_job(name="expire-holds", every_seconds=30, description="Expire unpaid holds.")
    @shared_task(name="apps.bookings.tasks.expire_holds_task", ...)
    def expire_holds_task() -> int: ...

django-celery-beat's database scheduler runs them, guarded so that a second beat doubles no job
(apps/core/beat.py); each task goes to its kind's queue (airline/queues.py). `periodic_tasks_sync`
writes the rows of every declared job; `manage.py setup_beat` (which `make run`, compose and
deployments call) and the notifications data migration call it. Staff may edit or pause a job in
the admin: syncing again leaves an existing job as staff left it unless asked to reset. Every job
must be safe to run twice or concurrently (a run is dropped, not queued twice, when workers are down
past its period).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from django.apps import apps as global_apps
from django.apps.registry import Apps
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules

DAILY_EXPIRY_SECONDS = 3600

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PeriodicJob:
    name: str
    task: str  # the Celery task's registered name
    # Exactly one of: run every `every_seconds`, or daily at `daily_at` ("HH:MM", UTC).
    every_seconds: int | None = None
    daily_at: str | None = None
    description: str = ""


_jobs: dict[str, PeriodicJob] = {}


def periodic_job(
    *, name: str, description: str, every_seconds: int | None = None, daily_at: str | None = None
) -> Callable[[T], T]:
    """Declare the decorated Celery task as a periodic job (every `every_seconds`, or daily at `daily_at`)."""
    if (every_seconds is None) == (daily_at is None):
        raise ValueError(f"Periodic job {name}: give exactly one of every_seconds and daily_at.")

    def register(task: T) -> T:
        job = PeriodicJob(
            name=name,
            task=task.name,  # type: ignore[attr-defined]
            every_seconds=every_seconds,
            daily_at=daily_at,
            description=description,
        )
        if _jobs.get(name, job) != job:
            raise ValueError(f"Two periodic jobs are named {name}.")
        _jobs[name] = job
        return task

    return register


def periodic_jobs() -> tuple[PeriodicJob, ...]:
    """Every declared job, by name (each installed app's `tasks` module is imported first)."""
    autodiscover_modules("tasks")
    return tuple(sorted(_jobs.values(), key=lambda job: job.name))


def periodic_tasks_sync(*, app_registry: Apps = global_apps, reset: bool = False) -> list[str]:
    """Create the beat rows of the declared jobs that are missing; returns the names created.

    With `reset`, existing ones get their declared task, schedule and enabled flag back. Takes the
    app registry so a data migration can pass its historical models.
    """
    interval_model = app_registry.get_model("django_celery_beat", "IntervalSchedule")
    crontab_model = app_registry.get_model("django_celery_beat", "CrontabSchedule")
    task_model = app_registry.get_model("django_celery_beat", "PeriodicTask")
    tracker_model = app_registry.get_model("django_celery_beat", "PeriodicTasks")

    created: list[str] = []
    changed = False
    for job in periodic_jobs():
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
