"""Shared pieces of the benchmarks: a throwaway database and a real `inovasi serve` (from
tests/harness.py, which the fault tests use too), and CPU accounting."""

from __future__ import annotations

import os
import platform
from pathlib import Path

from sqlalchemy.engine import URL

from app.core.embedded import start_embedded, to_async_url
from tests import harness
from tests.harness import backend_pids, free_port, seed_commitments, serve

ROOT = Path(__file__).resolve().parent.parent

__all__ = ["backend_pids", "free_port", "seed_commitments", "serve"]


def server_url() -> URL:
    configured = os.environ.get("BENCH_DATABASE_URL")
    return to_async_url(configured) if configured else start_embedded(ROOT / ".data")


def fresh_database(name: str) -> URL:
    """A new, migrated database with the regions loaded."""
    return harness.fresh_database(server_url(), name)


def cpu_by_pid(pids: list[int]) -> dict[int, float]:
    """User + system CPU seconds each live process of `pids` has used so far (Linux /proc);
    a process that has exited is left out."""
    tick = os.sysconf("SC_CLK_TCK")
    used: dict[int, float] = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        used[pid] = (int(fields[11]) + int(fields[12])) / tick
    return used


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds the live processes of `pids` have used so far."""
    return sum(cpu_by_pid(pids).values())


def cpu_used(before: dict[int, float], started: list[int]) -> float:
    """CPU seconds the processes of `before` (from `cpu_by_pid`) and `started` used since:
    all of a process's that started since; nothing of one that exited since (its time is
    gone with it), rather than the negative figure a difference of totals would give."""
    now = cpu_by_pid(list({*before, *started}))
    return sum(s - before.get(pid, 0.0) for pid, s in now.items())


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    return f"{platform.system()} {platform.release()}, {os.cpu_count()} cores, {cpu}"
