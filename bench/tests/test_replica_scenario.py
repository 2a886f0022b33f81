"""The replica scenario of `make bench` (bench/replica.py) at a tiny size: its plumbing, not its speed.

It runs as `make bench` runs it, in a process of its own (it configures Django for the MariaDB
primary it starts, which this pytest process cannot do: it is set up for the test database).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent.parent


@pytest.mark.slow
@pytest.mark.replicas
def test_the_replica_scenario_reads_the_replica_only_when_configured_and_oversells_nothing(tmp_path):
    # given the scenario at two search and two booking clients, one run of half-second windows
    environment = {
        **os.environ,
        "BENCH_REDIS_URL": os.environ["REDIS_URL"],
        "BENCH_QUEUE": f"{os.environ.get('CELERY_TASK_DEFAULT_QUEUE', 'airline-test')}-bench-replica",
        "BENCH_RESULTS_DIR": str(tmp_path),
    }
    arguments = ["--name=tiny", "--runs=1", "--duration=0.5", "--search-clients=2", "--booking-clients=2"]

    # when it runs
    done = subprocess.run(
        [sys.executable, "-m", "bench.replica", *arguments],
        cwd=BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )

    # then it passed its checks, with both modes measured while both loads ran
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads((tmp_path / "tiny.json").read_text())
    windows = {window["mode"]: window for window in result["windows"]}
    assert set(windows) == {"replica", "primary only"}
    assert result["ok"] is True
    for window in windows.values():
        assert window["checks"] == []
        assert window["search"]["ok"] > 0
        assert window["booking"]["ok"] > 0
        assert window["search"]["cache"] == {"miss": window["search"]["requests"]}
        assert window["inventory"]["ok"] is True
        assert window["inventory"]["oversold"] == 0
    # and the searches read the replica when it was configured, and only then
    assert windows["replica"]["replica_selects"] >= windows["replica"]["search"]["ok"]
    assert windows["primary only"]["replica_selects"] == 0
    # and the bookings of both windows are on the primary, each 201 one booking
    booked = windows["replica"]["booking"]["ok"] + windows["primary only"]["booking"]["ok"]
    assert windows["primary only"]["inventory"]["bookings_in_db"] == booked
    report = (tmp_path / "tiny.md").read_text()
    assert report.startswith("# Search on a replica while booking on the primary (tiny)")
    assert "| replica |" in report
    assert "| primary only |" in report
