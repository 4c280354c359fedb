"""Fixtures for tests that read the demo data set.

The demo is loaded once per test module, inside an outer transaction of its own connection
that is rolled back when the module ends; each test then runs in a savepoint of it that is
rolled back after the test. Import both fixtures into a test module (or a conftest) to give
its tests the demo: `from tests._demo import connection, demo_connection`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker

from app.demo.service import load_demo


@pytest.fixture(scope="module")
async def demo_connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    async with engine.connect() as conn:
        transaction = await conn.begin()
        try:
            factory = async_sessionmaker(
                bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False
            )
            async with factory() as session:
                await load_demo(session)
                await session.commit()
            yield conn
        finally:
            await transaction.rollback()


@pytest.fixture
async def connection(demo_connection: AsyncConnection) -> AsyncIterator[AsyncConnection]:
    """The test's connection: the demo's, in a savepoint rolled back after the test."""
    savepoint = await demo_connection.begin_nested()
    try:
        yield demo_connection
    finally:
        await savepoint.rollback()
