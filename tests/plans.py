"""Reading the plans of the statements the service sends: capture them as they go to the
driver, then walk and print `EXPLAIN (FORMAT JSON)` output."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine


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
