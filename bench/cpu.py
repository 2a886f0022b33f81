"""A process's CPU time as the kernel counts it (utime + stime in /proc/<pid>/stat, all its threads).

The bench reports each load generator's CPU over its measurement as a share of the machine's cores,
so a reader can see how much of the machine the client took from the server (docs/BENCHMARK.md).
"""

import os

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int | str = "self") -> float:
    """User + system CPU seconds of the process so far (threads that have exited included)."""
    with open(f"/proc/{pid}/stat") as stat:
        text = stat.read()
    # The command name (field 2) is in parentheses and may hold spaces: count fields after it.
    fields = text[text.rindex(")") + 2 :].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5)
    return (utime + stime) / CLOCK_TICKS


def machine_share(cpu_s: float, wall_s: float) -> float:
    """CPU seconds over a wall-clock span as a share of all the machine's cores (1.0 = every core)."""
    cores = os.cpu_count() or 1
    return cpu_s / (wall_s * cores) if wall_s > 0 else 0.0
