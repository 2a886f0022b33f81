"""Celery beat's scheduler, guarded so that a second beat started by mistake doubles no job.

Exactly one beat should run (docs/SCALING.md, "The shape"). If two do (a failover that left
the old one running, a deployment that scaled beat to two replicas), both read the same schedule from
django-celery-beat's tables and each dispatches every job: twice the work. So each dispatch first
claims the job in the shared cache (Redis): `cache.add` of a key naming the job, expiring shortly
before the job's next run is due. A beat that finds the job claimed skips that run, and schedules its
next one as usual.

Why a lock with the period as its lifetime, in Redis:
- it is one round trip at a dispatch (a database guard is a table, a row lock and a transaction in
  the scheduler), and it needs no clean-up: it expires by itself;
- it guards the dispatch, where the schedule is known, not the task: staff running a job by hand
  from the admin still run it, and a run waiting in a busy queue is not mistaken for a duplicate;
- the lock lives (1 − DISPATCH_TOLERANCE) of the time to the job's next run, so one beat's own next
  dispatch, a whole period later give or take milliseconds, always finds it expired, while the other
  beat's dispatch of the same run, sooner than that, finds it held. Two beats therefore dispatch a
  job once per period between them, whatever their offset. (A key per window of the clock, such as
  `now // period`, would instead skip a run whenever one beat's schedule drifts across a window's
  edge.)

The guard fails open: if the cache cannot be reached the job is dispatched (every job is safe to run
twice: apps/core/periodic.py) and a warning is logged. In the embedded default (local-memory cache)
the claim holds within the one beat `make run` starts, which is all there is.
"""

import logging
from datetime import timedelta

from django.core.cache import cache
from django_celery_beat.schedulers import DatabaseScheduler
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

DISPATCH_TOLERANCE = 0.1  # a tenth of the time to the next run: far above a beat's own jitter
MIN_CLAIM_SECONDS = 0.1  # a one-off (clocked) job, already due: guarded against the same tick


def dispatch_claim_key(job_name: str) -> str:
    return f"periodic-dispatch:{job_name}"


def periodic_dispatch_claim(job_name: str, *, seconds: float) -> bool:
    """Claim this run of `job_name` for `seconds`; False when another beat claimed it first. True
    when the cache does not answer (fails open, logged)."""
    try:
        return bool(cache.add(dispatch_claim_key(job_name), 1, timeout=seconds))
    except (RedisError, ConnectionInterrupted, OSError):
        logger.warning("Beat: the cache did not answer; dispatching %s unguarded", job_name, exc_info=True)
        return True


def periodic_dispatch_release(job_name: str) -> None:
    """Give a claim back (its dispatch failed), so another beat, or the next tick, may dispatch."""
    try:
        cache.delete(dispatch_claim_key(job_name))
    except (RedisError, ConnectionInterrupted, OSError):
        logger.warning("Beat: could not release the claim of %s", job_name, exc_info=True)


def claim_seconds(schedule) -> float:
    """How long a dispatch made now claims its job: DISPATCH_TOLERANCE short of the next run's time."""
    until_next: timedelta = schedule.remaining_estimate(schedule.now())
    return max(MIN_CLAIM_SECONDS, until_next.total_seconds() * (1 - DISPATCH_TOLERANCE))


class GuardedDatabaseScheduler(DatabaseScheduler):
    """django-celery-beat's database scheduler, dispatching a job only if no other beat just did."""

    def apply_async(self, entry, producer=None, advance=True, **kwargs):
        if not periodic_dispatch_claim(entry.name, seconds=claim_seconds(entry.schedule)):
            logger.warning(
                "Beat: %s was dispatched by another beat within its period; not dispatching it again "
                "(is a second beat running? docs/SCALING.md)",
                entry.name,
            )
            if advance:
                self.reserve(entry)
            return None
        try:
            return super().apply_async(entry, producer, advance, **kwargs)
        except Exception:
            periodic_dispatch_release(entry.name)
            raise
