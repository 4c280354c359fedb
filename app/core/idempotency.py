"""`Idempotency-Key` on every POST, stored in PostgreSQL so that every worker sees it.

The claim row is inserted in the request's own transaction and the response is written into it
just before that transaction commits. So the key is stored exactly when the POST's changes are:
- a duplicate that arrives while the first is running waits on the row lock, then replays;
  if it has waited `lock_timeout`, it gets 409 (still in flight);
- if the first attempt fails and rolls back, the key is free and a retry runs afresh; so is
  a committed claim without a stored response (a route that returned an error response
  instead of raising it), which would otherwise have nothing to replay;
- the same key with another method, path or body is a 422.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from dataclasses import dataclass
from typing import Annotated

import asyncpg
from fastapi import Depends, Header, Request
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from app.core.config import get_settings
from app.core.db import Session
from app.core.errors import BadRequest, Conflict, ProblemError, Unprocessable
from app.core.repository import CompiledQuery, fetch
from app.core.security import Principal, Role, get_principal

REPLAY_HEADER = "Idempotent-Replayed"
COMPRESS_FROM_BYTES = 8192
_REPLAYED_HEADERS = ("location", "etag", "content-type")

_CLAIM = text(
    """
    INSERT INTO idempotency_keys (principal_id, key, fingerprint)
    VALUES (:principal_id, :key, :fingerprint)
    ON CONFLICT (principal_id, key) DO UPDATE
        SET fingerprint = EXCLUDED.fingerprint, created_at = now(),
            response_status = NULL, response_headers = NULL, response_body = NULL
        WHERE idempotency_keys.created_at < now() - make_interval(hours => :ttl_hours)
           OR idempotency_keys.response_status IS NULL
    RETURNING 1
    """
)
_STORED = text(
    """
    SELECT fingerprint, response_status, response_headers, response_body, response_compressed
    FROM idempotency_keys WHERE principal_id = :principal_id AND key = :key
    """
)
_SAVE = text(
    """
    UPDATE idempotency_keys
    SET response_status = :status, response_headers = CAST(:headers AS jsonb),
        response_body = :body, response_compressed = :compressed
    WHERE principal_id = :principal_id AND key = :key
    """
)
# Compiled once, run on the driver (`app.core.repository.fetch`): every keyed POST runs them.
_CLAIM_QUERY, _STORED_QUERY, _SAVE_QUERY = map(CompiledQuery, (_CLAIM, _STORED, _SAVE))
_PURGE = text(
    "DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => :ttl_hours)"
)


class Replay(ProblemError):
    """Raised to abandon the handler and answer with the stored response instead."""

    status = 200

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        super().__init__("replay")
        self.response = Response(
            body,
            status_code=status,
            headers={**headers, REPLAY_HEADER: "true"},
        )


@dataclass(frozen=True, slots=True)
class _Stored:
    """A key's row that the claim did not take: it holds the first request's response (a
    claim without one is taken again)."""

    fingerprint: str
    response_status: int
    response_headers: dict[str, str] | None
    response_body: bytes
    response_compressed: bool


@dataclass(frozen=True, slots=True)
class Claim:
    principal_id: object
    key: str


def fingerprint(method: str, path: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class Idempotency:
    """Dependency that claims the request's Idempotency-Key, or replays its stored outcome."""

    required_for: frozenset[Role] = frozenset()

    async def __call__(
        self,
        request: Request,
        session: Session,
        principal: Annotated[Principal | None, Depends(get_principal)],
        idempotency_key: Annotated[
            str | None,
            Header(
                alias="Idempotency-Key",
                min_length=1,
                max_length=255,
                pattern=r"^[\x21-\x7e]+$",
                description="Makes the POST safe to retry: the same key and body within "
                "24 hours replays the first response (`Idempotent-Replayed: true`).",
            ),
        ] = None,
    ) -> None:
        if principal is None:
            return
        if idempotency_key is None:
            if principal.role in self.required_for:
                raise BadRequest(
                    "Integration keys must send an Idempotency-Key header on this POST.",
                    code="idempotency_key_required",
                )
            return
        params = {
            "principal_id": principal.id,
            "key": idempotency_key,
            "ttl_hours": get_settings().idempotency_ttl_hours,
        }
        wanted = fingerprint(request.method, request.url.path, await request.body())
        try:
            claimed = await fetch(session, _CLAIM_QUERY, {**params, "fingerprint": wanted})
        except asyncpg.LockNotAvailableError as exc:
            raise Conflict(
                "A request with this Idempotency-Key is still being processed.",
                code="idempotency_in_flight",
            ) from exc
        if claimed:
            request.state.idempotency = Claim(principal.id, idempotency_key)
            return
        [row] = await fetch(session, _STORED_QUERY, params)
        stored = _Stored(**row)
        if stored.fingerprint != wanted:
            raise Unprocessable(
                "This Idempotency-Key was used with a different request.",
                code="idempotency_key_reused",
            )
        body = stored.response_body
        if stored.response_compressed:
            body = zlib.decompress(body)
        raise Replay(stored.response_status, stored.response_headers or {}, body)


async def save_response(session: AsyncSession, claim: Claim, response: Response) -> None:
    """Store the response under the claimed key, in the transaction about to commit."""
    headers = {k: v for k, v in response.headers.items() if k.lower() in _REPLAYED_HEADERS}
    body = bytes(response.body)
    # A batch's results run to hundreds of kB of repetitive JSON: zlib at its fastest level
    # shrinks them ~9x for about a millisecond, far less than PostgreSQL spends compressing
    # and TOASTing them itself.
    compressed = len(body) >= COMPRESS_FROM_BYTES
    await fetch(
        session,
        _SAVE_QUERY,
        {
            "principal_id": claim.principal_id,
            "key": claim.key,
            "status": response.status_code,
            "headers": json.dumps(headers),
            "body": zlib.compress(body, 1) if compressed else body,
            "compressed": compressed,
        },
    )


async def purge_expired(session: AsyncSession) -> int:
    result = await session.execute(_PURGE, {"ttl_hours": get_settings().idempotency_ttl_hours})
    return int(getattr(result, "rowcount", 0) or 0)
