"""The raw baseline of `bench.run`: its scenarios on Starlette and a plain asyncpg pool, with
the service's own SQL and without the framework.

It serves only what the scenarios send (`SCENARIOS` in bench/run.py), each with the statements
the service runs, in the same transactions: reads with the repository's read model and page
statements, compiled once per shape; a report with the key lookup, the claim, the lock and
ingest statements and the saved response. bulk_ingest is the floor the service's ingestion is
measured against: after the key and the claim it writes the reports and their events with COPY
and checks nothing. Bodies carry the service's data, not its bytes (bench/baseline_check.py
compares them); other requests may well get a 500.

    python -m bench.baseline --port P [--workers N]    # DATABASE_URL as the service takes it
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import random
import signal
import sys
import uuid
import zlib
from collections.abc import AsyncIterator, Mapping
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import asyncpg
from sqlalchemy import Integer, bindparam
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect
from sqlalchemy.engine import URL
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.core.config import get_settings
from app.core.embedded import connect_kwargs, to_async_url
from app.core.idempotency import COMPRESS_FROM_BYTES, fingerprint
from app.core.pagination import DEFAULT_LIMIT, decode_cursor, next_cursor
from app.core.security import PROVINCE_SCOPED_ROLES, hash_key
from app.innovations import repository
from app.models.innovation import Innovation

# isort: split
# --- The service's statements ------------------------------------------------------------------
# The app's own SQL, so that both apps run the same statements. When the app renames or moves
# one of these, this block is the one place in bench/ to change.
from app.core.idempotency_repository import CLAIM, SAVE
from app.core.keys_repository import AUTHENTICATE
from app.replication.repository import INGEST, LOCK_BATCH

if TYPE_CHECKING:
    from tests.harness import Service

APPLICATION_NAME = "inovasi-baseline"
API = "/api/v1"
REPORTS = API + "/commitments/{commitment_id}/progress-reports"
RELEVANCE = "relevance"


class Statement:
    """A SQLAlchemy statement compiled once for asyncpg: its SQL, and its arguments from named
    values (a parameter not given keeps the value the statement was built with).
    `planned_per_call`: planned for each call's values, as the service runs a filtered list."""

    def __init__(self, stmt: Any, *, planned_per_call: bool = False) -> None:
        self.compiled = stmt.compile(dialect=asyncpg_dialect.dialect())
        self.sql = str(self.compiled)
        self.planned_per_call = planned_per_call

    def args(self, values: Mapping[str, Any]) -> list[Any]:
        params = self.compiled.construct_params(dict(values))
        return [params[name] for name in self.compiled.positiontup or ()]

    async def fetch(self, db: Any, values: Mapping[str, Any]) -> list[asyncpg.Record]:
        """Its rows on `db`, a connection or a pool."""
        if not self.planned_per_call:
            return await db.fetch(self.sql, *self.args(values))
        async with db.acquire() as conn:
            statement = await conn.prepare(self.sql)  # unnamed: planned for these values
            return await statement.fetch(*self.args(values))


AUTHENTICATE_KEY = Statement(AUTHENTICATE)
CLAIM_KEY = Statement(CLAIM)
SAVE_RESPONSE = Statement(SAVE)
LOCK_COMMITMENTS = Statement(LOCK_BATCH)
INGEST_REPORTS = Statement(INGEST)
READ_BY_ID = Statement(repository.read_model().where(Innovation.id == bindparam("innovation_id")))
# What a response never shows: the columns the model defers (search vector, folded title),
# and a page's sort keys (`_k0`, `_k1`, …).
HIDDEN = frozenset(p.key for p in Innovation.__mapper__.column_attrs if p.deferred)
# A list page's statement per shape (the filters given, the sort, a cursor or not), as the
# service's `repository.list_page` keeps them.
PAGES: dict[tuple[Any, ...], Statement] = {}
# The bulk_ingest twin's one statement of its own: the transaction's time (the reports'
# `created_at`) and the provinces of the commitments (their events' `province_code`).
BATCH_LOOKUP = """
SELECT now() AS created_at, array_agg(id::text) AS ids,
       array_agg(adopter_province_code) AS provinces
FROM commitments WHERE id = ANY($1::uuid[])"""
# What a report the scenarios send leaves out, filled in as the service's schema does.
REPORT_DEFAULTS = {
    "item_updates": [], "narrative": "", "obstacles": "", "evidence_urls": [], "reported_by": "",
}  # fmt: skip


