"""Engine, sessions and the request's unit of work.

The request's session is a plain dependency (`get_session`); the route (`app.core.routing.
AppRoute`) ends it with `end_session` once the endpoint has returned and **before** the
response is sent: a write commits then, so a 2xx always means the write is durable. Safe
methods (GET, HEAD) run on an AUTOCOMMIT connection, which spares the BEGIN and ROLLBACK round
trips of a transaction that writes nothing.

Why not a `yield` dependency: FastAPI enters each one as an async context manager with a
shielded cancel scope on the request's exit stack, which cost about an eighth of the CPU of
a read by id (in-process ASGI loop on the 10k bench database, 4,000 reads, best of 5, three
pairs: 643-688 against 564-625 µs), and 7.5% of its instructions (callgrind, 1,494,144 against
1,381,838 per read). Ending the session in the route costs nothing on that path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import anyio
from fastapi import Depends, Request
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from app.core.config import Settings

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# `Session.info` key of a read session, whose every statement runs in autocommit: a read on
# its own may take a pooled connection of its own (`app.core.driver.fetch_row`).
AUTOCOMMIT_READS = "autocommit_reads"


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


@dataclass(slots=True)
class Database:
    """What the lifespan creates once per process: the engine and its two session factories
    (reads on an AUTOCOMMIT view of the same engine and pool), and where a read that needs no
    session runs (`reads`: that view; a test gives its transaction's connection)."""

    engine: AsyncEngine
    write_sessions: async_sessionmaker[AsyncSession]
    read_sessions: async_sessionmaker[AsyncSession]
    reads: AsyncEngine | AsyncConnection

    @classmethod
    def from_engine(cls, engine: AsyncEngine) -> Database:
        autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
        return cls(
            engine=engine,
            write_sessions=async_sessionmaker(engine, expire_on_commit=False, autoflush=False),
            read_sessions=async_sessionmaker(
                autocommit, expire_on_commit=False, autoflush=False, info={AUTOCOMMIT_READS: True}
            ),
            reads=autocommit,
        )

    async def dispose(self) -> None:
        await self.engine.dispose()


async def get_session(request: Request) -> AsyncSession:
    """The request's unit of work: created on first use and kept in `request.state.session`,
    where `end_session` finds it, so every caller of the request gets the same session (a
    route's `Session` parameter, and `app.core.security.authenticate` when a key is sent)."""
    session: AsyncSession | None = request.scope.get("state", {}).get("session")
    if session is None:
        db: Database = request.app.state.db
        sessions = db.read_sessions if request.method in SAFE_METHODS else db.write_sessions
        session = request.state.session = sessions()
    return session


async def end_session(request: Request, *, failed: bool) -> None:
    """End the request's session, if it has one: commit a write session (roll it back when
    the request `failed`) and close it. A read session that ran a statement gives its
    connection back. Called by `AppRoute` before the response is sent; an error of the
    commit propagates, so the client gets the error instead of a 2xx. Shielded from
    cancellation, as FastAPI shields a `yield` dependency's exit: a cancelled request still
    ends its transaction and gives its connection back."""
    session: AsyncSession | None = request.scope.get("state", {}).get("session")
    if session is None:
        return
    reads = session.info.get(AUTOCOMMIT_READS)
    if reads and not session.in_transaction():
        # A read session that ran no statement (a request refused before its first) holds
        # no connection: nothing to end, and no cancel scope to enter.
        return
    with anyio.CancelScope(shield=True):
        if reads:
            await session.close()
            return
        try:
            if failed:
                await session.rollback()
            else:
                await session.commit()
        finally:
            await session.close()


async def get_reads(request: Request) -> AsyncEngine | AsyncConnection:
    """Where a read that needs no session runs its statement (`Database.reads`)."""
    db: Database = request.app.state.db
    return db.reads


Session = Annotated[AsyncSession, Depends(get_session)]
# A read by id without a unit of work: its one statement on a pooled connection drawn for it
# (`app.core.driver.fetch_row`). Building a session it never used cost the read by id 5.9% of
# its instructions (callgrind: 1,269,684 with one, 1,194,639 without).
Reads = Annotated[AsyncEngine | AsyncConnection, Depends(get_reads)]
