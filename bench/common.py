"""Shared pieces of the benchmarks: where they live, a database connection, a timed download,
and CPU accounting (from /proc: the servers run on this machine)."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy.engine import URL

from app.core.embedded import connect_kwargs

ROOT = Path(__file__).resolve().parent.parent
EXPORT = "/api/v1/innovations/export.csv"


@contextlib.asynccontextmanager
async def connect(url: URL) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(**connect_kwargs(url))
    try:
        yield conn
    finally:
        await conn.close()


def download(client: httpx.Client, path: str, **params: str) -> tuple[float, int]:
    """Seconds from the GET of `path` (with `params`) to the last byte of a 200 response, and
    its bytes."""
    size, started = 0, time.perf_counter()
    with client.stream("GET", path, params=params or None) as response:  # {} drops its query
        if response.status_code != 200:
            raise SystemExit(f"{path}: {response.status_code} {response.read()[:300]!r}")
        for chunk in response.iter_raw():
            size += len(chunk)
    return time.perf_counter() - started, size


def cpu_by_pid(pids: list[int]) -> dict[int, float]:
    """User + system CPU seconds each live process of `pids` has used so far; a process
    that has exited is left out."""
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
    return sum(cpu_by_pid(pids).values())


def cpu_used(before: dict[int, float], started: list[int]) -> float:
    """CPU seconds the processes of `before` (from `cpu_by_pid`) and `started` used since:
    all of one that started since; nothing of one that exited since (its time is gone with
    it), rather than the negative figure a difference of totals would give."""
    now = cpu_by_pid(list({*before, *started}))
    return sum(s - before.get(pid, 0.0) for pid, s in now.items())