def _plain(value: Any) -> Any:
    """JSON for the values asyncpg gives beyond JSON's own: dates, times, numerics, UUIDs."""
    if isinstance(value, date):  # datetimes too
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return str(value)


_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_plain)


def dumps(value: Any) -> bytes:
    return _encoder.encode(value).encode()


def _json(content: bytes, status: int = 200, **headers: str) -> Response:
    return Response(content, status, headers, media_type="application/json")


def _innovation(row: Mapping[str, Any]) -> dict[str, Any]:
    """A read-model row as JSON: every column a response may show."""
    return {k: v for k, v in row.items() if k not in HIDDEN and not k.startswith("_k")}


async def read_by_id(request: Request) -> Response:
    innovation_id = uuid.UUID(request.path_params["innovation_id"])
    # The scenarios read published innovations only: no 404 here.
    [row] = await READ_BY_ID.fetch(request.app.state.pool, {"innovation_id": innovation_id})
    return _json(dumps(_innovation(row)), etag=f'"{row["version"]}"')


async def list_innovations(request: Request) -> Response:
    """A page of the list by province, sector, digital or search word, a sort and a cursor."""
    query = request.query_params
    given = {name: query.get(name) for name in ("province", "sector", "q")}
    digital = None if query.get("digital") is None else query["digital"] == "true"
    filters = repository.Filters(**given, digital=digital, published_only=True)
    sort = query.get("sort") or (RELEVANCE if filters.q else "-launched_on")
    if sort == RELEVANCE:
        keys, cursor_name = repository.relevance_sort(filters.q or ""), f"{RELEVANCE}:{filters.q}"
    else:
        keys, cursor_name = repository.SORTS[sort], sort
    cursor = query.get("cursor")
    after = decode_cursor(cursor, cursor_name, len(keys)) if cursor else None
    limit = int(query.get("limit", DEFAULT_LIMIT))
    params = repository.filter_params(filters)
    shape = (tuple(params), sort, after is not None)
    page = PAGES.get(shape)
    if page is None:
        ranked = repository.RANKED_MATCHES if sort == RELEVANCE else None
        limit_param = bindparam("limit", type_=Integer)
        stmt = repository.page_statement(filters, keys, after, limit_param, ranked_matches=ranked)
        page = PAGES[shape] = Statement(stmt, planned_per_call=bool(params))
    params["limit"] = limit + 1
    params.update({f"after_{n}": v for n, v in enumerate(after or ())})
    rows = await page.fetch(request.app.state.pool, params)
    sort_keys = [f"_k{n}" for n in range(len(keys))]
    next_page = next_cursor(rows, limit, cursor_name, lambda r: [r[k] for k in sort_keys])
    items = [_innovation(r) for r in rows[:limit]]
    return _json(dumps({"items": items, "next_cursor": next_page}))


def _report(raw: dict[str, Any], commitment_id: str) -> dict[str, Any]:
    """A report as the service stores it: defaults filled in, each item update with its
    progress and status (null when not given)."""
    updates = [
        {"item_id": u["item_id"], "progress": u.get("progress"), "status": u.get("status")}
        for u in raw.get("item_updates", ())
    ]
    return {**REPORT_DEFAULTS, **raw, "item_updates": updates, "commitment_id": commitment_id}


async def _authenticate(conn: asyncpg.Connection, request: Request) -> asyncpg.Record:
    """The request's API key (the scenarios send valid ones)."""
    token = request.headers.get("authorization", "").removeprefix("Bearer ")
    [principal] = await AUTHENTICATE_KEY.fetch(conn, {"key_hash": hash_key(token)})
    return principal


