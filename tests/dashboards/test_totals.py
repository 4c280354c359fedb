"""`include_total` on the lists that may match a million records: the exact count up to the
cap (`app.core.totals.TOTAL_CAP`), flagged `total_is_estimate: false`; above it the planner's
estimate, flagged `true`, and never a count past the cap. On the demo data, with the cap
lowered below its lists' sizes for the estimates."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection

from app.core import totals
from app.core.security import Role
from tests._demo import connection, demo_connection
from tests.conftest import MakeKey, bearer

__all__ = ["connection", "demo_connection"]

API = "/api/v1"
LISTS = [
    ("/commitments", {}),
    ("/commitments", {"status": "launched"}),
    ("/innovations", {}),
    ("/innovations", {"q": "anak"}),
    ("/sustainability/due", {}),
    ("/scaling/candidates", {}),
]
IDS = ["commitments", "launched", "innovations", "search", "due", "candidates"]


async def every_item(client: httpx.AsyncClient, path: str, params: dict[str, Any], h: Any) -> int:
    """The number of items on all the pages of a list."""
    n, cursor = 0, None
    while True:
        page_params = params | {"limit": 200} | ({"cursor": cursor} if cursor else {})
        r = await client.get(f"{API}{path}", params=page_params, headers=h)
        assert r.status_code == 200, r.text
        n += len(r.json()["items"])
        cursor = r.json()["next_cursor"]
        if cursor is None:
            return n


@pytest.mark.parametrize(("path", "params"), LISTS, ids=IDS)
async def test_a_total_under_the_cap_is_the_exact_count(
    client: httpx.AsyncClient, make_key: MakeKey, path: str, params: dict[str, Any]
) -> None:
    h = bearer(await make_key(Role.admin))
    r = await client.get(f"{API}{path}", params=params | {"include_total": "true"}, headers=h)

    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == await every_item(client, path, params, h)
    assert body["total"] > 2
    assert body["total_is_estimate"] is False


@pytest.mark.parametrize(("path", "params"), LISTS, ids=IDS)
async def test_a_total_over_the_cap_is_an_estimate_and_says_so(
    client: httpx.AsyncClient,
    connection: AsyncConnection,
    make_key: MakeKey,
    monkeypatch: pytest.MonkeyPatch,
    path: str,
    params: dict[str, Any],
) -> None:
    h = bearer(await make_key(Role.admin))
    monkeypatch.setattr(totals, "TOTAL_CAP", 2)
    # The planner's estimate of a demo list is small: never too large to count.
    monkeypatch.setattr(totals, "ESTIMATE_ONLY_FACTOR", 10**9)

    body, statements = await total_of(client, connection, path, params, h)

    assert body["total_is_estimate"] is True
    assert body["total"] >= 3
    # One count, stopped after the cap, and one plan; no count of every match.
    counts = [s for s in statements if s.startswith("SELECT count(")]
    assert len(counts) == 1, counts
    assert "LIMIT" in counts[0], counts[0]
    assert len([s for s in statements if s.startswith("EXPLAIN")]) == 1


@pytest.mark.parametrize(("path", "params"), LISTS, ids=IDS)
async def test_a_list_expected_far_over_the_cap_is_not_counted(
    client: httpx.AsyncClient,
    connection: AsyncConnection,
    make_key: MakeKey,
    monkeypatch: pytest.MonkeyPatch,
    path: str,
    params: dict[str, Any],
) -> None:
    h = bearer(await make_key(Role.admin))
    monkeypatch.setattr(totals, "TOTAL_CAP", 0)

    body, statements = await total_of(client, connection, path, params, h)

    # The planner expects at least one row, more than five times a cap of 0: its estimate is
    # the total, and no count runs.
    assert body["total_is_estimate"] is True
    assert body["total"] >= 1
    assert [s for s in statements if s.startswith("SELECT count(")] == []
    assert len([s for s in statements if s.startswith("EXPLAIN")]) == 1


async def total_of(
    client: httpx.AsyncClient,
    connection: AsyncConnection,
    path: str,
    params: dict[str, Any],
    headers: dict[str, str],
) -> tuple[dict[str, Any], list[str]]:
    """A page with its total, and the statements its request ran."""
    statements: list[str] = []

    def capture(*args: Any) -> None:
        statements.append(args[2])

    event.listen(connection.sync_connection, "before_cursor_execute", capture)
    try:
        r = await client.get(
            f"{API}{path}", params=params | {"include_total": "true"}, headers=headers
        )
    finally:
        event.remove(connection.sync_connection, "before_cursor_execute", capture)
    assert r.status_code == 200, r.text
    return r.json(), statements


async def test_a_list_without_include_total_has_neither_field(
    client: httpx.AsyncClient, make_key: MakeKey
) -> None:
    h = bearer(await make_key(Role.admin))
    body = (await client.get(f"{API}/scaling/candidates", headers=h)).json()
    assert "total" not in body
    assert "total_is_estimate" not in body
