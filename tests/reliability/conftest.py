"""Fault tests: a real `inovasi serve` on a real PostgreSQL, faults injected from outside.

Each test prints its figures; they are also gathered here and printed at the end of the run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession

from app import cli
from app.core.keys import create_key
from app.core.security import Role
from tests import harness

FIGURES: list[str] = []


def report(title: str, figures: dict[str, object]) -> None:
    line = f"{title}: " + ", ".join(f"{k} {v}" for k, v in figures.items())
    print(line)
    FIGURES.append(line)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if FIGURES:
        terminalreporter.section("fault tests: figures")
        for line in FIGURES:
            terminalreporter.write_line(line)


def integration_key(url: URL, province: str = "33") -> str:
    """A committed integration key of `province` (what provincial systems post with)."""

    async def issue(session: AsyncSession) -> str:
        _, plaintext = await create_key(
            session, name="fault test", role=Role.integration, province_code=province
        )
        return plaintext

    return cli.run_in_session(url, issue)


@pytest.fixture
def fault_database(server: URL, request: pytest.FixtureRequest) -> Iterator[URL]:
    """A database of the test's own on the test server, migrated, dropped afterwards."""
    import asyncio

    from tests.conftest import drop_database

    name = f"inovasi_fault_{os.getpid()}_{request.node.name[:20].lower()}"
    name = "".join(c if c.isalnum() or c == "_" else "_" for c in name)
    url = harness.fresh_database(server, name)
    yield url
    asyncio.run(drop_database(server, name))


@pytest.fixture
def cluster() -> Iterator[harness.Cluster]:
    """A PostgreSQL cluster that the test owns, and may stop and start."""
    owned = harness.Cluster()
    owned.start()
    yield owned
    owned.remove()
