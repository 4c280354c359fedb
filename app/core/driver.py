"""The one place the service runs a statement on the driver itself, reached through
SQLAlchemy's public API (`AsyncConnection.get_raw_connection`, `AsyncEngine.raw_connection`,
`driver_connection`).

Why: a list page filtered by a value whose selectivity varies (a Jawa province holds a hundred
times the innovations of a Papua one) must be planned for each call's values. SQLAlchemy's
asyncpg dialect runs every statement as a prepared statement cached per connection, and
PostgreSQL moves a prepared statement to a generic plan after five calls: at 1M innovations
that plan read a filtered page deep in the list through three bitmaps and a sort in 190 ms,
instead of the 13 ms of the walk in index order. Planning every statement of the service
instead (`plan_cache_mode = force_custom_plan` on the connections) costs about 1 ms per read:
the read model of an innovation ran in 0.17-0.20 ms as a cached plan and in 1.0-1.7 ms planned
each time (same machine, one connection, 3,000 executions each). So only these pages take this
path: each call prepares its statement afresh, which PostgreSQL plans for that call's values.

A statement is compiled to SQL once and kept (`_COMPILED`): callers build one statement per
shape of page and pass its values as bind parameters. Compiling the read model of a page took
4-5 ms of CPU per request, more than all the rest of the request together.

Second use, `copy_query`: the open-data export runs its statement as `COPY (…) TO STDOUT`,
which SQLAlchemy has no API for. The keyset-paged export decoded every row into Python
values and wrote them again as CSV: 5.8 MB/s at 1M innovations, 1/25 of a COPY of a
comparable join. COPY writes each cell once, in the server, and the driver hands over its
output in the chunks it reads: the export of 1M innovations (396 MB) takes about 9 s, the
throughput of a plain COPY of its statement within noise, where a server-side cursor with
batched fetches ran at less than half of COPY's speed (`python -m bench.export` runs the
endpoint beside the plain COPY).

Third use, `fetch_row`: the read of an innovation by id, the service's busiest request. Its
route takes no session (`app.core.db.Reads`); it draws a pooled connection for its one
statement (`AsyncEngine.raw_connection`) and runs it through the driver's statement cache,
instead of opening a session's connection and executing through SQLAlchemy's result
machinery: 0.079 against 0.230 ms of CPU for the read alone, and 0.556 -> 0.381 ms for the
whole request (in-process ASGI loop on the demo data, 5,000 requests, best of 3); building the
read session it never used cost another 5.9% of the request's instructions (callgrind:
1,269,684 -> 1,194,639). Given a session in a transaction, it runs on the session's
connection, so that it sees the transaction's writes.

Fourth use, `fetch_in_transaction`: the statements of the busiest write, a progress report
from a provincial system: the Idempotency-Key's claim and its stored response
(`app.core.idempotency_repository`), the report's commitment locks and its ingest
(`app.replication.repository.ingest_reports`). They run on the session's connection inside its
transaction, which SQLAlchemy still begins, commits and rolls back. A report post went from
5,572,108 to 4,838,284 instructions of the app's process (-13.2%; callgrind, the difference
between 700 and 200 in-process ASGI requests over 500, 10k bench database, webhook dispatcher
off); bench/run.py's report_post scenario measures the same change under load.

The driver's errors are raised as SQLAlchemy raises them (`_failed`), so that the error
handlers classify one kind of error and callers catch SQLAlchemy's classes, as elsewhere.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, NoReturn

import asyncpg
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.sql import ClauseElement, TextClause
from sqlalchemy.sql.compiler import SQLCompiler

from app.core.db import AUTOCOMMIT_READS

# Compiled SQL by statement (identity): the callers keep their statements, so this is bounded
# by the shapes of page they build; cleared if it ever grows past that.
_COMPILED: dict[int, tuple[ClauseElement, SQLCompiler]] = {}
_COMPILED_MAX = 1024


def _compiled(stmt: ClauseElement, dialect: Any) -> SQLCompiler:
    kept = _COMPILED.get(id(stmt))
    if kept is not None and kept[0] is stmt:
        return kept[1]
    compiled = stmt.compile(dialect=dialect)
    assert isinstance(compiled, SQLCompiler)  # noqa: S101 - a statement compiles to SQL
    if len(_COMPILED) >= _COMPILED_MAX:
        _COMPILED.clear()
    _COMPILED[id(stmt)] = (stmt, compiled)
    return compiled


def _arguments(compiled: SQLCompiler, params: Mapping[str, Any]) -> list[Any]:
    values = compiled.construct_params(dict(params)) or {}
    return [values[name] for name in compiled.positiontup or ()]


async def _failed(
    driver: asyncpg.Connection,
    exc: BaseException,
    statement: str,
    invalidate: Callable[[BaseException], Awaitable[None]],
) -> NoReturn:
    """Raise a driver error as SQLAlchemy raises it, so that one classification (the error
    handlers', `app.core.idempotency`'s lock timeout) answers every statement: a lost
    connection is invalidated (the pool never hands it out again) and flagged so; a
    constraint violation is an `IntegrityError`, bad data a `DataError`. The handlers answer
    a lost connection and a state a retry may cure (`is_retryable_state`) with a 503."""
    lost = driver.is_closed() or isinstance(exc, _LOST)
    if lost:
        await invalidate(exc)
    state = str(getattr(exc, "sqlstate", None) or "")
    kind = _ERROR_CLASSES.get(state[:2], sa_exc.DBAPIError)
    raise kind(statement, None, exc, connection_invalidated=lost) from exc


# PEP 249's exceptions by SQLSTATE class, as the errors' handlers and repositories catch them.
_ERROR_CLASSES: dict[str, type[sa_exc.DBAPIError]] = {
    "23": sa_exc.IntegrityError,
    "22": sa_exc.DataError,
}
# A connection the server closed (a terminated backend, a restart) can raise any of these.
_LOST = (
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    OSError,
)
_DRIVER_ERRORS = (asyncpg.PostgresError, *_LOST)


async def fetch_in_transaction(
    session: AsyncSession, stmt: TextClause, params: Mapping[str, Any]
) -> Sequence[Mapping[Any, Any]]:
    """The rows of `stmt` (mappings by column name), with `params` overriding its bound
    values, run in the session's transaction: a statement of a write's hot path (the key's
    claim, a report's locks and ingest, the stored response).

    SQLAlchemy's asyncpg adapter begins its transaction when its first statement runs: until
    the driver's connection is in a transaction, the statement runs through SQLAlchemy (and so
    begins it); after that, on the driver, inside the same transaction. A session that is
    not in a transaction (a read session's autocommit) always runs it through SQLAlchemy."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver: asyncpg.Connection = raw.driver_connection
    if not driver.is_in_transaction():
        result = await connection.execute(stmt, params)
        return result.mappings().all()
    compiled = _compiled(stmt, connection.dialect)
    try:
        rows: Sequence[Mapping[Any, Any]] = await driver.fetch(
            compiled.string, *_arguments(compiled, params)
        )
        return rows
    except _DRIVER_ERRORS as exc:
        await _failed(driver, exc, compiled.string, connection.invalidate)


async def fetch_planned_per_call(
    session: AsyncSession, stmt: ClauseElement, params: Mapping[str, Any]
) -> Sequence[Mapping[str, Any]]:
    """The rows of `stmt` (mappings by column name), with `params` overriding its bound
    values, planned by PostgreSQL for these values."""
    connection = await session.connection()
    compiled = _compiled(stmt, connection.dialect)
    arguments = _arguments(compiled, params)
    raw = await connection.get_raw_connection()
    driver: asyncpg.Connection = raw.driver_connection
    try:
        statement = await driver.prepare(compiled.string)
        rows: Sequence[Mapping[str, Any]] = await statement.fetch(*arguments)
        return rows
    except _DRIVER_ERRORS as exc:
        await _failed(driver, exc, compiled.string, connection.invalidate)


# What a read by id runs on: the request's session, or, for a read that needs none
# (`app.core.db.Reads`), the engine or a connection.
RowSource = AsyncSession | AsyncConnection | AsyncEngine


async def fetch_row(
    source: RowSource, stmt: ClauseElement, params: Mapping[str, Any]
) -> Mapping[str, Any] | None:
    """The first row of `stmt` (a mapping by column name), with `params` overriding its
    bound values: a read by id.

    Given a session: on the session's connection when it has one (its transaction's writes
    are visible); otherwise, in a read session (`Database.read_sessions`), as given its
    engine. Given a connection: on it, as it is (a test's transaction). Given the engine: on
    a pooled connection drawn for this one statement and given back at once
    (`AsyncEngine.raw_connection`), outside any transaction, as every read of a read session
    runs. The driver prepares the statement once per connection (its own statement cache)."""
    if isinstance(source, AsyncSession):
        if source.in_transaction() or not source.info.get(AUTOCOMMIT_READS):
            source = await source.connection()
        else:
            assert isinstance(source.bind, AsyncEngine)  # noqa: S101 - a read session's bind
            source = source.bind
    if isinstance(source, AsyncConnection):
        raw = await source.get_raw_connection()
        compiled = _compiled(stmt, source.dialect)
        return await _fetch_row(raw, compiled, params, source.invalidate)
    # A failure to connect propagates as the driver raised it: the error handlers answer
    # it with a 503.
    compiled = _compiled(stmt, source.dialect)
    pooled = await source.raw_connection()
    try:
        return await _fetch_row(pooled, compiled, params, _invalidate_now(pooled))
    finally:
        pooled.close()


def _invalidate_now(pooled: PoolProxiedConnection) -> Callable[[BaseException], Awaitable[None]]:
    async def invalidate(exc: BaseException) -> None:
        pooled.invalidate(exc)

    return invalidate


async def _fetch_row(
    raw: PoolProxiedConnection,
    compiled: SQLCompiler,
    params: Mapping[str, Any],
    invalidate: Callable[[BaseException], Awaitable[None]],
) -> Mapping[str, Any] | None:
    driver: asyncpg.Connection = raw.driver_connection
    try:
        row: Mapping[str, Any] | None = await driver.fetchrow(
            compiled.string, *_arguments(compiled, params)
        )
        return row
    except _DRIVER_ERRORS as exc:
        await _failed(driver, exc, compiled.string, invalidate)


async def copy_query(
    connection: AsyncConnection,
    stmt: ClauseElement,
    params: Mapping[str, Any],
    output: Callable[[bytes], Awaitable[Any]],
    *,
    time_limit_s: float,
    **options: Any,
) -> None:
    """Run `stmt` (with `params` for its bound values) as `COPY (…) TO STDOUT` with the COPY
    `options` (`format="csv"`, …), handing each chunk of its output to `output` as the driver
    reads it; the next is read once `output` has returned. `time_limit_s` bounds the whole
    COPY, the time spent in `output` included. The driver writes the values into the
    statement as literals quoted by the server (COPY takes no parameters)."""
    compiled = stmt.compile(dialect=connection.dialect)
    assert isinstance(compiled, SQLCompiler)  # noqa: S101 - a statement compiles to SQL
    arguments = _arguments(compiled, params)
    raw = await connection.get_raw_connection()
    driver: asyncpg.Connection = raw.driver_connection
    try:
        await driver.copy_from_query(
            str(compiled), *arguments, output=output, timeout=time_limit_s, **options
        )
    except (asyncpg.PostgresConnectionError, asyncpg.InterfaceError, OSError) as exc:
        await connection.invalidate(exc)
        raise
