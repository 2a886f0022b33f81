"""Queues that scale apart, and a beat that a second beat cannot double (airline/queues.py,
apps/core/beat.py; docs/SCALING.md, "Queues that scale apart").

The beat tests dispatch through the real scheduler onto the real broker and count the messages
queued, per queue and task, exactly: once with two schedulers in this process, once with two real
`celery beat` processes. (That a flood of e-mails does not delay a reconciliation, with real workers
on their own queues: apps/notifications/tests/test_queues.py.)
"""

import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from celery import schedules
from django.conf import settings
from django.core.cache import cache
from django.test import override_settings
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from airline.celery import app as celery_app
from airline.queues import EMAIL, HOUSEKEEPING, PAYMENTS, TASK_KINDS, queue_name
from apps.core.beat import (
    GuardedDatabaseScheduler,
    claim_seconds,
    dispatch_claim_key,
    periodic_dispatch_claim,
)
from apps.core.periodic import periodic_jobs, periodic_tasks_sync
from apps.core.testing.broker import queued_tasks_take, queues_emptied
from apps.core.testing.nodes import this_run_database_url

CELERY = Path(sys.executable).with_name("celery")
DEADLINE_SECONDS = 30
DUE_IN_SECONDS = 6  # time for both beats to start and read the schedule (about 1 s each here)


def queue(kind: str) -> str:
    return queue_name(settings.CELERY_TASK_DEFAULT_QUEUE, kind)


# Where each periodic job's task is queued (airline/queues.py).
JOB_QUEUES = {
    "apps.notifications.tasks.retry_due_notifications_task": EMAIL,
    "apps.notifications.tasks.send_flight_reminders_task": EMAIL,
    "apps.payments.tasks.reconcile_stuck_payments_task": PAYMENTS,
    "apps.bookings.tasks.finish_cancelled_flights_task": PAYMENTS,
    "apps.bookings.tasks.expire_holds_task": HOUSEKEEPING,
    "apps.notifications.tasks.purge_sent_notifications_task": HOUSEKEEPING,
    "apps.core.tasks.purge_idempotency_keys_task": HOUSEKEEPING,
    "apps.accounts.tasks.purge_expired_auth_sessions_task": HOUSEKEEPING,
}


def test_every_task_of_the_apps_is_routed_to_its_queue():
    celery_app.loader.import_default_modules()
    our_tasks = {name for name in celery_app.tasks if name.startswith("apps.")}

    assert our_tasks == set(TASK_KINDS)
    assert {job.task for job in periodic_jobs()} == set(JOB_QUEUES)
    for task, kind in TASK_KINDS.items():
        assert celery_app.amqp.router.route({}, task)["queue"].name == queue(kind)
    assert settings.CELERY_TASK_ROUTES["apps.notifications.tasks.send_notification_task"] == {
        "queue": f"{settings.CELERY_TASK_DEFAULT_QUEUE}.email"
    }
    assert [q.name for q in settings.CELERY_TASK_QUEUES] == [
        settings.CELERY_TASK_DEFAULT_QUEUE,
        queue(EMAIL),
        queue(PAYMENTS),
        queue(HOUSEKEEPING),
    ]


def test_a_dispatch_claims_its_job_until_a_tenth_before_its_next_run():
    every_30_seconds = schedules.schedule(timedelta(seconds=30))
    daily_at_3 = schedules.crontab(minute=0, hour=3)
    until_3 = daily_at_3.remaining_estimate(daily_at_3.now()).total_seconds()

    assert claim_seconds(every_30_seconds) == pytest.approx(27, abs=0.01)
    assert claim_seconds(daily_at_3) == pytest.approx(until_3 * 0.9, abs=1)


REDIS_DOWN = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
    }
}


def test_with_redis_down_the_guard_lets_every_dispatch_through_and_says_so(caplog):
    with override_settings(CACHES=REDIS_DOWN):
        claims = [periodic_dispatch_claim("expire-holds", seconds=27) for _ in range(2)]

    assert claims == [True, True]
    unguarded = [r for r in caplog.records if "dispatching expire-holds unguarded" in r.getMessage()]
    assert [r.levelname for r in unguarded] == ["WARNING", "WARNING"]


@pytest.fixture
def due_schedule(transactional_db) -> Iterator[None]:
    """Every declared job in beat's tables, each last run two days ago, no claim left in the cache,
    and this run's queues empty. The daily jobs are paused: django-celery-beat's scheduler loads a
    crontab job only within two hours of its hour, so whether they were due would depend on the
    clock; the jobs every few seconds or minutes (INTERVAL_JOBS) are all due."""
    periodic_tasks_sync()
    PeriodicTask.objects.update(last_run_at=timezone.now() - timedelta(days=2))
    PeriodicTask.objects.filter(crontab__isnull=False).update(enabled=False)
    for task in PeriodicTask.objects.all():
        cache.delete(dispatch_claim_key(task.name))
    with queues_emptied():
        yield


