"""The CPU a benchmark run charges to PostgreSQL's backends: a backend that closes during the
run is left out rather than subtracted, one that opens during it counts in full."""

from __future__ import annotations

import os
import subprocess
import sys

from bench.common import cpu_by_pid, cpu_used


def test_a_process_that_exited_during_the_run_is_left_out_not_subtracted() -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    me = os.getpid()
    before = {gone.pid: 5.0, **cpu_by_pid([me])}

    used = cpu_used(before, [])

    assert gone.pid not in cpu_by_pid([gone.pid])
    assert 0 <= used < 1


def test_a_process_that_started_during_the_run_counts_in_full() -> None:
    me = os.getpid()
    sum(range(2_000_000))

    used = cpu_used({}, [me])

    assert used > 0
    assert used >= cpu_by_pid([me])[me] - 0.05
