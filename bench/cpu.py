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


def session_cpu_seconds(session: int) -> float:
    """User + system CPU seconds of every live process in a session: a server started with
    `start_new_session=True` (bench/server.py) and all its worker processes (the session id is the
    server's own pid). A worker that exited is no longer counted: the bench's servers keep theirs."""
    total = 0.0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as stat:
                text = stat.read()
        except OSError:  # it exited meanwhile
            continue
        fields = text[text.rindex(")") + 2 :].split()
        if int(fields[3]) == session:  # field 6 of proc(5)
            total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return total
