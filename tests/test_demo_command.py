"""`inovasi seed demo`, the command itself, run twice on a database of its own."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import URL

from app import cli
from app.core.embedded import connect_kwargs
from tests.conftest import drop_database, recreate_database
from tests.test_migrations import in_thread

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Run:
    output: str
    counts: dict[str, int]


async def _counts(url: URL) -> dict[str, int]:
    conn = await asyncpg.connect(**connect_kwargs(url))
    try:
        tables = await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename <> 'alembic_version'"
        )
        return {
            t["tablename"]: await conn.fetchval(f'SELECT count(*) FROM "{t["tablename"]}"')  # noqa: S608
            for t in tables
        }
    finally:
        await conn.close()


def seed_demo(url: URL) -> Run:
    env = {**os.environ, "DATABASE_URL": url.render_as_string(hide_password=False)}
    done = subprocess.run(  # noqa: S603 - the project's own command, fixed arguments
        [sys.executable, "-m", "app.cli", "seed", "demo"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return Run(output=done.stderr, counts=in_thread(asyncio.run, _counts(url)))


@pytest.fixture(scope="module")
def two_runs(server: URL, worker_id: str) -> Iterator[tuple[URL, Run, Run]]:
    """A migrated database with nothing in it, then `inovasi seed demo` twice."""
    name = f"inovasi_demo_{os.getpid()}_{worker_id}"
    url = in_thread(asyncio.run, recreate_database(server, name))
    try:
        cli.migrate(url)
        empty = Run("", in_thread(asyncio.run, _counts(url)))
        # Reference data the migrations themselves seed: rubric version 1.
        assert empty.counts.pop("sustainability_rubrics") == 1
        # … and the KIPP competition rubrics, version 1 (proposal, presentation).
        assert empty.counts.pop("competition_rubrics") == 2
        assert set(empty.counts.values()) == {0}
        yield url, seed_demo(url), seed_demo(url)
    finally:
        in_thread(asyncio.run, drop_database(server, name))


def test_seed_demo_loads_regions_and_the_demo(two_runs: tuple[URL, Run, Run]) -> None:
    _, first, _ = two_runs

    assert first.counts["regions"] == 38 + 514
    tables = (
        "innovations",
        "commitments",
        "replication_programs",
        "sustainability_assessments",
        "scaling_proposals",
        "api_keys",
    )
    assert {t: first.counts[t] for t in tables} == {
        "innovations": 20,
        "commitments": 32,
        "replication_programs": 3,
        "sustainability_assessments": 8,
        "scaling_proposals": 3,
        # The seed's admin and reviewer, both revoked, and the demo competitions' three
        # evaluators (live, for assignments, but their secrets were thrown away).
        "api_keys": 5,
    }
    assert "demo data loaded: 57 institutions, 20 innovations, 7 awards" in first.output
    assert "8 sustainability assessments, 3 scaling proposals" in first.output


def test_seed_demo_twice_gives_the_same_counts(two_runs: tuple[URL, Run, Run]) -> None:
    _, first, second = two_runs

    assert second.counts == first.counts
    assert "already loaded, nothing to add" in second.output
