"""The one place the service runs a statement on the driver itself, reached through
SQLAlchemy's public API (`AsyncConnection.get_raw_connection`, `driver_connection`).

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

The driver's errors are answered here as SQLAlchemy would have them answered: a lost
connection is invalidated (the pool never hands it out again), and a database that cannot
serve the read is a 503.

Second use, `copy_query`: the open-data export runs its statement as `COPY (…) TO STDOUT`,
which SQLAlchemy has no API for. The keyset-paged export decoded every row into Python
values and wrote them again as CSV: 5.8 MB/s at 1M innovations, 1/25 of a COPY of a
comparable join. COPY writes each cell once, in the server, and the driver hands over its
output in the chunks it reads: the export of 1M innovations (396 MB) takes about 9 s, the
throughput of a plain COPY of its statement within noise, where a server-side cursor with
batched fetches ran at less than half of COPY's speed (`python -m bench.export` runs the
endpoint beside the plain COPY).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

from app.core.config import get_settings
from app.core.error_handlers import is_retryable_state
from app.core.errors import ServiceUnavailable

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


async def fetch_planned_per_call(
    session: AsyncSession, stmt: ClauseElement, params: Mapping[str, Any]
) -> Sequence[Mapping[str, Any]]:
    """The rows of `stmt` (mappings by column name), with `params` overriding its bound
    values, planned by PostgreSQL for these values."""
    connection = await session.connection()
    compiled = _compiled(stmt, connection.dialect)
    values = compiled.construct_params(dict(params)) or {}
    arguments = [values[name] for name in compiled.positiontup or ()]
    raw = await connection.get_raw_connection()
    driver: asyncpg.Connection = raw.driver_connection
    try:
        statement = await driver.prepare(compiled.string)
        rows: Sequence[Mapping[str, Any]] = await statement.fetch(*arguments)
        return rows
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
        state = str(getattr(exc, "sqlstate", None) or "")
        lost = driver.is_closed() or isinstance(
            exc, (asyncpg.PostgresConnectionError, asyncpg.InterfaceError, OSError)
        )
        if lost:
            await connection.invalidate(exc)
        if lost or is_retryable_state(state):
            raise ServiceUnavailable(
                "The database is unavailable or busy; retry shortly.",
                headers={"Retry-After": str(get_settings().retry_after_s)},
            ) from exc
        raise


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
    values = compiled.construct_params(dict(params)) or {}
    arguments = [values[name] for name in compiled.positiontup or ()]
    raw = await connection.get_raw_connection()
    driver: asyncpg.Connection = raw.driver_connection
    try:
        await driver.copy_from_query(
            str(compiled), *arguments, output=output, timeout=time_limit_s, **options
        )
    except (asyncpg.PostgresConnectionError, asyncpg.InterfaceError, OSError) as exc:
        await connection.invalidate(exc)
        raise
