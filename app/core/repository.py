"""SQL shared by every repository."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import asyncpg
from sqlalchemy import bindparam, func, update
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ClauseElement

from app.core.concurrency import stale
from app.models.base import Base

M = TypeVar("M", bound=Base)


async def update_versioned(
    session: AsyncSession, obj: M, expected_version: int, values: dict[str, Any]
) -> M:
    """UPDATE … WHERE id = :id AND version = :expected, bumping the version.

    The version test is part of the UPDATE itself, so of two racing writers holding the same
    ETag exactly one wins; the other gets 412.
    """
    model = type(obj)
    table: Any = model
    stmt = (
        update(model)
        .where(table.id == obj.id, table.version == expected_version)  # type: ignore[attr-defined]
        .values(**values, version=table.version + 1, updated_at=func.now())
        .returning(model)
        .execution_options(populate_existing=True, synchronize_session=False)
    )
    updated = (await session.scalars(stmt)).one_or_none()
    if updated is None:
        raise stale()
    return updated


def contains(column: Any, text: str, name: str | None = None) -> Any:
    """Case-insensitive `column ILIKE '%text%'` with `%`, `_` and `\\` taken literally
    (a trigram index serves it); the pattern is the bind parameter `name` when given."""
    pattern = like_pattern(text)
    return column.ilike(pattern if name is None else bindparam(name, pattern), escape="\\")


def contains_folded(folded: Any, text: str, name: str) -> Any:
    """`contains()` on a column that holds another's `lower()`: `folded LIKE lower('%text%')`,
    which is what ILIKE computes, with no text folded as it is tested. The pattern is the
    bind parameter `name`."""
    return folded.like(func.lower(bindparam(name, like_pattern(text))), escape="\\")


def like_pattern(text: str) -> str:
    """`%text%` for `ILIKE … ESCAPE '\\'`, with `%`, `_` and `\\` of `text` taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def changed_fields(obj: Base, values: dict[str, Any]) -> dict[str, Any]:
    """The subset of `values` that differ from `obj`'s current attributes."""
    return {k: v for k, v in values.items() if getattr(obj, k) != v}


_DIALECT = asyncpg_dialect()  # type: ignore[no-untyped-call]


class CompiledQuery:
    """A Core statement compiled once to the driver's SQL, for the hottest reads.

    Executing a SQLAlchemy statement builds it, derives its cache key (a walk of the whole
    expression: most of the CPU of a read model with subqueries) and looks up its compiled
    form, on every call. A `CompiledQuery` does that once; each call only binds values:
    named `bindparam`s take the caller's values, every other parameter keeps the constant it
    was compiled with. So every value that varies per call must be a named `bindparam`.

    With `planned_per_call`, the driver runs it as an unnamed statement, which the server
    plans for each call's values: for a statement whose best plan depends on them (a search:
    a word in half the rows wants an index walk in order, a rare word the text index), where
    a prepared statement would settle on one generic plan after five calls.
    """

    __slots__ = ("defaults", "names", "planned_per_call", "sql")

    def __init__(self, stmt: ClauseElement, *, planned_per_call: bool = False) -> None:
        compiled = stmt.compile(dialect=_DIALECT)
        self.sql = str(compiled)
        self.names = tuple(getattr(compiled, "positiontup", None) or ())
        self.defaults = dict(compiled.params)
        self.planned_per_call = planned_per_call

    def arguments(self, params: Mapping[str, Any]) -> list[Any]:
        return [params[n] if n in params else self.defaults[n] for n in self.names]


# Errors after which a connection cannot be trusted: lost, or its protocol left mid-exchange
# (`InternalClientError`: a server that terminates the backend while it is idle leaves it
# waiting for a reply that never comes).
_DISCONNECTS = (
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    ConnectionError,
    OSError,
)


async def _run(
    driver: asyncpg.Connection, query: CompiledQuery, arguments: list[Any]
) -> Sequence[Mapping[str, Any]]:
    if query.planned_per_call:
        # `prepare` without a name: the unnamed statement, planned at each bind.
        statement = await driver.prepare(query.sql)
        return await statement.fetch(*arguments)  # type: ignore[no-any-return]
    return await driver.fetch(query.sql, *arguments)  # type: ignore[no-any-return]


async def fetch(
    session: AsyncSession, query: CompiledQuery, params: Mapping[str, Any]
) -> Sequence[Mapping[str, Any]]:
    """Rows of `query` (mappings by column name).

    A read session of the service carries the driver's own pool (`app.core.db.READ_POOL`):
    the query runs on one of its connections, with no transaction. Otherwise, on an
    AUTOCOMMIT session the driver runs it on the session's connection; a broken connection is
    invalidated, as SQLAlchemy would, so the pool never hands it out again. In a transaction
    it runs on the driver too, inside the session's transaction (begun first if this is its
    first statement): asyncpg's errors reach the caller untranslated, as they do from the
    read pool, and the problem handlers know them.
    """
    arguments = query.arguments(params)
    read_pool: tuple[asyncpg.Pool, float] | None = session.info.get("read_pool")
    if read_pool is not None:
        pool, timeout = read_pool
        # asyncio.timeout rather than acquire(timeout=): the driver would wrap the wait in a
        # task of its own, on every read.
        async with asyncio.timeout(timeout):
            driver = await pool.acquire()
        try:
            return await _run(driver, query, arguments)
        finally:
            await pool.release(driver)
    conn = await session.connection()
    raw = await conn.get_raw_connection()
    connection: asyncpg.Connection = raw.driver_connection
    try:
        if conn.sync_connection is None or not conn.sync_connection._is_autocommit_isolation():
            await _begin(raw.dbapi_connection, connection)
        return await _run(connection, query, arguments)
    except Exception as exc:
        if isinstance(exc, _DISCONNECTS) or connection.is_closed():
            await conn.invalidate(exc)
        raise


async def _begin(adapter: Any, driver: asyncpg.Connection) -> None:
    """Begin the transaction of SQLAlchemy's asyncpg adapter if it has not yet: it begins it
    on the first statement it runs itself. Begun here as it would (and tracked as its own),
    the statement runs inside it and the session's commit or rollback ends it; a failure is
    the driver's own error, which the problem handlers know."""
    if adapter._transaction is not None:
        return
    transaction = driver.transaction(
        isolation=adapter.isolation_level, readonly=adapter.readonly, deferrable=adapter.deferrable
    )
    await transaction.start()
    adapter._transaction = transaction
