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

from fastapi import Header, Request
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from app.core import idempotency_repository as repository
from app.core.config import get_settings
from app.core.db import get_session
from app.core.errors import BadRequest, Conflict, ProblemError, Unprocessable
from app.core.security import Role, authenticate

REPLAY_HEADER = "Idempotent-Replayed"
COMPRESS_FROM_BYTES = 8192
_REPLAYED_HEADERS = ("location", "etag", "content-type")
# SQLSTATE of a lock wait that ran out of `lock_timeout`.
LOCK_NOT_AVAILABLE = "55P03"


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
        principal = await authenticate(request)
        if principal is None:
            return
        if idempotency_key is None:
            if principal.role in self.required_for:
                raise BadRequest(
                    "Integration keys must send an Idempotency-Key header on this POST.",
                    code="idempotency_key_required",
                )
            return
        wanted = fingerprint(request.method, request.url.path, await request.body())
        session = await get_session(request)
        ttl_hours = get_settings().idempotency_ttl_hours
        try:
            claimed = await repository.claim(
                session, principal.id, idempotency_key, wanted, ttl_hours
            )
        except sa_exc.DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) != LOCK_NOT_AVAILABLE:
                raise
            raise Conflict(
                "A request with this Idempotency-Key is still being processed.",
                code="idempotency_in_flight",
            ) from exc
        if claimed:
            request.state.idempotency = Claim(principal.id, idempotency_key)
            return
        stored = await repository.stored(session, principal.id, idempotency_key)
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
    await repository.save(
        session,
        claim.principal_id,
        claim.key,
        status=response.status_code,
        headers=json.dumps(headers),
        body=zlib.compress(body, 1) if compressed else body,
        compressed=compressed,
    )


async def purge_expired(session: AsyncSession) -> int:
    return await repository.purge(session, get_settings().idempotency_ttl_hours)