@pytest.fixture
def two_beats(due_schedule) -> Iterator[tuple[GuardedDatabaseScheduler, GuardedDatabaseScheduler]]:
    """Two schedulers in this process, as two beats run them; closed (their last runs written to the
    database) before the test's database goes, not when the process exits."""
    beats = (GuardedDatabaseScheduler(app=celery_app), GuardedDatabaseScheduler(app=celery_app))
    try:
        yield beats
    finally:
        for beat in beats:
            beat.close()


def dispatch_due_jobs(beat: GuardedDatabaseScheduler) -> int:
    """Tick `beat` until nothing is due (each tick handles one due job); how many it handled."""
    for handled in range(50):
        if beat.tick() > 0:
            return handled
    raise AssertionError("the beat kept finding due jobs")


INTERVAL_JOBS = {job.task: JOB_QUEUES[job.task] for job in periodic_jobs() if job.every_seconds}


def expected_once_each() -> Counter:
    return Counter({(queue(kind), task): 1 for task, kind in INTERVAL_JOBS.items()})


@pytest.mark.integration
def test_two_beats_dispatch_each_due_job_once_to_its_queue(two_beats, caplog):
    # given two beats that both read the schedule while every job was due
    first, second = two_beats
    for beat in (first, second):
        assert {entry.task for entry in beat.schedule.values()} >= set(INTERVAL_JOBS)

    # when both run their pass over it
    handled = [dispatch_due_jobs(first), dispatch_due_jobs(second)]

    # then each beat handled every job, but each job was queued once, on its own queue
    assert handled == [len(INTERVAL_JOBS)] * 2
    assert queued_tasks_take() == expected_once_each()
    skipped = [r for r in caplog.records if "was dispatched by another beat" in r.getMessage()]
    assert len(skipped) == len(INTERVAL_JOBS)


@pytest.mark.integration
def test_the_guard_lets_the_next_period_run(two_beats):
    # given one job every second (staff may shorten a job's interval), the others paused,
    every_second = IntervalSchedule.objects.create(every=1, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.exclude(name="reconcile-payments").update(enabled=False)
    PeriodicTask.objects.filter(name="reconcile-payments").update(interval=every_second)
    first, second = two_beats
    first.schedule, second.schedule  # noqa: B018 - both read the schedule while the job is due

    # when the first beat dispatches it, the second tries the same run, and the first comes to the next,
    assert [dispatch_due_jobs(first), dispatch_due_jobs(second)] == [1, 1]
    after_one_run = queued_tasks_take()
    deadline = time.monotonic() + DEADLINE_SECONDS
    while dispatch_due_jobs(first) == 0 and time.monotonic() < deadline:
        time.sleep(0.05)  # the next run is due a second after the first; bounded by the deadline

    # then the duplicate was dropped and the next run was queued: one message each time.
    reconcile = (queue(PAYMENTS), "apps.payments.tasks.reconcile_stuck_payments_task")
    assert after_one_run == Counter({reconcile: 1})
    assert queued_tasks_take() == Counter({reconcile: 1})


@pytest.mark.integration
@pytest.mark.slow
def test_a_second_beat_process_started_by_mistake_doubles_no_job(due_schedule, tmp_path):
    # given every job due a few seconds from now, so that both beats have read the schedule by then
    # (a beat writes a run's time to the database after sending it: a beat reading the schedule
    # later would find the job not due, and the guard would have nothing to refuse),
    for job in periodic_jobs():
        if job.every_seconds:
            PeriodicTask.objects.filter(name=job.name).update(
                last_run_at=timezone.now() - timedelta(seconds=job.every_seconds - DUE_IN_SECONDS)
            )
    # when two real beats run at once, and each sends what is due,
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "airline.settings.test",
        "DATABASE_URL": this_run_database_url(),
        "CELERY_TASK_DEFAULT_QUEUE": settings.CELERY_TASK_DEFAULT_QUEUE,
        "LOG_LEVEL": "INFO",
    }
    logs = [tmp_path / "beat-1.log", tmp_path / "beat-2.log"]
    beats = []
    for log_path in logs:
        with log_path.open("w") as log:
            beats.append(
                subprocess.Popen(
                    [str(CELERY), "-A", "airline", "beat"],
                    cwd=settings.BASE_DIR,
                    env=environment,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )

    names = [job.name for job in periodic_jobs() if job.every_seconds]

    def both_sent_every_job() -> bool:
        texts = [log.read_text() for log in logs]
        return all(f"Sending due task {name} " in text for name in names for text in texts)

    try:
        deadline = time.monotonic() + DEADLINE_SECONDS
        while not both_sent_every_job() and time.monotonic() < deadline:
            assert all(beat.poll() is None for beat in beats), [log.read_text()[-2000:] for log in logs]
            time.sleep(0.1)  # polling the beats' logs, bounded by the deadline
    finally:
        for beat in beats:
            beat.terminate()
        for beat in beats:
            beat.wait(timeout=15)
    texts = [log.read_text() for log in logs]
    assert both_sent_every_job(), [text[-2000:] for text in texts]

    # then every job was queued once, on its own queue, and each run not sent again was logged (at
    # least one per job: a beat that reloads its schedule may try a run once more, and is refused too).
    assert queued_tasks_take() == expected_once_each()
    for name in names:
        assert sum(text.count(f"Beat: {name} was dispatched by another beat") for text in texts) >= 1
