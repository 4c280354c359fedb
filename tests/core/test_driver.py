"""`app.core.driver.fetch_in_transaction`: the statements of a write's hot path run on the
driver inside the session's own transaction (committed or rolled back with it), and the
driver's errors reach callers and handlers as SQLAlchemy's."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from app.core.driver import fetch_in_transaction
from app.core.embedded import connect_kwargs

INSERT = text("INSERT INTO driver_probe (id) VALUES (:id) RETURNING id, 'x' AS tag")
COUNT = text("SELECT count(*) FROM driver_probe")


async def _probe_table(conn: AsyncConnection) -> None:
    await conn.execute(text("DROP TABLE IF EXISTS pg_temp.driver_probe"))
    await conn.execute(text("CREATE TEMP TABLE driver_probe (id int PRIMARY KEY)"))
    await conn.commit()


async def _on_driver(session: AsyncSession) -> bool:
    raw = await (await session.connection()).get_raw_connection()
    return bool(raw.driver_connection.is_in_transaction())


async def test_statements_run_in_the_sessions_transaction(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await _probe_table(conn)
        async with AsyncSession(bind=conn) as session:
            assert not await _on_driver(session)  # nothing has begun the transaction yet
            first = await fetch_in_transaction(session, INSERT, {"id": 1})  # SQLAlchemy's
            assert await _on_driver(session)
            second = await fetch_in_transaction(session, INSERT, {"id": 2})  # the driver's
            assert [dict(r) for r in (*first, *second)] == [
                {"id": 1, "tag": "x"},
                {"id": 2, "tag": "x"},
            ]
            assert (await fetch_in_transaction(session, COUNT, {}))[0]["count"] == 2
            await session.rollback()
        assert await conn.scalar(COUNT) == 0  # the driver's insert was rolled back too
        async with AsyncSession(bind=conn) as session:
            await fetch_in_transaction(session, INSERT, {"id": 1})
            await fetch_in_transaction(session, INSERT, {"id": 2})
            await session.commit()
        assert await conn.scalar(COUNT) == 2


async def test_a_constraint_violation_is_sqlalchemys_integrity_error(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await _probe_table(conn)
        async with AsyncSession(bind=conn) as session:
            await fetch_in_transaction(session, INSERT, {"id": 1})
            with pytest.raises(sa_exc.IntegrityError) as caught:
                await fetch_in_transaction(session, INSERT, {"id": 1})
            assert getattr(caught.value.orig, "sqlstate", None) == "23505"
            assert not caught.value.connection_invalidated
            await session.rollback()
            # The session goes on: the next transaction begins afresh.
            await fetch_in_transaction(session, INSERT, {"id": 1})
            await session.commit()
        assert await conn.scalar(COUNT) == 1


async def test_a_lost_connection_is_invalidated(engine: AsyncEngine, database_url: URL) -> None:
    async with engine.connect() as conn, AsyncSession(bind=conn) as session:
        await fetch_in_transaction(session, text("SELECT 1"), {})
        pid = (await fetch_in_transaction(session, text("SELECT pg_backend_pid() AS p"), {}))[0]
        admin = await asyncpg.connect(**connect_kwargs(database_url))
        try:
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid["p"])
        finally:
            await admin.close()
        with pytest.raises(sa_exc.DBAPIError) as caught:
            await fetch_in_transaction(session, text("SELECT 1"), {})
        assert caught.value.connection_invalidated
        assert conn.invalidated
