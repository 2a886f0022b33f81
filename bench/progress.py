"""Progress of a long `make bench`: which step, which of how many, time spent and time left."""

import sys
import time
from collections.abc import Callable


def _clock(seconds: float) -> str:
    minutes, seconds = divmod(int(round(seconds)), 60)
    return f"{minutes}:{seconds:02d}"


class Progress:
    """Counts the steps of a planned run and estimates what is left from the pace so far.

    The first estimate (before any step has finished) is the plan's own: `first_guess_s` per step.
    """

    def __init__(
        self,
        total: int,
        *,
        first_guess_s: float,
        write: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total, self.first_guess_s, self.clock = total, first_guess_s, clock
        self.write = write or (lambda line: sys.stderr.write(line + "\n"))
        self.started = clock()
        self.done = 0

    def restart(self) -> None:
        """Count time from now (after the set-up, which is not a step)."""
        self.started = self.clock()

    def estimate_left_s(self) -> float:
        elapsed = self.clock() - self.started
        per_step = elapsed / self.done if self.done else self.first_guess_s
        return per_step * (self.total - self.done)

    def step(self, label: str) -> None:
        """Announce the next step (a measurement or a server start) before it runs."""
        self.done += 1
        elapsed = self.clock() - self.started
        per_step = elapsed / (self.done - 1) if self.done > 1 else self.first_guess_s
        left = per_step * (self.total - self.done + 1)
        self.write(
            f"[bench {time.strftime('%H:%M:%S')}] step {self.done}/{self.total} · {label} · "
            f"{_clock(elapsed)} elapsed, about {_clock(left)} left"
        )
