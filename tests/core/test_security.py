"""API keys: one 401 for every bad credential, keys stored hashed, scope rules, last use."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
import secrets
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.core.errors import Unprocessable
from app.core.keys import create_key, revoke_key
from app.core.security import KEY_PREFIX, Role, generate_key, hash_key
from tests.conftest import MakeKey, bearer, problem
from tests.core._platform import (
    EVENTS,
    INSTITUTIONS,
    count,
    engine_scalar,
    institution_body,
    key_id,
)

CommittedKey = Callable[..., Awaitable[str]]


def _unauthorized(response: httpx.Response) -> tuple[dict[str, Any], str]:
    """The parts of a 401 a client sees, minus the per-request id."""
    body = problem(response, 401)
    body.pop("request_id", None)
    return body, response.headers["www-authenticate"]


# --- One 401 for every bad credential -----------------------------------------------------


async def test_missing_key_is_401_problem_with_www_authenticate(
    client: httpx.AsyncClient,
) -> None:
    body, challenge = _unauthorized(await client.get(EVENTS))
    assert body["code"] == "unauthorized"
    assert challenge.startswith("Bearer ")


# A key sent without the Bearer scheme gets a hint of its own (tests/core/test_contract.py);
# every other bad credential is answered as a missing key.
BAD_HEADERS = {
    "unknown key": lambda: f"Bearer {KEY_PREFIX}{secrets.token_urlsafe(32)}",
    "token without the ih_ prefix": lambda: f"Bearer {secrets.token_urlsafe(32)}",
    "bearer without a token": lambda: "Bearer",
    "bearer with a blank token": lambda: "Bearer    ",
    "over-long key": lambda: f"Bearer {KEY_PREFIX}{'a' * 300}",
    "two tokens": lambda: f"Bearer {KEY_PREFIX}abc {KEY_PREFIX}def",
}


@pytest.mark.parametrize("header", BAD_HEADERS.values(), ids=BAD_HEADERS.keys())
async def test_bad_authorization_gets_the_same_401_as_a_missing_key(
    client: httpx.AsyncClient, header: Callable[[], str]
) -> None:
    missing = _unauthorized(await client.get(EVENTS))
    bad = _unauthorized(await client.get(EVENTS, headers={"Authorization": header()}))
    assert bad == missing


async def test_revoked_key_gets_the_same_401_as_a_missing_key(
    client: httpx.AsyncClient, session: AsyncSession, make_key: MakeKey
) -> None:
    key = await make_key(Role.admin)
    assert (await client.get(EVENTS, headers=bearer(key))).status_code == 200
    await revoke_key(session, await key_id(session, key))
    await session.flush()
    missing = _unauthorized(await client.get(EVENTS))
    assert _unauthorized(await client.get(EVENTS, headers=bearer(key))) == missing


async def test_unknown_key_on_open_data_is_401_not_anonymous(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/regions", headers=bearer(KEY_PREFIX + secrets.token_urlsafe(32)))
    problem(r, 401)
    assert r.headers["www-authenticate"].startswith("Bearer ")


async def test_unknown_key_on_a_write_is_401_and_writes_nothing(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    before = await count(session, "institutions")
    r = await client.post(
        INSTITUTIONS,
        json=institution_body(),
        headers=bearer(KEY_PREFIX + secrets.token_urlsafe(32)),
    )
    problem(r, 401)
    assert await count(session, "institutions") == before


# --- Key format and storage ---------------------------------------------------------------


def _secret_bits(plaintext: str) -> int:
    secret = plaintext.removeprefix(KEY_PREFIX)
    assert re.fullmatch(r"[A-Za-z0-9_\-]+", secret), "the secret is URL-safe base64"
    return len(base64.urlsafe_b64decode(secret + "=" * (-len(secret) % 4))) * 8


async def test_issued_key_is_ih_prefix_and_at_least_128_bit_secret(make_key: MakeKey) -> None:
    key = await make_key(Role.admin)
    assert key.startswith("ih_")
    assert _secret_bits(key) >= 128


def test_generated_keys_are_distinct_and_hashed_with_sha256() -> None:
    generated = [generate_key() for _ in range(200)]
    assert len({plaintext for plaintext, _, _ in generated}) == 200
    for plaintext, prefix, digest in generated:
        assert _secret_bits(plaintext) >= 128
        assert prefix == plaintext[:10]
        assert digest == hashlib.sha256(plaintext.encode()).hexdigest() == hash_key(plaintext)


async def test_api_keys_rows_hold_only_the_hash_and_a_short_prefix(
    session: AsyncSession, make_key: MakeKey
) -> None:
    keys = [
        await make_key(Role.admin),
        await make_key(Role.reviewer),
        await make_key(Role.coordinator, "33"),
        await make_key(Role.integration, "61"),
    ]
    for plaintext in keys:
        row = (
            (
                await session.execute(
                    text("SELECT * FROM api_keys WHERE key_hash = :h"), {"h": hash_key(plaintext)}
                )
            )
            .mappings()
            .one()
        )
        assert row["key_hash"] == hashlib.sha256(plaintext.encode()).hexdigest()
        assert row["prefix"] == plaintext[:10]
        assert len(row["prefix"]) <= 12
        secret = plaintext.removeprefix(KEY_PREFIX)
        for column, value in row.items():
            assert secret not in str(value), f"api_keys.{column} holds the secret"
            assert secret[-16:] not in str(value), f"api_keys.{column} holds part of the secret"


async def _rows_containing(session: AsyncSession, needle: str) -> list[str]:
    """`table` (or `table.column` for binary columns) of every row in the database whose text
    contains `needle`: a whole-row scan catches text, varchar, json and jsonb columns."""
    found: list[str] = []
    tables = (
        await session.execute(
            text(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
            )
        )
    ).scalars()
    for table in list(tables):
        hits = await session.scalar(
            text(f'SELECT count(*) FROM "{table}" AS r WHERE strpos(r::text, :n) > 0'),  # noqa: S608
            {"n": needle},
        )
        if hits:
            found.append(table)
    binary = (
        await session.execute(
            text(
                "SELECT table_name, column_name FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND data_type = 'bytea'"
            )
        )
    ).all()
    for table, column in binary:
        hits = await session.scalar(
            text(
                f'SELECT count(*) FROM "{table}" '  # noqa: S608
                f"WHERE position(convert_to(:n, 'UTF8') IN \"{column}\") > 0"
            ),
            {"n": needle},
        )
        if hits:
            found.append(f"{table}.{column}")
    return found


async def test_no_plaintext_key_is_stored_anywhere_in_the_database(
    client: httpx.AsyncClient, session: AsyncSession, make_key: MakeKey
) -> None:
    marker = f"key-name-{uuid.uuid4().hex}"
    keys = [
        await make_key(Role.admin, name=marker),
        await make_key(Role.coordinator, "33"),
        await make_key(Role.integration, "33"),
    ]
    # Use the keys, so that last use, events and idempotency records exist too.
    for n, key in enumerate(keys):
        await client.get(EVENTS, headers=bearer(key))
        await client.post(
            INSTITUTIONS,
            json=institution_body(),
            headers={**bearer(key), "Idempotency-Key": f"scan-{n}"},
        )
    assert await count(session, "events") >= 2
    assert await count(session, "idempotency_keys") >= 2
    # The scan finds what is there: the key's name is stored in plain text.
    assert "api_keys" in await _rows_containing(session, marker)
    for key in keys:
        assert await _rows_containing(session, key) == []
        assert await _rows_containing(session, key.removeprefix(KEY_PREFIX)) == []


# --- Which keys may be issued --------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.admin, Role.reviewer])
async def test_national_key_refuses_a_province(session: AsyncSession, role: Role) -> None:
    before = await count(session, "api_keys")
    with pytest.raises(Unprocessable, match="takes no province"):
        await create_key(session, name="n", role=role, province_code="33")
    assert await count(session, "api_keys") == before


@pytest.mark.parametrize("role", [Role.coordinator, Role.integration])
async def test_scoped_key_requires_a_province(session: AsyncSession, role: Role) -> None:
    before = await count(session, "api_keys")
    with pytest.raises(Unprocessable, match="needs --province"):
        await create_key(session, name="n", role=role, province_code=None)
    assert await count(session, "api_keys") == before


@pytest.mark.parametrize("code", ["33.74", "99", "3"])
async def test_scoped_key_refuses_what_is_not_a_province(session: AsyncSession, code: str) -> None:
    with pytest.raises(Unprocessable, match="not a province"):
        await create_key(session, name="n", role=Role.coordinator, province_code=code)


@pytest.mark.parametrize(
    ("role", "province"),
    [("coordinator", None), ("integration", None), ("admin", "33"), ("reviewer", "33")],
)
async def test_database_refuses_a_key_whose_scope_breaks_the_rule(
    session: AsyncSession, role: str, province: str | None
) -> None:
    with pytest.raises(IntegrityError, match="ck_api_keys_province_scope"):
        async with session.begin_nested():
            await session.execute(
                text(
                    "INSERT INTO api_keys (id, name, role, province_code, prefix, key_hash) "
                    "VALUES (:id, 'n', :role, :p, 'ih_x', :h)"
                ),
                {"id": uuid.uuid4(), "role": role, "p": province, "h": uuid.uuid4().hex},
            )


# --- Last use -----------------------------------------------------------------------------


async def _last_used(engine: AsyncEngine, key: str) -> Any:
    return await engine_scalar(
        engine, "SELECT last_used_at FROM api_keys WHERE key_hash = :h", h=hash_key(key)
    )


async def test_last_used_at_is_set_when_a_key_is_used(
    committed_client: httpx.AsyncClient, committed_key: CommittedKey, engine: AsyncEngine
) -> None:
    key = await committed_key(Role.admin)
    assert await _last_used(engine, key) is None
    assert (await committed_client.get(EVENTS, headers=bearer(key))).status_code == 200
    assert await _last_used(engine, key) is not None


async def test_last_used_at_is_refreshed_at_most_once_a_minute(
    committed_client: httpx.AsyncClient, committed_key: CommittedKey, engine: AsyncEngine
) -> None:
    key = await committed_key(Role.admin)
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE api_keys SET last_used_at = now() - interval '30 seconds' "
                "WHERE key_hash = :h"
            ),
            {"h": hash_key(key)},
        )
    recent = await _last_used(engine, key)
    await committed_client.get(EVENTS, headers=bearer(key))
    assert await _last_used(engine, key) == recent
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE api_keys SET last_used_at = now() - interval '2 minutes' "
                "WHERE key_hash = :h"
            ),
            {"h": hash_key(key)},
        )
    old = await _last_used(engine, key)
    await committed_client.get(EVENTS, headers=bearer(key))
    assert await _last_used(engine, key) > old


async def test_request_does_not_wait_for_another_transaction_touching_its_key(
    committed_client: httpx.AsyncClient, committed_key: CommittedKey, engine: AsyncEngine
) -> None:
    """A long write holds the key's row once it has recorded the key's last use; other
    requests with the same key must not queue behind it (nor time out into a 503)."""
    key = await committed_key(Role.admin)
    async with engine.connect() as conn:
        transaction = await conn.begin()
        try:
            await conn.execute(
                text("UPDATE api_keys SET last_used_at = now() WHERE key_hash = :h"),
                {"h": hash_key(key)},
            )
            response = await asyncio.wait_for(
                committed_client.get(EVENTS, headers=bearer(key)), timeout=5
            )
        finally:
            await transaction.rollback()
    assert response.status_code == 200
