from __future__ import annotations

import httpx


async def test_regions_list(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/regions", params={"parent": "33", "limit": 200})
    assert r.status_code == 200
    assert len(r.json()["items"]) == 35
