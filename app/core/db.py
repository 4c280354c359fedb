"""Engine, sessions and the request's unit of work.

The session dependency commits **before** the response is sent (`scope="function"`): a 2xx
always means the write is durable. Safe methods (GET, HEAD) run on an AUTOCOMMIT connection,
which spares the BEGIN and ROLLBACK round trips of a transaction that writes nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any

import asyncpg
from fastapi import Depends, Request
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from app.core.config import Settings
from app.core.embedded import connect_kwargs

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Where a read session keeps the driver pool and its acquire timeout (`Session.info`).
READ_POOL = "read_pool"


def _connect_args(settings: Settings) -> dict[str, Any]:
    return {
        "timeout": settings.db_connect_timeout_s,
        "command_timeout": settings.db_statement_timeout_ms / 1000 + 5,
        "server_settings": {
            "application_name": "inovasi-hub",
            "statement_timeout": str(settings.db_statement_timeout_ms),
            "lock_timeout": str(settings.db_lock_timeout_ms),
            "idle_in_transaction_session_timeout": str(settings.db_idle_in_transaction_timeout_ms),
            "timezone": "UTC",
        },
    }


def create_engine(url: URL, settings: Settings) -> AsyncEngine:
    engine = create_async_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout_s,
        pool_pre_ping=False,
        pool_recycle=1800,
        connect_args=_connect_args(settings),
    )
    event.listen(engine.sync_engine, "checkout", _discard_closed)
    return engine


def _discard_closed(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    """A pooled connection whose server went away (a terminated backend, a restart) is
    replaced at checkout, instead of failing the request that drew it: asyncpg has already
    seen the socket close, so this costs no round trip."""
    driver = getattr(dbapi_connection, "driver_connection", None)
    if driver is not None and driver.is_closed():
        raise sa_exc.DisconnectionError("the server closed this connection")


async def create_read_pool(url: URL, settings: Settings) -> asyncpg.Pool:
    """The driver's own pool for the hottest reads (`app.core.repository.fetch`): a query
    with no transaction, no ORM session and no SQLAlchemy connection around it. Connections
    open on demand, up to `db_read_pool_size`."""
    return await asyncpg.create_pool(
        **connect_kwargs(url),
        min_size=0,
        max_size=settings.db_read_pool_size,
        max_inactive_connection_lifetime=300,
        reset=_keep_state,
        **_connect_args(settings),
    )


async def _keep_state(connection: asyncpg.Connection) -> None:
    """No reset when a read connection goes back to the pool: its queries are single reads,
    outside any transaction, that change no session state (asyncpg's default reset would
    send four statements, one round trip, per request)."""


@dataclass(slots=True)
class Database:
    """What the lifespan creates once per process: the engine and its two session factories."""

    engine: AsyncEngine
    write_sessions: async_sessionmaker[AsyncSession]
    read_sessions: async_sessionmaker[AsyncSession]
    read_pool: asyncpg.Pool | None = None

    @classmethod
    def from_engine(
        cls,
        engine: AsyncEngine,
        read_pool: asyncpg.Pool | None = None,
        pool_timeout_s: float = 3.0,
    ) -> Database:
        autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
        return cls(
            engine=engine,
            write_sessions=async_sessionmaker(engine, expire_on_commit=False, autoflush=False),
            read_sessions=async_sessionmaker(
                autocommit,
                expire_on_commit=False,
                autoflush=False,
                info={READ_POOL: (read_pool, pool_timeout_s)} if read_pool is not None else None,
            ),
            read_pool=read_pool,
        )

    async def dispose(self) -> None:
        if self.read_pool is not None:
            await self.read_pool.close()
        await self.engine.dispose()


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's unit of work, shared by every dependency of the request.

    Commits when the route returns (before the response is sent), rolls back on any error.
    """
    db: Database = request.app.state.db
    if request.method in SAFE_METHODS:
        session = open_read_session(request)
        try:
            yield session
        finally:
            await close_read_session(session)
        return
    async with db.write_sessions() as session:
        request.state.session = session
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        await session.commit()


def open_read_session(request: Request) -> AsyncSession:
    """The read session of a safe request (AUTOCOMMIT; hot reads use the driver's pool)."""
    db: Database = request.app.state.db
    session = db.read_sessions()
    request.state.session = session
    return session


async def close_read_session(session: AsyncSession) -> None:
    """Close a read session: only one that began a transaction holds a connection (a read
    through the driver's pool never does, and closing costs a thread-switch of its own)."""
    if session.in_transaction():
        await session.close()


Session = Annotated[AsyncSession, Depends(get_session, scope="function")]
