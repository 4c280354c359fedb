"""The Alembic migrations, on a database of their own: up, all the way down, and up again.

Alembic's env.py calls asyncio.run, so the migrations run in a worker thread: that keeps them
off the test session's event loop (and leaves that thread's loop policy alone).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL, Connection
from sqlalchemy.ext.asyncio import create_async_engine

from alembic import command
from app.core.embedded import connect_kwargs
from app.models import Base
from tests.conftest import recreate_database

ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")

# Objects outside the models that the migrations create and must remove again.
OWN_FUNCTIONS_SQL = """
    SELECT p.proname FROM pg_proc p
    JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = 'public'
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
"""
TABLES_SQL = "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
TYPES_SQL = """
    SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
    WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd')
"""


def in_thread(work: Callable[..., T], *args: Any) -> T:
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(work, *args).result()


def alembic_config(url: URL) -> Config:
    """The configuration `inovasi migrate` uses, pointed at `url`."""
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "alembic"))
    config.set_main_option(
        "sqlalchemy.url", url.render_as_string(hide_password=False).replace("%", "%%")
    )
    return config


def upgrade(url: URL, target: str = "head") -> None:
    in_thread(command.upgrade, alembic_config(url), target)


def downgrade(url: URL, target: str = "base") -> None:
    in_thread(command.downgrade, alembic_config(url), target)


def fetch(url: URL, sql: str) -> set[str]:
    """The first column of every row of `sql`, as a set."""

    async def run() -> set[str]:
        conn = await asyncpg.connect(**connect_kwargs(url))
        try:
            return {row[0] for row in await conn.fetch(sql)}
        finally:
            await conn.close()

    return in_thread(asyncio.run, run())


def head_revision(url: URL) -> str:
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    assert head is not None
    return head


@pytest.fixture
def empty_database(server: URL, worker_id: str) -> Iterator[URL]:
    """A new, empty database on the test server, dropped afterwards."""
    name = f"inovasi_migr_{os.getpid()}_{worker_id}"
    url = in_thread(asyncio.run, recreate_database(server, name))
    yield url

    async def drop() -> None:
        conn = await asyncpg.connect(**connect_kwargs(server.set(database="postgres")))
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    in_thread(asyncio.run, drop())


def model_tables() -> set[str]:
    return set(Base.metadata.tables)


def test_upgrade_to_head_creates_every_model_table(empty_database: URL) -> None:
    upgrade(empty_database)

    assert fetch(empty_database, TABLES_SQL) == model_tables() | {"alembic_version"}
    assert fetch(empty_database, "SELECT version_num FROM alembic_version") == {
        head_revision(empty_database)
    }


def test_downgrade_to_base_removes_everything_the_migrations_made(empty_database: URL) -> None:
    upgrade(empty_database)
    assert fetch(empty_database, OWN_FUNCTIONS_SQL)  # the event log's trigger function

    downgrade(empty_database, "base")

    assert fetch(empty_database, TABLES_SQL) == {"alembic_version"}
    assert fetch(empty_database, "SELECT version_num FROM alembic_version") == set()
    assert fetch(empty_database, OWN_FUNCTIONS_SQL) == set()
    assert fetch(empty_database, TYPES_SQL) == set()


def test_upgrade_after_downgrade_to_base_reaches_head_again(empty_database: URL) -> None:
    upgrade(empty_database)
    downgrade(empty_database, "base")

    upgrade(empty_database)

    assert fetch(empty_database, TABLES_SQL) == model_tables() | {"alembic_version"}
    assert fetch(empty_database, "SELECT version_num FROM alembic_version") == {
        head_revision(empty_database)
    }


def test_every_migration_steps_down_and_up_again(empty_database: URL) -> None:
    """Each revision's downgrade undoes exactly its upgrade, one step at a time."""
    script = ScriptDirectory.from_config(alembic_config(empty_database))
    revisions = [r.revision for r in reversed(list(script.walk_revisions()))]
    for revision in revisions:
        upgrade(empty_database, revision)
        tables = fetch(empty_database, TABLES_SQL)
        downgrade(empty_database, "-1")
        upgrade(empty_database, revision)

        assert fetch(empty_database, TABLES_SQL) == tables, revision


def test_migrated_schema_matches_the_models(empty_database: URL) -> None:
    upgrade(empty_database)

    def compare(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    async def run() -> list[Any]:
        engine = create_async_engine(empty_database)
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(compare)
        finally:
            await engine.dispose()

    differences = in_thread(asyncio.run, run())

    assert differences == [], "the models and the migrations disagree: add a migration"
