"""The fuzz harness: the app in-process, on a database of its own that requests commit to.

Schemathesis runs the ASGI app on one event loop of its own, and the app's lifespan opens the
engine there. The database is migrated, holds the regions and the demo data set (so lists,
statistics and filters answer with real rows), and is dropped at the end of the session.
"""

from __future__ import annotations

import asyncio
import gc
import os
from collections import Counter
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from schemathesis.python import asgi
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession

from app import cli
from app.core.keys import create_key
from app.core.security import Role
from tests.conftest import drop_database, recreate_database
from tests.fuzz._app import APP, SETTINGS

# Generated cases per (principal, operation), printed at the end of the run.
CASES: Counter[tuple[str, str]] = Counter()
# Stateful steps per (principal, operation), and their statuses per (principal, status).
# `make test` runs the same cases every time (a seed derived from each test), so that CI
# checks what passed here; FUZZ_EXPLORE=1 draws new cases on every run, to look further.
DERANDOMIZE = not os.environ.get("FUZZ_EXPLORE")
STEPS: Counter[tuple[str, str]] = Counter()
STATUSES: Counter[tuple[str, int]] = Counter()
# Stateful runs restarted because the database moved under an explored prefix.
RESTARTS: Counter[str] = Counter()

# The province key is a coordinator of Jawa Tengah, the demo data's main province.
PRINCIPALS = {"admin": (Role.admin, None), "province": (Role.coordinator, "33")}


@pytest.fixture(scope="session")
def fuzz_database(server: URL) -> Iterator[URL]:
    name = f"inovasi_fuzz_{os.getpid()}"
    url = asyncio.run(recreate_database(server, name))
    cli.migrate(url)
    cli.seed_demo(url)
    yield url
    asyncio.run(drop_database(server, name))


@pytest.fixture(scope="session")
def fuzz_keys(fuzz_database: URL) -> dict[str, str]:
    async def issue(session: AsyncSession) -> dict[str, str]:
        keys = {}
        for label, (role, province) in PRINCIPALS.items():
            _, keys[label] = await create_key(
                session, name=f"fuzz {label}", role=role, province_code=province
            )
        return keys

    return cli.run_in_session(fuzz_database, issue)


_DEMO_REFS = {
    # An institution of Jawa Tengah, to own new innovations.
    "institution_id": "SELECT id FROM institutions WHERE region_code LIKE '33%' ORDER BY name",
    "program_id": "SELECT id FROM replication_programs WHERE province_code = '33' "
    "AND status <> 'closed' ORDER BY name",
    # A published innovation born outside Jawa Tengah, for its regencies to replicate.
    "innovation_id": "SELECT i.id FROM innovations i "
    "JOIN institutions o ON o.id = i.institution_id "
    "WHERE i.status = 'published' AND o.region_code NOT LIKE '33%' ORDER BY i.title",
    "adopter_institution_id": "SELECT id FROM institutions WHERE region_code LIKE '33.%' "
    "AND kind IN ('regency_government', 'city_government') ORDER BY name",
    "commitment_id": "SELECT id FROM commitments WHERE adopter_province_code = '33' "
    "AND status IN ('committed', 'in_progress') ORDER BY signed_on",
}


@pytest.fixture(scope="session")
def demo_refs(fuzz_database: URL) -> dict[str, str]:
    """Ids of demo records that a body may refer to (field name → id), in Jawa Tengah."""

    async def read(session: AsyncSession) -> dict[str, str]:
        found = {}
        for field, sql in _DEMO_REFS.items():
            found[field] = str((await session.execute(text(sql + " LIMIT 1"))).scalar_one())
        return found

    return cli.run_in_session(fuzz_database, read)


@pytest.fixture(scope="session")
def fuzz_app(fuzz_database: URL) -> Iterator[FastAPI]:
    """The app, pointed at the fuzz database; its engine is closed at the end."""
    SETTINGS.database_url = fuzz_database.render_as_string(hide_password=False)
    threshold = gc.get_threshold()
    yield APP
    asgi.shutdown_lifespans()  # closes the app's engine before its database is dropped
    # The lifespan tunes the collector for a server process; give the test process its own.
    gc.unfreeze()
    gc.set_threshold(*threshold)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for title, counts in (("generated cases", CASES), ("stateful steps", STEPS)):
        if not counts:
            continue
        terminalreporter.section(f"schemathesis: {title} per operation")
        labels = sorted({label for _, label in counts})
        principals = sorted({p for p, _ in counts})
        terminalreporter.write_line(f"{'operation':<62}" + "".join(f"{p:>10}" for p in principals))
        for label in labels:
            row = "".join(f"{counts[(p, label)]:>10}" for p in principals)
            terminalreporter.write_line(f"{label:<62}{row}")
        totals = "".join(
            f"{sum(n for (q, _), n in counts.items() if q == p):>10}" for p in principals
        )
        terminalreporter.write_line(f"{'total':<62}{totals}")
    if STATUSES:
        terminalreporter.section("schemathesis: stateful steps per status")
        for principal in sorted({p for p, _ in STATUSES}):
            counts = sorted((s, n) for (p, s), n in STATUSES.items() if p == principal)
            line = ", ".join(f"{status}: {n}" for status, n in counts)
            restarts = f" (runs restarted after the database moved: {RESTARTS[principal]})"
            terminalreporter.write_line(f"{principal}: {line}{restarts}")