async def _claim(
    conn: asyncpg.Connection, request: Request, principal: asyncpg.Record, body: bytes
) -> dict[str, Any]:
    """Claim the request's Idempotency-Key as the service does (the scenarios send a new one
    each time: one claimed before is a 500)."""
    claim = {"principal_id": principal["id"], "key": request.headers["idempotency-key"]}
    values = {
        **claim,
        "ttl_hours": request.app.state.settings.idempotency_ttl_hours,
        "fingerprint": fingerprint(request.method, request.url.path, body),
    }
    if not await CLAIM_KEY.fetch(conn, values):
        raise RuntimeError(f"Idempotency-Key {claim['key']!r} was claimed before")
    return claim


async def _save(
    conn: asyncpg.Connection, claim: dict[str, Any], status: int, content: bytes, **headers: str
) -> None:
    """Store the JSON response under the claim, compressed from the service's size on."""
    headers = {"content-type": "application/json", **headers}
    compressed = len(content) >= COMPRESS_FROM_BYTES
    values = {**claim, "status": status, "headers": json.dumps(headers), "compressed": compressed}
    values["body"] = zlib.compress(content, 1) if compressed else content
    await SAVE_RESPONSE.fetch(conn, values)


async def report_post(request: Request) -> Response:
    commitment_id = str(uuid.UUID(request.path_params["commitment_id"]))
    body = await request.body()
    doc = _report(json.loads(body), commitment_id)
    location = REPORTS.format(commitment_id=commitment_id)
    async with request.app.state.pool.acquire() as conn, conn.transaction():
        principal = await _authenticate(conn, request)
        claim = await _claim(conn, request, principal, body)
        locked = await LOCK_COMMITMENTS.fetch(conn, {"ids": [uuid.UUID(commitment_id)]})
        scoped = principal["role"] in PROVINCE_SCOPED_ROLES
        actor = {"actor_id": principal["id"], "actor_role": principal["role"]}
        values = {"reports": _encoder.encode([doc]), "row_ids": [r[0] for r in locked], **actor}
        values["province"] = principal["province_code"] if scoped else None
        [outcome] = await INGEST_REPORTS.fetch(conn, values)
        if outcome["ids"][0] is None:  # rolled back, where the service would answer a 4xx
            raise RuntimeError(f"report refused: {outcome['problems'][0]}")
        content = dumps({"id": outcome["ids"][0], **doc, "created_at": outcome["created_at"]})
        await _save(conn, claim, 201, content, location=location)
    return _json(content, 201, location=location)


def _report_id(millis: str, ordinal: int) -> str:
    """An id of the service's form (see `_INGEST`): the transaction's milliseconds (12 hex
    digits), version 7, the report's place in the batch, the variant and random bits."""
    tail = f"{0x8000_0000_0000_0000 | random.getrandbits(62):016x}"
    return f"{millis[:8]}-{millis[8:]}-7{ordinal:03x}-{tail[:4]}-{tail[4:]}"


