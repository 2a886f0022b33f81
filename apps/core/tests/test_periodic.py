"""Every app's periodic jobs are in django-celery-beat's tables after migrate, and setup_beat keeps them."""

import importlib
from io import StringIO

import pytest
from django.apps import apps as django_apps
from django.core.management import call_command
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from apps.core.periodic import periodic_job, periodic_jobs

pytestmark = pytest.mark.django_db

EXPECTED = {
    # name: (task, seconds between runs, or None for the daily ones)
    "expire-holds": ("apps.bookings.tasks.expire_holds_task", 30),
    "finish-cancelled-flights": ("apps.bookings.tasks.finish_cancelled_flights_task", 60),
    "retry-notifications": ("apps.notifications.tasks.retry_due_notifications_task", 60),
    "reconcile-payments": ("apps.payments.tasks.reconcile_stuck_payments_task", 60),
    "flight-reminders": ("apps.notifications.tasks.send_flight_reminders_task", 15 * 60),
    "purge-sent-notifications": ("apps.notifications.tasks.purge_sent_notifications_task", None),
    "purge-idempotency-keys": ("apps.core.tasks.purge_idempotency_keys_task", None),
    "purge-expired-auth-sessions": ("apps.accounts.tasks.purge_expired_auth_sessions_task", None),
}


def schedule_snapshot() -> dict[str, tuple]:
    snapshot = {}
    for task in PeriodicTask.objects.select_related("interval", "crontab"):
        if task.interval:
            assert task.interval.period == IntervalSchedule.SECONDS
            every = task.interval.every
        else:
            crontab = task.crontab
            assert (crontab.day_of_week, crontab.day_of_month, crontab.month_of_year) == ("*", "*", "*")
            assert str(crontab.timezone) == "UTC"
            every = f"daily {int(crontab.hour):02d}:{int(crontab.minute):02d}"
        snapshot[task.name] = (task.task, every, task.enabled)
    return snapshot


@pytest.fixture
def migrated_schedule() -> None:
    """The schedule as `migrate` writes it on a new database (its data migration, run again on empty
    tables: transactional tests flush every table, beat's too)."""
    PeriodicTask.objects.all().delete()
    IntervalSchedule.objects.all().delete()
    CrontabSchedule.objects.all().delete()
    migration = importlib.import_module("apps.notifications.migrations.0003_periodic_tasks")
    migration.create_periodic_tasks(django_apps, schema_editor=None)


def test_the_migrated_schedule_has_every_apps_jobs(migrated_schedule):
    snapshot = schedule_snapshot()

    assert set(snapshot) == set(EXPECTED)
    for name, (task, seconds) in EXPECTED.items():
        assert snapshot[name][0] == task
        assert snapshot[name][2] is True
        if seconds is None:
            assert snapshot[name][1].startswith("daily ")
        else:
            assert snapshot[name][1] == seconds
    assert PeriodicTask.objects.get(name="expire-holds").expire_seconds == 30


def test_setup_beat_is_idempotent_and_keeps_what_staff_changed_in_the_admin(migrated_schedule):
    before = schedule_snapshot()
    paused = PeriodicTask.objects.get(name="flight-reminders")
    paused.enabled = False
    paused.save()
    PeriodicTask.objects.filter(name="purge-idempotency-keys").delete()
    out = StringIO()

    call_command("setup_beat", stdout=out)
    call_command("setup_beat", stdout=out)

    after = schedule_snapshot()
    assert after["purge-idempotency-keys"] == before["purge-idempotency-keys"]  # recreated
    assert after["flight-reminders"][2] is False  # staff's pause is kept
    assert PeriodicTask.objects.count() == len(periodic_jobs())
    assert IntervalSchedule.objects.filter(every=60, period="seconds").count() == 1
    assert CrontabSchedule.objects.filter(hour="3", minute="30").count() == 1
    assert "1 created (purge-idempotency-keys)" in out.getvalue()
    assert f"0 created (none), {len(EXPECTED)} already present" in out.getvalue()


def test_setup_beat_reset_restores_the_declared_schedule(migrated_schedule):
    before = schedule_snapshot()
    PeriodicTask.objects.filter(name="expire-holds").update(
        enabled=False, task="apps.bookings.tasks.renamed", interval=IntervalSchedule.objects.create(every=5)
    )

    call_command("setup_beat", "--reset", stdout=StringIO())

    assert schedule_snapshot() == before


def test_a_job_needs_exactly_one_schedule_and_a_unique_name():
    with pytest.raises(ValueError, match="exactly one"):
        periodic_job(name="nothing", description="")
    with pytest.raises(ValueError, match="exactly one"):
        periodic_job(name="both", description="", every_seconds=5, daily_at="01:00")

    class Task:
        name = "apps.tests.another_task"

    assert "expire-holds" in {job.name for job in periodic_jobs()}
    with pytest.raises(ValueError, match="Two periodic jobs"):
        periodic_job(name="expire-holds", every_seconds=30, description="")(Task)
