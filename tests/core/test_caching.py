"""HTTP caching (SPEC section 5): a strong ETag of what each JSON GET returns, 304 for a
matching If-None-Match, public caching of open data and private caching of keyed reads."""

from __future__ import annotations

import re

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.caching import PRIVATE, PUBLIC
from tests.builders import make_award, make_innovation, make_institution
from tests.conftest import version_of

API = "/api/v1"
Headers = dict[str, str]


async def test_a_record_s_etag_changes_with_its_derived_figures(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    innovation = await make_innovation(session, institution=await make_institution(session))
    url = f"{API}/innovations/{innovation.id}"
    before = await client.get(url)

    await make_award(session, innovation=innovation)
    after = await client.get(url)

    assert (before.status_code, after.status_code) == (200, 200)
    assert before.json()["awards"] == []
    assert after.json()["awards"] != []
    assert version_of(before.headers["ETag"]) == version_of(after.headers["ETag"]) == 1
    assert before.headers["ETag"] != after.headers["ETag"]


async def test_a_matching_if_none_match_is_304_without_a_body(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    innovation = await make_innovation(session, institution=await make_institution(session))
    url = f"{API}/innovations/{innovation.id}"
    first = await client.get(url)
    tag = first.headers["ETag"]

    again = await client.get(url, headers={"If-None-Match": tag})
    weak = await client.get(url, headers={"If-None-Match": f'"other", W/{tag}'})
    stale = await client.get(url, headers={"If-None-Match": '"1-0000000000000000"'})

    assert (again.status_code, again.content) == (304, b"")
    assert again.headers["ETag"] == tag
    assert again.headers["Cache-Control"] == PUBLIC
    assert again.headers["Vary"] == "Authorization"
    assert weak.status_code == 304
    assert stale.status_code == 200
    assert stale.json() == first.json()


async def test_lists_and_statistics_carry_etags_and_answer_304(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await make_innovation(session, institution=await make_institution(session))
    for path in ("/innovations", "/stats/overview", "/stats/provinces", "/regions?parent=33"):
        first = await client.get(API + path)
        assert first.status_code == 200, path
        tag = first.headers["ETag"]
        assert re.fullmatch(r'"[0-9a-f]{16}"', tag), (path, tag)

        again = await client.get(API + path, headers={"If-None-Match": tag})

        assert (again.status_code, again.content) == (304, b""), path


async def test_a_list_s_etag_changes_when_a_record_is_added(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await make_innovation(session, institution=await make_institution(session))
    before = await client.get(f"{API}/stats/overview")

    await make_innovation(session, institution=await make_institution(session))
    after = await client.get(
        f"{API}/stats/overview", headers={"If-None-Match": before.headers["ETag"]}
    )

    assert after.status_code == 200
    assert after.headers["ETag"] != before.headers["ETag"]


async def test_open_reads_are_public_and_keyed_reads_private(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    innovation = await make_innovation(session, institution=await make_institution(session))
    url = f"{API}/innovations/{innovation.id}"

    anonymous = await client.get(url)
    keyed = await client.get(url, headers=admin)
    events = await client.get(f"{API}/events", headers=admin)

    assert anonymous.headers["Cache-Control"] == PUBLIC == "public, max-age=30"
    assert keyed.headers["Cache-Control"] == PRIVATE
    assert events.headers["Cache-Control"] == PRIVATE
    assert {r.headers["Vary"] for r in (anonymous, keyed, events)} == {"Authorization"}


async def test_errors_and_writes_carry_no_caching_headers(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    missing = await client.get(f"{API}/innovations/00000000-0000-4000-8000-000000000000")
    created = await client.post(
        f"{API}/institutions",
        json={
            "name": "Dinas Kesehatan",
            "kind": "regional_agency",
            "region_code": "33.29",
            "parent_id": None,
        }
        | {"parent_id": None},
        headers=admin,
    )

    assert missing.status_code == 404
    assert "ETag" not in missing.headers
    assert "Cache-Control" not in missing.headers
    assert created.status_code == 201, created.text
    assert version_of(created.headers["ETag"]) == 1
    assert "Cache-Control" not in created.headers


async def test_if_match_takes_the_tag_of_a_get_its_version_or_a_bare_number(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    institution = await make_institution(session)
    url = f"{API}/institutions/{institution.id}"
    tag = (await client.get(url, headers=admin)).headers["ETag"]

    full = await client.patch(url, json={"name": "A"}, headers=admin | {"If-Match": tag})
    bare = await client.patch(url, json={"name": "B"}, headers=admin | {"If-Match": "2"})
    old = await client.patch(url, json={"name": "C"}, headers=admin | {"If-Match": tag})

    assert full.status_code == 200, full.text
    assert bare.status_code == 200, bare.text
    assert version_of(bare.headers["ETag"]) == 3
    assert old.status_code == 412
