"""Reading the plans of the statements the service sends: rows seeded in a rolled-back
transaction, the statements captured as they go to the driver, their `EXPLAIN (FORMAT JSON)`
walked, printed and checked."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine


@contextmanager
def statements_sent(engine: AsyncEngine) -> Iterator[list[tuple[str, Any]]]:
    """Every statement `engine` sends while open, with its parameters."""
    statements: list[tuple[str, Any]] = []

    def capture(*args: Any) -> None:
        _conn, _cursor, statement, parameters, _context, _many = args
        statements.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", capture)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", capture)


def nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The plan's nodes, depth first."""
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


def shown(plan: dict[str, Any], depth: int = 0) -> str:
    """The plan as indented lines: node type, relation, index, conditions, sort key."""
    keys = ("Relation Name", "Index Name", "Index Cond", "Filter", "Sort Key")
    detail = ", ".join(f"{k}: {plan[k]}" for k in keys if k in plan)
    lines = ["  " * depth + f"{plan['Node Type']} ({detail})"]
    return "\n".join(lines + [shown(c, depth + 1) for c in plan.get("Plans", [])])


@asynccontextmanager
async def seeded(
    engine: AsyncEngine, statements: Sequence[Any], params: dict[str, Any], tables: Sequence[str]
) -> AsyncIterator[AsyncConnection]:
    """A connection holding `statements`' rows (run with `params`) in a transaction that is
    rolled back at the end, with `tables` analyzed inside it."""
    async with engine.connect() as conn:
        transaction = await conn.begin()
        try:
            for statement in statements:
                await conn.execute(statement, params)
            for table in tables:
                await conn.execute(text(f"ANALYZE {table}"))
            yield conn
        finally:
            await transaction.rollback()


async def explain_sent(
    conn: AsyncConnection, captured: list[tuple[str, Any]], marker: str
) -> dict[str, Any]:
    """The plan of the one captured statement containing `marker`, with its parameters (the
    captured statements are cleared)."""
    [(statement, parameters)] = [(s, p) for s, p in captured if marker in s]
    captured.clear()
    raw = (await conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters)).scalar()
    plan: dict[str, Any] = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
    return plan


def scans_of(plan: dict[str, Any], relation: str) -> list[dict[str, Any]]:
    """The plan's nodes that read `relation`."""
    return [n for n in nodes(plan) if n.get("Relation Name") == relation]


def assert_read_in_order_of(plan: dict[str, Any], relation: str, *indexes: str) -> dict[str, Any]:
    """`relation` is read by an index scan of one of `indexes`, and nothing is sorted (the
    planner may prefer the plain sort index, filtering, when a filter matches many rows)."""
    scans = scans_of(plan, relation)
    assert [n["Node Type"] for n in scans] == ["Index Scan"], shown(plan)
    assert scans[0]["Index Name"] in indexes, shown(plan)
    sorts = [n for n in nodes(plan) if n["Node Type"] in {"Sort", "Incremental Sort"}]
    assert not sorts, shown(plan)
    return scans[0]