async def bulk_ingest(request: Request) -> Response:
    body = await request.body()
    reports = [_report(r, r["commitment_id"]) for r in json.loads(body)["reports"]]
    async with request.app.state.pool.acquire() as conn, conn.transaction():
        principal = await _authenticate(conn, request)
        claim = await _claim(conn, request, principal, body)
        lookup = await conn.fetchrow(BATCH_LOOKUP, list({r["commitment_id"] for r in reports}))
        provinces = dict(zip(lookup["ids"] or (), lookup["provinces"] or (), strict=True))
        created_at = lookup["created_at"]
        millis = f"{round(created_at.timestamp() * 1000):012x}"
        actor = principal["id"]
        event = {"actor_id": actor, "actor_role": principal["role"]}
        event |= {"action": "progress_report.created", "entity": "progress_report"}
        rows, events, results = [], [], []
        for index, doc in enumerate(reports):
            report_id = _report_id(millis, index + 1)
            as_of, updates = date.fromisoformat(doc["as_of"]), _encoder.encode(doc["item_updates"])
            row = {**doc, "as_of": as_of, "item_updates": updates}
            rows.append({**row, "id": report_id, "reporter_key_id": actor})
            changes = {k: doc[k] for k in ("as_of", "commitment_id", "percent_complete")}
            where = {"entity_id": report_id, "province_code": provinces[doc["commitment_id"]]}
            events.append({**event, **where, "changes": _encoder.encode(changes)})
            report = {"id": report_id, **doc, "created_at": created_at}
            results.append({"index": index, "status": 201, "report": report, "problem": None})
        for table, records in (("progress_reports", rows), ("events", events)):
            await conn.copy_records_to_table(
                table, records=[tuple(r.values()) for r in records], columns=list(records[0])
            )
        content = dumps({"accepted": len(rows), "rejected": 0, "results": results})
        await _save(conn, claim, 200, content)
    return _json(content)


async def readyz(request: Request) -> Response:
    return _json(b'{"status":"ok"}')


async def _connected(conn: asyncpg.Connection) -> None:
    # `json` values (a read model's awards and replications by status) decoded by the
    # driver, as the service's driver does.
    await conn.set_type_codec("json", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def _keep_state(conn: asyncpg.Connection) -> None:
    """No reset on release, as the service's read pool: each transaction here is closed by
    its own block, and nothing changes a session's state."""


def create_app() -> Starlette:
    settings = get_settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # The service's connection settings (`app.core.db`), on a pool as large as its own.
        app.state.settings = settings
        app.state.pool = await asyncpg.create_pool(
            **connect_kwargs(to_async_url(settings.database_url)),
            min_size=1,
            max_size=settings.db_pool_size + settings.db_max_overflow,
            max_inactive_connection_lifetime=1800,
            init=_connected,
            reset=_keep_state,
            timeout=settings.db_connect_timeout_s,
            command_timeout=settings.db_statement_timeout_ms / 1000 + 5,
            server_settings={
                "application_name": APPLICATION_NAME,
                "statement_timeout": str(settings.db_statement_timeout_ms),
                "lock_timeout": str(settings.db_lock_timeout_ms),
                "idle_in_transaction_session_timeout": str(
                    settings.db_idle_in_transaction_timeout_ms
                ),
                "timezone": "UTC",
            },
        )
        # The service's collector settings (app.main): both run under the same GC.
        gc.collect()
        gc.freeze()
        gc.set_threshold(50_000, 20, 10)
        try:
            yield
        finally:
            await app.state.pool.close()

    return Starlette(
        routes=[
            Route(f"{API}/innovations", list_innovations, methods=["GET"]),
            Route(f"{API}/innovations/{{innovation_id}}", read_by_id, methods=["GET"]),
            Route(REPORTS, report_post, methods=["POST"]),
            Route(f"{API}/progress-reports/batch", bulk_ingest, methods=["POST"]),
            Route("/readyz", readyz, methods=["GET"]),
        ],
        lifespan=lifespan,
    )


def serve_baseline(url: URL, workers: int = 1) -> contextlib.AbstractContextManager[Service]:
    """Run the baseline against `url` as `tests.harness.serve` runs the service."""
    from tests import harness

    return harness.serve(url, workers, command=("bench.baseline",))


def main() -> None:
    """Serve as `inovasi serve` does: uvicorn with its default loop and HTTP implementation,
    no access log, warnings only."""
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m bench.baseline")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    uvicorn.run(
        "bench.baseline:create_app",
        factory=True,
        host="127.0.0.1",
        port=args.port,
        workers=args.workers,
        log_config=None,
        log_level="warning",
        access_log=False,
        proxy_headers=False,
        timeout_graceful_shutdown=20,
    )


if __name__ == "__main__":
    main()
