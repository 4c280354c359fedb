"""Shared pieces of the benchmarks: a throwaway database and a real `inovasi serve`."""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
from sqlalchemy.engine import URL

from app import cli
from app.core.embedded import start_embedded, to_async_url

ROOT = Path(__file__).resolve().parent.parent


def server_url() -> URL:
    configured = os.environ.get("BENCH_DATABASE_URL")
    return to_async_url(configured) if configured else start_embedded(ROOT / ".data")


def fresh_database(name: str) -> URL:
    """A new, migrated database with the regions loaded."""
    from tests.conftest import recreate_database

    url = asyncio.run(recreate_database(server_url(), name))
    cli.migrate(url)
    cli.seed_regions(url)
    return url


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            child = int(stat.parent.name)
            found += [child, *_children(child)]
    return found


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds the processes `pids` have used so far (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / tick


class Service(str):
    """The base URL of a running service; `.pids` are its process and worker processes."""

    pids: list[int]


@contextlib.contextmanager
def serve(url: URL, workers: int = 1) -> Iterator[Service]:
    """Run `inovasi serve` against `url`; yields its base URL; stops it with SIGTERM."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url.render_as_string(hide_password=False),
        "LOG_LEVEL": "WARNING",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = Service(f"http://127.0.0.1:{port}")
    base.pids = [proc.pid]
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(base + "/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        else:
            raise RuntimeError("the service did not become ready")
        base.pids = [proc.pid, *_children(proc.pid)]
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)


async def backend_pids(url: URL) -> list[int]:
    """The PostgreSQL backends serving the service's connections to `url`."""
    import asyncpg

    from app.core.embedded import connect_kwargs

    conn = await asyncpg.connect(**connect_kwargs(url))
    try:
        rows = await conn.fetch(
            "SELECT pid FROM pg_stat_activity "
            "WHERE datname = $1 AND application_name = 'inovasi-hub'",
            url.database,
        )
        return [r["pid"] for r in rows]
    finally:
        await conn.close()


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    return f"{platform.system()} {platform.release()}, {os.cpu_count()} cores, {cpu}"
