"""`Idempotency-Key` on POST: replay, mismatch, scope per principal, failed attempts, expiry.

The designed behaviour (app/core/idempotency.py): the key is claimed in the POST's own
transaction and its response stored just before that transaction commits. A first attempt
that fails rolls back, so it stores nothing: the key stays free and any retry (the same body
or a corrected one) runs afresh.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker
from starlette.responses import Response

from app.core.config import Settings
from app.core.db import Database, Session, create_engine
from app.core.idempotency import REPLAY_HEADER, fingerprint, purge_expired
from app.core.routing import AppRoute
from app.core.security import Principal, Role, requires
from app.main import create_app
from tests.conftest import MakeKey, bearer, problem
from tests.core._platform import (
    INSTITUTIONS,
    count,
    engine_count,
    institution_body,
    key_id,
)

CommittedKey = Callable[..., Awaitable[str]]


def keyed(headers: dict[str, str], key: str) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key}


async def stored_keys(session: AsyncSession, key: str) -> int:
    return await count(session, "idempotency_keys", "key = :k", k=key)


# --- Replay --------------------------------------------------------------------------------


async def test_same_key_and_body_replays_the_first_response(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    body = institution_body()
    first = await client.post(INSTITUTIONS, json=body, headers=keyed(admin, "replay-1"))
    again = await client.post(INSTITUTIONS, json=body, headers=keyed(admin, "replay-1"))
    assert first.status_code == 201, first.text
    assert REPLAY_HEADER.lower() not in first.headers
    assert again.headers[REPLAY_HEADER] == "true"
    assert again.status_code == first.status_code
    assert again.content == first.content
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["content-type"] == first.headers["content-type"]
    assert await count(session, "institutions", "name = :n", n=body["name"]) == 1


async def test_replay_writes_no_second_event(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    body = institution_body()
    first = await client.post(INSTITUTIONS, json=body, headers=keyed(admin, "replay-2"))
    await client.post(INSTITUTIONS, json=body, headers=keyed(admin, "replay-2"))
    entity_id = first.json()["id"]
    assert await count(session, "events", "entity_id = :id", id=entity_id) == 1


async def test_post_without_a_key_is_not_deduplicated(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    body = institution_body()
    assert (await client.post(INSTITUTIONS, json=body, headers=admin)).status_code == 201
    duplicate = await client.post(INSTITUTIONS, json=body, headers=admin)
    assert problem(duplicate, 409)["code"] == "duplicate_institution"


# --- Mismatch ------------------------------------------------------------------------------


async def test_same_key_with_another_body_is_422(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    first = await client.post(INSTITUTIONS, json=institution_body(), headers=keyed(admin, "k-1"))
    assert first.status_code == 201
    before = await count(session, "institutions")
    other = await client.post(INSTITUTIONS, json=institution_body(), headers=keyed(admin, "k-1"))
    assert problem(other, 422)["code"] == "idempotency_key_reused"
    assert await count(session, "institutions") == before


async def test_same_key_with_the_same_data_serialised_differently_is_422(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    """The fingerprint is of the bytes sent: a client retries with exactly the same body."""
    body = institution_body()
    compact = json.dumps(body, separators=(",", ":"))
    spaced = json.dumps(body, indent=2)
    headers = keyed(admin, "k-bytes") | {"Content-Type": "application/json"}
    assert (await client.post(INSTITUTIONS, content=compact, headers=headers)).status_code == 201
    r = await client.post(INSTITUTIONS, content=spaced, headers=headers)
    assert problem(r, 422)["code"] == "idempotency_key_reused"


def test_fingerprint_differs_by_method_path_and_body() -> None:
    base = fingerprint("POST", "/api/v1/a", b"{}")
    assert base == fingerprint("POST", "/api/v1/a", b"{}")
    assert base != fingerprint("PUT", "/api/v1/a", b"{}")
    assert base != fingerprint("POST", "/api/v1/b", b"{}")
    assert base != fingerprint("POST", "/api/v1/a", b"{ }")
    # Length-prefixed parts: moving bytes between path and body is a different request.
    assert fingerprint("POST", "/a", b"b") != fingerprint("POST", "/ab", b"")


@pytest.fixture
async def probe_client(connection: AsyncConnection) -> AsyncIterator[httpx.AsyncClient]:
    """The app plus one more POST route (`/api/v1/probe`), in the test's transaction."""
    app: FastAPI = create_app()
    router = APIRouter(route_class=AppRoute)

    @router.post("/api/v1/probe", status_code=201)
    async def probe(
        session: Session,
        principal: Annotated[Principal, Depends(requires(Role.admin))],
        body: dict[str, Any],
    ) -> dict[str, Any]:
        return {"echo": body}

    @router.post("/api/v1/probe-refusal", status_code=201)
    async def probe_refusal(
        session: Session,
        principal: Annotated[Principal, Depends(requires(Role.admin))],
        body: dict[str, Any],
    ) -> Response:
        # An error answered by returning it rather than raising it: the request's
        # transaction commits, the error response is not stored.
        return Response(b'{"refused": true}', status_code=409, media_type="application/json")

    app.include_router(router)
    factory = async_sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    app.state.db = Database(
        engine=connection.engine, write_sessions=factory, read_sessions=factory, reads=connection
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


async def test_same_key_on_another_path_is_422(
    probe_client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    body = institution_body()
    first = await probe_client.post(INSTITUTIONS, json=body, headers=keyed(admin, "k-path"))
    assert first.status_code == 201
    r = await probe_client.post("/api/v1/probe", json=body, headers=keyed(admin, "k-path"))
    assert problem(r, 422)["code"] == "idempotency_key_reused"


async def test_probe_route_alone_accepts_the_key(
    probe_client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    """Control for the test above: the probe route itself honours keys."""
    first = await probe_client.post("/api/v1/probe", json={"a": 1}, headers=keyed(admin, "p"))
    again = await probe_client.post("/api/v1/probe", json={"a": 1}, headers=keyed(admin, "p"))
    assert first.status_code == 201
    assert again.headers[REPLAY_HEADER] == "true"
    assert again.content == first.content


async def test_error_response_returned_without_raising_is_not_replayed(
    probe_client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    url = "/api/v1/probe-refusal"
    first = await probe_client.post(url, json={"a": 1}, headers=keyed(admin, "refused"))
    retry = await probe_client.post(url, json={"a": 1}, headers=keyed(admin, "refused"))
    assert first.status_code == retry.status_code == 409
    assert REPLAY_HEADER.lower() not in retry.headers
    other = await probe_client.post(url, json={"b": 2}, headers=keyed(admin, "refused"))
    assert other.status_code == 409, "a key with no stored response binds no body"


# --- Scope ---------------------------------------------------------------------------------


async def test_different_principals_may_use_the_same_key(
    client: httpx.AsyncClient, session: AsyncSession, make_key: MakeKey
) -> None:
    one = bearer(await make_key(Role.admin, name="one"))
    two = bearer(await make_key(Role.coordinator, "33", name="two"))
    a = await client.post(INSTITUTIONS, json=institution_body(), headers=keyed(one, "shared"))
    b = await client.post(INSTITUTIONS, json=institution_body(), headers=keyed(two, "shared"))
    assert a.status_code == b.status_code == 201
    assert REPLAY_HEADER.lower() not in b.headers
    assert a.json()["id"] != b.json()["id"]
    assert await stored_keys(session, "shared") == 2


async def test_anonymous_post_with_a_key_is_401_and_stores_nothing(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    r = await client.post(
        INSTITUTIONS, json=institution_body(), headers={"Idempotency-Key": "anon"}
    )
    problem(r, 401)
    assert await stored_keys(session, "anon") == 0


# --- Failed first attempts store nothing ----------------------------------------------------


async def test_failed_validation_stores_no_key_and_a_corrected_retry_succeeds(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    bad = institution_body() | {"kind": "not_a_kind"}
    problem(await client.post(INSTITUTIONS, json=bad, headers=keyed(admin, "fix-me")), 422)
    assert await stored_keys(session, "fix-me") == 0
    good = await client.post(INSTITUTIONS, json=institution_body(), headers=keyed(admin, "fix-me"))
    assert good.status_code == 201, good.text
    assert REPLAY_HEADER.lower() not in good.headers
    assert await stored_keys(session, "fix-me") == 1


async def test_conflict_is_not_replayed_a_retry_runs_again(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    body = institution_body()
    assert (await client.post(INSTITUTIONS, json=body, headers=admin)).status_code == 201
    first = await client.post(INSTITUTIONS, json=body, headers=keyed(admin, "dup"))
    assert problem(first, 409)["code"] == "duplicate_institution"
    assert await stored_keys(session, "dup") == 0
    retry = await client.post(INSTITUTIONS, json=body, headers=keyed(admin, "dup"))
    assert problem(retry, 409)["code"] == "duplicate_institution"
    assert REPLAY_HEADER.lower() not in retry.headers


async def test_corrected_retry_after_a_conflict_is_accepted(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    body = institution_body()
    assert (await client.post(INSTITUTIONS, json=body, headers=admin)).status_code == 201
    problem(await client.post(INSTITUTIONS, json=body, headers=keyed(admin, "dup-2")), 409)
    fixed = body | {"name": body["name"] + " (II)"}
    r = await client.post(INSTITUTIONS, json=fixed, headers=keyed(admin, "dup-2"))
    assert r.status_code == 201, r.text
    assert await count(session, "institutions", "name = :n", n=fixed["name"]) == 1


async def test_refused_role_stores_no_key(
    client: httpx.AsyncClient, session: AsyncSession, make_key: MakeKey
) -> None:
    reviewer = bearer(await make_key(Role.reviewer))
    r = await client.post(INSTITUTIONS, json=institution_body(), headers=keyed(reviewer, "no"))
    problem(r, 403)
    assert await stored_keys(session, "no") == 0


@pytest.mark.parametrize("value", ["x" * 256, "with space", "tab\there", "naïve"])
async def test_malformed_idempotency_key_is_422(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str], value: str
) -> None:
    before = await count(session, "institutions")
    headers = [*admin.items(), ("Idempotency-Key", value.encode("utf-8"))]
    r = await client.post(INSTITUTIONS, json=institution_body(), headers=headers)
    body = problem(r, 422)
    assert body["errors"][0]["pointer"] == "/header/Idempotency-Key"
    assert await count(session, "institutions") == before


# --- Expiry --------------------------------------------------------------------------------


async def _age_key(session: AsyncSession, key: str, hours: int) -> None:
    await session.execute(
        text(
            "UPDATE idempotency_keys SET created_at = now() - make_interval(hours => :h) "
            "WHERE key = :k"
        ),
        {"h": hours, "k": key},
    )


async def test_key_older_than_24_hours_is_free_for_a_new_request(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    first = await client.post(INSTITUTIONS, json=institution_body(), headers=keyed(admin, "old"))
    assert first.status_code == 201
    await _age_key(session, "old", 25)
    body = institution_body()
    later = await client.post(INSTITUTIONS, json=body, headers=keyed(admin, "old"))
    assert later.status_code == 201, later.text
    assert REPLAY_HEADER.lower() not in later.headers
    assert later.json()["id"] != first.json()["id"]
    # The key now remembers the new request.
    again = await client.post(INSTITUTIONS, json=body, headers=keyed(admin, "old"))
    assert again.headers[REPLAY_HEADER] == "true"
    assert again.content == later.content


async def test_key_younger_than_24_hours_still_binds(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    first = await client.post(INSTITUTIONS, json=institution_body(), headers=keyed(admin, "23h"))
    assert first.status_code == 201
    await _age_key(session, "23h", 23)
    r = await client.post(INSTITUTIONS, json=institution_body(), headers=keyed(admin, "23h"))
    assert problem(r, 422)["code"] == "idempotency_key_reused"


async def test_purge_expired_deletes_only_expired_keys(session: AsyncSession) -> None:
    principal = uuid.uuid4()
    for key, hours in (("purge-old", 25), ("purge-edge", 23), ("purge-new", 0)):
        await session.execute(
            text(
                "INSERT INTO idempotency_keys (principal_id, key, fingerprint, created_at) "
                "VALUES (:p, :k, 'f', now() - make_interval(hours => :h))"
            ),
            {"p": principal, "k": key, "h": hours},
        )
    purged = await purge_expired(session)
    left = (
        await session.execute(
            text("SELECT key FROM idempotency_keys WHERE principal_id = :p ORDER BY key"),
            {"p": principal},
        )
    ).scalars()
    assert list(left) == ["purge-edge", "purge-new"]
    assert purged == 1


# --- Concurrency (real commits) -------------------------------------------------------------


async def test_concurrent_duplicates_create_exactly_one_record(
    committed_client: httpx.AsyncClient, committed_key: CommittedKey, engine: AsyncEngine
) -> None:
    admin = bearer(await committed_key(Role.admin))
    body = institution_body()
    headers = keyed(admin, f"burst-{uuid.uuid4()}")
    responses = await asyncio.gather(
        *(committed_client.post(INSTITUTIONS, json=body, headers=headers) for _ in range(50))
    )
    assert [r.status_code for r in responses if r.status_code >= 500] == []
    originals = [r for r in responses if r.status_code == 201 and REPLAY_HEADER not in r.headers]
    assert len(originals) == 1, [(r.status_code, r.headers.get(REPLAY_HEADER)) for r in responses]
    original = originals[0]
    for r in responses:
        if r is original:
            continue
        if r.status_code == 409:
            assert r.json()["code"] == "idempotency_in_flight"
        else:
            assert r.headers.get(REPLAY_HEADER) == "true", r.text
            assert (r.status_code, r.content) == (original.status_code, original.content)
    assert await engine_count(engine, "institutions", "name = :n", n=body["name"]) == 1
    assert await engine_count(engine, "events", "entity_id = :i", i=original.json()["id"]) == 1
    assert await engine_count(engine, "idempotency_keys") == 1


@pytest.fixture
async def production_engine(database_url: URL) -> AsyncIterator[AsyncEngine]:
    """The app's own engine settings (lock_timeout and all), with a short lock_timeout."""
    engine = create_engine(database_url, Settings(db_lock_timeout_ms=300))
    yield engine
    await engine.dispose()


async def test_duplicate_while_the_first_is_in_flight_is_409(
    committed_app: FastAPI,
    committed_key: CommittedKey,
    engine: AsyncEngine,
    production_engine: AsyncEngine,
) -> None:
    committed_app.state.db = Database.from_engine(production_engine)
    plaintext = await committed_key(Role.admin)
    admin = bearer(plaintext)
    body = institution_body()
    raw = json.dumps(body).encode()
    headers = keyed(admin, "in-flight") | {"Content-Type": "application/json"}
    transport = httpx.ASGITransport(app=committed_app)
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://test") as client,
        engine.connect() as conn,
    ):
        # The first request: it has claimed the key and not yet committed.
        first = await conn.begin()
        await conn.execute(
            text(
                "INSERT INTO idempotency_keys (principal_id, key, fingerprint) "
                "VALUES (:p, 'in-flight', :f)"
            ),
            {"p": await key_id(conn, plaintext), "f": fingerprint("POST", INSTITUTIONS, raw)},
        )
        duplicate = await client.post(INSTITUTIONS, content=raw, headers=headers)
        await first.rollback()
        # The first attempt failed: the retry now runs afresh.
        retry = await client.post(INSTITUTIONS, content=raw, headers=headers)
    assert problem(duplicate, 409)["code"] == "idempotency_in_flight"
    assert retry.status_code == 201, retry.text
    assert await engine_count(engine, "institutions", "name = :n", n=body["name"]) == 1
