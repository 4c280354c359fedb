"""The raw baseline the service is benchmarked against: the same SQL, the same JSON, without
the framework.

A Starlette app on a plain asyncpg pool that answers five of the service's operations:

- `read_by_id`  GET  /api/v1/innovations/{id}                      (anonymous; with its ETag)
- `list_keyset` GET  /api/v1/innovations?province=&sector=&status=&sort=&cursor=&limit=
- `search`      GET  /api/v1/innovations?q=…                       (relevance sort by default)
- `report_post` POST /api/v1/commitments/{id}/progress-reports     (API key, Idempotency-Key)
- `bulk_ingest` POST /api/v1/progress-reports/batch                (up to 500 reports)

The reads run the service's own SQLAlchemy statements (`app.innovations.repository`),
compiled once to asyncpg SQL text (positional `$n`) at start-up, or on the first request of
each filter combination, and executed with `pool.fetch` outside any transaction (as the
service's AUTOCOMMIT read sessions do). The bodies are built from the records with the
standard library's C JSON encoder and are byte for byte the service's (pydantic's formats of
dates, times and ids, its key order, nulls, compact separators). Cursors are made and read by
the service's own helpers (`app.core.pagination`), so that with the same SECRET_KEY a cursor
of one is valid on the other.

`report_post` runs the statements the service runs, in the same transaction and order: the
API key lookup by hash, the Idempotency-Key claim (or the stored response's replay), the
one ingest statement (which locks the commitment, checks it, inserts the report, updates
the items and the commitment and writes the events), the stored response, the commit.

`bulk_ingest` is the raw twin of the batch: the API key lookup and Idempotency-Key claim as
above, one statement that reads the transaction time and the commitments' provinces (which
also finds unknown commitments, refused like the service refuses them: their rows would break
the foreign key), then the reports and one `progress_report.created` event each written with
COPY (`copy_records_to_table`), the stored response and the commit, answered with the
service's envelope (counts and one result per report). Beyond parsing and that lookup it
checks nothing: not the key's province, a cancelled commitment, a date before the signing or
the items' commitment, and it applies no item updates, commitment changes or status
transitions. Its parse errors have the service's shape, not pydantic's wording; URLs are
stored as sent (pydantic normalises `https://host` to `https://host/`).

Only anonymous reads are served (a read with a key gets a 401 here).

    python -m bench.baseline --port P [--workers N]     # DATABASE_URL as the service takes it
    python -m bench.baseline --check                     # identity check on fresh demo data

`serve_baseline(url, workers)` runs it as `tests.harness.serve` runs the service;
bench/baseline_check.py compares the two.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import gc
import json
import os
import re
import signal
import subprocess
import sys
import uuid
import zlib
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from json import encoder as json_encoder
from typing import IO, TYPE_CHECKING, Any

import asyncpg
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect
from sqlalchemy.engine import URL
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.core.config import Settings, get_settings
from app.core.embedded import connect_kwargs, to_async_url
from app.core.errors import BadRequest
from app.core.idempotency import _CLAIM, _SAVE, _STORED, COMPRESS_FROM_BYTES, fingerprint
from app.core.pagination import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    decode_cursor,
    encode_cursor,
)
from app.core.security import _AUTHENTICATE, KEY_PREFIX, hash_key
from app.innovations import repository
from app.models.innovation import (
    COMPETITIONS,
    FORMS,
    SCALES,
    SECTORS,
    STAGES,
    STATUSES,
    TIERS,
    Innovation,
)
from app.models.replication import ITEM_STATUSES
from app.replication.repository import _INGEST, _LOCK_BATCH

if TYPE_CHECKING:
    from tests.harness import Service

APPLICATION_NAME = "inovasi-baseline"
API = "/api/v1"
TYPE_BASE = "https://inovasi.go.id/problems/"
REPORTER_ROLES = frozenset({"admin", "coordinator", "integration"})
SCOPED_ROLES = frozenset({"coordinator", "integration"})
RELEVANCE = "relevance"
SORTS = ("-launched_on", "title", "-updated_at", "-replications", RELEVANCE)
MAX_BATCH = 500

# --- JSON ------------------------------------------------------------------------------

# Compact, UTF-8 (non-ASCII characters as they are, control characters escaped as \u00XX or
# \n, \t, …): pydantic's JSON for every string the service stores.
_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False)


def _unencodable(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is not JSON")


# The C encoder, made once: JSONEncoder.encode makes a new one per call, which shows when a
# batch encodes a thousand small documents. (Its arguments: no circularity markers, the
# default hook, the string escaper of ensure_ascii=False, no indent, the separators, no key
# sorting, no skipped keys, NaN allowed; floats as repr(), as JSONEncoder writes them.)
_make_c_encoder: Any = getattr(json_encoder, "c_make_encoder", None)
_c_encoder = (
    _make_c_encoder(
        None, _unencodable, json_encoder.encode_basestring, None, ":", ",", False, False, True
    )
    if _make_c_encoder is not None
    else None
)


def _encode(value: Any) -> str:
    if _c_encoder is None:
        return _encoder.encode(value)
    return "".join(_c_encoder(value, 0))


def dumps(value: Any) -> bytes:
    return _encode(value).encode()


def _time(value: datetime) -> str:
    """pydantic's form of an aware datetime: ISO 8601, microseconds only when not zero,
    `Z` for UTC (asyncpg gives every timestamptz in UTC)."""
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _json_time(text: str) -> str:
    """pydantic's form of a timestamp that PostgreSQL wrote into JSON (`…15.4367+00:00`:
    trailing zeros of the fraction dropped)."""
    if len(text) == 32 and text.endswith("+00:00"):
        return text[:-6] + "Z"
    return _time(datetime.fromisoformat(text))


def _uuid(value: Any) -> str | None:
    return None if value is None else str(value)


def _awards(text: str) -> list[dict[str, Any]]:
    if text == "[]":
        return []
    return [
        {
            "created_at": _json_time(a["created_at"]),
            "updated_at": _json_time(a["updated_at"]),
            "version": a["version"],
            "id": a["id"],
            "innovation_id": a["innovation_id"],
            "competition": a["competition"],
            "year": a["year"],
            "tier": a["tier"],
            "decree_number": a["decree_number"],
        }
        for a in json.loads(text)
    ]


# The key order of InnovationRead (its Record fields first); checked against the model.
INNOVATION_KEYS = (
    "created_at",
    "updated_at",
    "version",
    "id",
    "title",
    "summary",
    "problem",
    "approach",
    "outcomes",
    "sector",
    "form",
    "digital",
    "initiator",
    "stage",
    "launched_on",
    "institution",
    "region_code",
    "province_code",
    "replica_of_id",
    "status",
    "scale",
    "tags",
    "evidence_urls",
    "replications",
    "replications_by_status",
    "provinces_reached",
    "latest_verdict",
    "latest_score",
    "awards",
)
AWARD_KEYS = (
    "created_at",
    "updated_at",
    "version",
    "id",
    "innovation_id",
    "competition",
    "year",
    "tier",
    "decree_number",
)
REPORT_KEYS = (
    "id",
    "commitment_id",
    "as_of",
    "percent_complete",
    "item_updates",
    "narrative",
    "obstacles",
    "evidence_urls",
    "reported_by",
    "created_at",
)
BATCH_REPORT_KEYS = (
    "as_of",
    "percent_complete",
    "item_updates",
    "narrative",
    "obstacles",
    "evidence_urls",
    "reported_by",
    "commitment_id",
)


def _innovation(r: asyncpg.Record) -> dict[str, Any]:
    """InnovationRead of a `repository.read_model()` record, as JSON-ready values."""
    launched_on = r["launched_on"]
    score = r["latest_score"]
    by_status = r["replications_by_status"]
    return {
        "created_at": _time(r["created_at"]),
        "updated_at": _time(r["updated_at"]),
        "version": r["version"],
        "id": str(r["id"]),
        "title": r["title"],
        "summary": r["summary"],
        "problem": r["problem"],
        "approach": r["approach"],
        "outcomes": r["outcomes"],
        "sector": r["sector"],
        "form": r["form"],
        "digital": r["digital"],
        "initiator": r["initiator"],
        "stage": r["stage"],
        "launched_on": None if launched_on is None else launched_on.isoformat(),
        "institution": {
            "id": str(r["institution_id"]),
            "name": r["institution_name"],
            "kind": r["institution_kind"],
        },
        "region_code": r["region_code"],
        "province_code": r["province_code"],
        "replica_of_id": _uuid(r["replica_of_id"]),
        "status": r["status"],
        "scale": r["scale"],
        "tags": r["tags"],
        "evidence_urls": r["evidence_urls"],
        "replications": r["replication_count"],
        "replications_by_status": {} if by_status == "{}" else json.loads(by_status),
        "provinces_reached": r["provinces_reached"],
        "latest_verdict": r["latest_verdict"],
        # numeric(5, 2) from 0 to 100: repr() never needs an exponent, where it and
        # pydantic would differ (1e-07 and 1e-7).
        "latest_score": None if score is None else float(score),
        "awards": _awards(r["awards"]),
    }


def check_shapes() -> None:
    """The key orders above are the response models' (run at start-up: a changed model
    stops the baseline rather than make it answer differently)."""
    from app.innovations.schemas import AwardRead, InnovationRead
    from app.replication.schemas import BatchReport, ProgressReportRead

    for keys, model in (
        (INNOVATION_KEYS, InnovationRead),
        (AWARD_KEYS, AwardRead),
        (REPORT_KEYS, ProgressReportRead),
        (BATCH_REPORT_KEYS, BatchReport),
    ):
        if tuple(model.model_fields) != keys:
            raise RuntimeError(f"{model.__name__} has changed: {tuple(model.model_fields)}")


# --- Statements ------------------------------------------------------------------------

_DIALECT = asyncpg_dialect.dialect()  # type: ignore[no-untyped-call]
_CONST, _SLOT, _LIKE = 0, 1, 2
# The page size's stand-in while a statement is compiled (found again by its value).
_LIMIT_SLOT = 987_654_321


class _Token(str):
    """A string filter's stand-in while a statement is compiled: found again by identity,
    or by its text where SQLAlchemy copied it."""


@dataclass(frozen=True, slots=True)
class Statement:
    """SQL text with positional parameters, and where each parameter's value comes from:
    a constant of the statement, a request value, or a request value LIKE-escaped."""

    sql: str
    plan: tuple[tuple[int, Any], ...]
    # Run as an unnamed statement, planned for each call's values (a search; see the
    # service's `CompiledQuery`).
    planned_per_call: bool = False

    async def fetch(self, pool: asyncpg.Pool, values: Mapping[str, Any]) -> list[asyncpg.Record]:
        if not self.planned_per_call:
            return await pool.fetch(self.sql, *self.args(values))  # type: ignore[no-any-return]
        async with pool.acquire() as conn:
            statement = await conn.prepare(self.sql)
            return await statement.fetch(*self.args(values))  # type: ignore[no-any-return]

    def args(self, values: Mapping[str, Any]) -> list[Any]:
        out = []
        for kind, what in self.plan:
            if kind == _CONST:
                out.append(what)
            elif kind == _SLOT:
                out.append(values[what])
            else:
                text = values[what]
                escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                out.append(f"%{escaped}%")
        return out


def compile_text(stmt: Any) -> Statement:
    """A `text()` statement compiled for asyncpg: each parameter is a request value of its
    own name."""
    compiled = stmt.compile(dialect=_DIALECT)
    return Statement(compiled.string, tuple((_SLOT, key) for key in compiled.positiontup))


def compile_statement(stmt: Any, slots: Mapping[str, object] | None = None) -> Statement:
    """`stmt` compiled for asyncpg. `slots` maps request value names to the stand-ins the
    statement was built with; every other parameter is a constant of the statement."""
    slots = slots or {}
    compiled = stmt.compile(dialect=_DIALECT)
    params = compiled.construct_params()
    by_id = {id(v): name for name, v in slots.items()}
    by_text = {v: name for name, v in slots.items() if isinstance(v, str)}
    processors = getattr(compiled, "_bind_processors", {})
    plan: list[tuple[int, Any]] = []
    used = set()
    for key in compiled.positiontup or ():
        value = params[key]
        if id(value) in by_id or (isinstance(value, str) and value in by_text):
            name = by_id.get(id(value)) or by_text[value]
            entry: tuple[int, Any] = (_SLOT, name)
        elif (
            isinstance(value, str)
            and value.startswith("%")
            and value.endswith("%")
            and value[1:-1] in by_text
        ):
            name = by_text[value[1:-1]]
            entry = (_LIKE, name)  # `contains()`: ILIKE '%…%' with the wildcards escaped
        elif type(value) is int and value == _LIMIT_SLOT:
            name = "limit"
            entry = (_SLOT, name)
        elif isinstance(value, str) and any(t in value for t in by_text):
            raise RuntimeError(f"parameter {key} transforms a request value: {value!r}")
        else:
            plan.append((_CONST, value))
            continue
        processor = processors.get(key)
        if processor is not None and not (processor(True) is True and processor(False) is False):
            raise RuntimeError(f"parameter {key} would need SQLAlchemy's bind processing")
        used.add(name)
        plan.append(entry)
    missing = set(slots) - used
    if missing:
        raise RuntimeError(f"unused slots {missing}")
    return Statement(compiled.string, tuple(plan))


# Query parameter → (Filters field, parser). Enumerations from the models' own tuples.
def _enum_message(values: Sequence[str]) -> str:
    quoted = [f"'{v}'" for v in values]
    return "Input should be " + ", ".join(quoted[:-1]) + f" or {quoted[-1]}"


def _enum(values: Sequence[str]) -> Callable[[str], str]:
    allowed = frozenset(values)
    message = _enum_message(values)

    def parse(text: str) -> str:
        if text not in allowed:
            raise ValueError(message)
        return text

    return parse


def _pattern(regex: str) -> Callable[[str], str]:
    compiled = re.compile(regex)

    def parse(text: str) -> str:
        if not compiled.match(text):
            raise ValueError(f"String should match pattern '{regex}'")
        return text

    return parse


_TRUE = frozenset({"1", "on", "t", "true", "y", "yes"})
_FALSE = frozenset({"0", "off", "f", "false", "n", "no"})


def _bool(text: str) -> bool:
    lowered = text.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError("Input should be a valid boolean, unable to interpret input")


def _int_between(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise ValueError(
                "Input should be a valid integer, unable to parse string as an integer"
            ) from None
        if value < low:
            raise ValueError(f"Input should be greater than or equal to {low}")
        if value > high:
            raise ValueError(f"Input should be less than or equal to {high}")
        return value

    return parse


_UUID_SHAPE = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)


def _id(text: str) -> uuid.UUID:
    return uuid.UUID(_id_text(text))


def _id_text(text: str) -> str:
    """An id in pydantic's form of a UUID (lower case), if written 8-4-4-4-12."""
    if not _UUID_SHAPE.match(text):
        raise ValueError("Input should be a UUID written 8-4-4-4-12")
    return text.lower()


def _date(text: str) -> date:
    try:
        if len(text) != 10:
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError("Input should be a date in the format YYYY-MM-DD") from None


_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")


def _search(text: str) -> str:
    if not text:
        raise ValueError("String should have at least 1 character")
    if len(text) > 200:
        raise ValueError("String should have at most 200 characters")
    if _BAD_TEXT.search(text):
        raise ValueError("Value error, Text may not contain NUL bytes or unpaired surrogates.")
    return text


FILTER_PARAMS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "sector": ("sector", _enum(SECTORS)),
    "form": ("form", _enum(FORMS)),
    "digital": ("digital", _bool),
    "stage": ("stage", _enum(STAGES)),
    "status": ("status", _enum(STATUSES)),
    "scale": ("scale", _enum(SCALES)),
    "institution": ("institution_id", _id),
    "province": ("province", _pattern(r"^\d{2}$")),
    "region": ("region", _pattern(r"^\d{2}(\.\d{2})?$")),
    "award_competition": ("award_competition", _enum(COMPETITIONS)),
    "award_tier": ("award_tier", _enum(TIERS)),
    "award_year": ("award_year", _int_between(1990, 2100)),
    "launched_from": ("launched_from", _date),
    "launched_to": ("launched_to", _date),
    "q": ("q", _search),
}
_FIELD_ORDER = {name: n for n, name in enumerate(repository.Filters.__dataclass_fields__)}
_STRING_FIELDS = frozenset(
    {"sector", "form", "stage", "status", "scale", "province", "region"}
    | {"award_competition", "award_tier", "q"}
)
LIST_PARAMS = frozenset(FILTER_PARAMS) | {"sort", "cursor", "limit", "include_total"}
_CURSOR = re.compile(r"^[A-Za-z0-9_\-]+$")


@dataclass(frozen=True, slots=True)
class ListShape:
    """What a list statement's text depends on: which filters are given (and whether the
    region is a province), the sort, and whether a cursor resumes it."""

    filters: tuple[str, ...]
    province_region: bool
    sort: str
    after: bool


def _list_statements(shape: ListShape) -> tuple[Statement, Statement]:
    """The page statement of `repository.list_page` and the count of `repository.count`,
    built from the repository's own clauses for this combination of filters."""
    slots: dict[str, object] = {}
    for n, name in enumerate(shape.filters):
        if name == "region":
            slots[name] = _Token("\x01\x02" if shape.province_region else "\x01\x02\x03\x04\x01")
        elif name in _STRING_FIELDS:
            slots[name] = _Token(f"\x01{chr(0x41 + n)}\x01")
        else:
            slots[name] = object()
    filters = repository.Filters(**slots, published_only=True)  # type: ignore[arg-type]
    where = repository.where_clauses(filters)
    if shape.sort == RELEVANCE:
        keys = repository.relevance_sort(slots["q"])  # type: ignore[arg-type]
    else:
        keys = repository.SORTS[shape.sort]
    page_slots = dict(slots)
    after = None
    if shape.after:
        after = [object() for _ in keys]
        page_slots |= {f"_after{n}": v for n, v in enumerate(after)}
    ranked = repository.RANKED_MATCHES if shape.sort == RELEVANCE else None
    stmt = repository.page_statement(filters, keys, after, _LIMIT_SLOT, ranked_matches=ranked)
    page = compile_statement(stmt, page_slots)
    if slots:  # as the service: planned per call whenever a filter selects
        page = dataclasses.replace(page, planned_per_call=True)
    count = compile_statement(select(func.count()).select_from(Innovation).where(*where), slots)
    return page, count


class Statements:
    """Every statement, compiled at start-up or on a list shape's first request."""

    def __init__(self) -> None:
        slot = object()
        self.read_by_id = compile_statement(
            repository.read_model().where(Innovation.id == slot), {"id": slot}
        )
        self.authenticate = compile_text(_AUTHENTICATE)
        self.claim = compile_text(_CLAIM)
        self.stored = compile_text(_STORED)
        self.save = compile_text(_SAVE)
        self.lock_batch = compile_text(_LOCK_BATCH)
        self.ingest = compile_text(_INGEST)
        self.lists: dict[ListShape, tuple[Statement, Statement]] = {}
        for sort in SORTS[:-1]:
            for after in (False, True):
                self.list(ListShape((), False, sort, after))

    def list(self, shape: ListShape) -> tuple[Statement, Statement]:
        found = self.lists.get(shape)
        if found is None:
            found = self.lists[shape] = _list_statements(shape)
        return found


# The batch twin's own statement: the transaction's time and the commitments' provinces.
BATCH_LOOKUP = """
SELECT now() AS created_at,
       array_agg(c.id::text) AS ids,
       array_agg(c.adopter_province_code) AS provinces
FROM commitments c
WHERE c.id = ANY($1::uuid[])
"""
REPORT_COLUMNS = (
    "id",
    "commitment_id",
    "as_of",
    "percent_complete",
    "item_updates",
    "narrative",
    "obstacles",
    "evidence_urls",
    "reported_by",
    "reporter_key_id",
)
EVENT_COLUMNS = (
    "actor_id",
    "actor_role",
    "action",
    "entity",
    "entity_id",
    "province_code",
    "changes",
)

# --- Responses -------------------------------------------------------------------------

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._\-]{1,64}$")
_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    422: "Unprocessable Content",
    503: "Service Unavailable",
}
REQUEST_INVALID = "The request is not valid: see `errors`."


def _request_id(request: Request) -> str:
    supplied = request.headers.get("x-request-id", "")
    return supplied if _REQUEST_ID.match(supplied) else uuid.uuid4().hex


def _json(body: bytes, request_id: str, status: int = 200, **headers: str) -> Response:
    return Response(
        body,
        status_code=status,
        media_type="application/json",
        headers={**headers, "x-request-id": request_id},
    )


class Problem(Exception):
    """A problem document (the service's shape), raised to end a request (and roll back)."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        errors: list[dict[str, str]] | None = None,
        allowed: list[str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail
        self.errors, self.allowed, self.headers = errors, allowed, headers or {}

    def document(self, instance: str, request_id: str | None) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "type": TYPE_BASE + self.code,
            "title": _TITLES[self.status],
            "status": self.status,
            "detail": self.detail,
            "instance": instance,
            "code": self.code,
        }
        if self.errors:
            doc["errors"] = self.errors
        if self.allowed is not None:
            doc["allowed"] = self.allowed
        if request_id is not None:
            doc["request_id"] = request_id
        return doc

    def response(self, request: Request, request_id: str) -> Response:
        return Response(
            dumps(self.document(request.url.path, request_id)),
            status_code=self.status,
            media_type="application/problem+json",
            headers={**self.headers, "x-request-id": request_id},
        )


def _invalid(errors: list[dict[str, str]]) -> Problem:
    return Problem(422, "validation_error", REQUEST_INVALID, errors)


def _field_error(pointer: str, detail: str) -> Problem:
    return Problem(422, "validation_error", detail, [{"pointer": pointer, "detail": detail}])


class Replayed(Exception):
    """The stored response of an Idempotency-Key: the transaction is abandoned."""

    def __init__(self, response: Response) -> None:
        super().__init__("replay")
        self.response = response


# --- Reads -----------------------------------------------------------------------------


def _state(request: Request) -> tuple[asyncpg.Pool, Statements]:
    return request.app.state.pool, request.app.state.statements


async def read_by_id(request: Request) -> Response:
    request_id = _request_id(request)
    try:
        if request.headers.get("authorization"):
            raise Problem(401, "unauthorized", "The baseline serves anonymous reads only.")
        raw = request.path_params["innovation_id"]
        if not _UUID_SHAPE.match(raw):
            raise Problem(404, "not_found", "Not Found")
        innovation_id = uuid.UUID(raw)
        pool, statements = _state(request)
        stmt = statements.read_by_id
        rows = await pool.fetch(stmt.sql, *stmt.args({"id": innovation_id}))
        if not rows or rows[0]["status"] != "published":
            raise Problem(404, "not_found", f"Innovation {innovation_id} does not exist.")
        row = rows[0]
        return _json(dumps(_innovation(row)), request_id, etag=f'"{row["version"]}"')
    except Problem as problem:
        return problem.response(request, request_id)


def _query(request: Request) -> dict[str, str]:
    """The query parameters, refused as the service refuses them: unknown ones, then
    repeated ones, then values of the wrong form."""
    items = request.query_params.multi_items()
    names = [name for name, _ in items]
    unknown = sorted({n for n in names if n not in LIST_PARAMS})
    if unknown:
        raise Problem(
            422,
            "validation_error",
            "Unknown query parameter.",
            [
                {"pointer": f"/query/{n}", "detail": "This operation takes no such parameter."}
                for n in unknown
            ],
        )
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise Problem(
            422,
            "validation_error",
            "A query parameter was given more than once.",
            [{"pointer": f"/query/{n}", "detail": "Give it once."} for n in repeated],
        )
    return dict(items)


async def list_innovations(request: Request) -> Response:
    request_id = _request_id(request)
    try:
        if request.headers.get("authorization"):
            raise Problem(401, "unauthorized", "The baseline serves anonymous reads only.")
        query = _query(request)
        values: dict[str, Any] = {}
        errors = []
        for name, text in query.items():
            spec = FILTER_PARAMS.get(name)
            if spec is None:
                continue
            try:
                values[spec[0]] = spec[1](text)
            except ValueError as exc:
                errors.append({"pointer": f"/query/{name}", "detail": str(exc)})
        sort = query.get("sort")
        if sort is not None and sort not in SORTS:
            errors.append({"pointer": "/query/sort", "detail": _enum_message(SORTS)})
        limit = DEFAULT_LIMIT
        if "limit" in query:
            try:
                limit = _int_between(1, MAX_LIMIT)(query["limit"])
            except ValueError as exc:
                errors.append({"pointer": "/query/limit", "detail": str(exc)})
        include_total = False
        if "include_total" in query:
            try:
                include_total = _bool(query["include_total"])
            except ValueError as exc:
                errors.append({"pointer": "/query/include_total", "detail": str(exc)})
        cursor = query.get("cursor")
        if cursor is not None and (len(cursor) > 1000 or not _CURSOR.match(cursor)):
            errors.append(
                {
                    "pointer": "/query/cursor",
                    "detail": "String should match pattern '^[A-Za-z0-9_\\-]+$'",
                }
            )
        if errors:
            raise _invalid(errors)
        q = values.get("q")
        sort = sort or (RELEVANCE if q else "-launched_on")
        if sort == RELEVANCE and not q:
            raise _field_error("/query/sort", "Sorting by relevance needs a search query `q`.")
        cursor_name = f"{RELEVANCE}:{q}" if sort == RELEVANCE else sort
        arity = 2  # every sort is (key, id)
        if cursor is not None:
            try:
                after = decode_cursor(cursor, cursor_name, arity)
            except BadRequest as exc:
                raise Problem(400, exc.code, exc.detail) from None
            values |= {f"_after{n}": v for n, v in enumerate(after)}
        region = values.get("region")
        shape = ListShape(
            tuple(sorted((k for k in values if k in _FIELD_ORDER), key=_FIELD_ORDER.__getitem__)),
            region is not None and len(region) == 2,
            sort,
            cursor is not None,
        )
        pool, statements = _state(request)
        page, count = statements.list(shape)
        values["limit"] = limit + 1
        rows = await page.fetch(pool, values)
        next_cursor = None
        if len(rows) > limit:
            last = rows[limit - 1]
            next_cursor = encode_cursor(cursor_name, [last["_k0"], last["_k1"]])
        body: dict[str, Any] = {
            "items": [_innovation(r) for r in rows[:limit]],
            "next_cursor": next_cursor,
        }
        if include_total:
            body["total"] = await pool.fetchval(count.sql, *count.args(values))
        return _json(dumps(body), request_id)
    except Problem as problem:
        return problem.response(request, request_id)


async def readyz(request: Request) -> Response:
    pool: asyncpg.Pool = request.app.state.pool
    try:
        async with asyncio.timeout(1.0):
            await pool.fetchval("SELECT 1")
    except Exception:  # any failure to reach the database means "not ready"
        return Response(b'{"status":"unavailable"}', 503, media_type="application/json")
    return Response(b'{"status":"ok"}', media_type="application/json")


# --- Writes ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Principal:
    id: uuid.UUID
    role: str
    province_code: str | None


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization")
    scheme, _, token = (header or "").partition(" ")
    if not header or scheme.lower() != "bearer" or not token:
        raise Problem(
            401,
            "unauthorized",
            "A valid API key is required.",
            headers={"WWW-Authenticate": 'Bearer realm="inovasi-hub"'},
        )
    return token


async def _principal(conn: asyncpg.Connection, statements: Statements, token: str) -> Principal:
    unauthorized = Problem(
        401,
        "unauthorized",
        "A valid API key is required.",
        headers={"WWW-Authenticate": 'Bearer realm="inovasi-hub"'},
    )
    if not token.startswith(KEY_PREFIX) or len(token) > 200:
        raise unauthorized
    stmt = statements.authenticate
    row = await conn.fetchrow(stmt.sql, *stmt.args({"key_hash": hash_key(token)}))
    if row is None:
        raise unauthorized
    if row["role"] not in REPORTER_ROLES:
        raise Problem(403, "role_not_allowed", f"The role '{row['role']}' may not do this.")
    return Principal(row["id"], row["role"], row["province_code"])


_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


def _idempotency_key(request: Request, principal: Principal) -> str | None:
    key = request.headers.get("idempotency-key")
    if key is None:
        if principal.role == "integration":
            raise Problem(
                400,
                "idempotency_key_required",
                "Integration keys must send an Idempotency-Key header on this POST.",
            )
        return None
    if not _IDEMPOTENCY_KEY.match(key):
        raise _invalid(
            [
                {
                    "pointer": "/header/Idempotency-Key",
                    "detail": "String should match pattern '^[\\x21-\\x7e]+$'",
                }
            ]
        )
    return key


async def _claim(
    conn: asyncpg.Connection,
    statements: Statements,
    request: Request,
    principal: Principal,
    key: str,
    body: bytes,
    request_id: str,
) -> None:
    """Claim the Idempotency-Key (the service's statements), or replay its stored response."""
    params = {
        "principal_id": principal.id,
        "key": key,
        "ttl_hours": request.app.state.settings.idempotency_ttl_hours,
        "fingerprint": fingerprint(request.method, request.url.path, body),
    }
    try:
        claimed = await conn.fetchrow(statements.claim.sql, *statements.claim.args(params))
    except asyncpg.LockNotAvailableError:
        raise Problem(
            409,
            "idempotency_in_flight",
            "A request with this Idempotency-Key is still being processed.",
        ) from None
    if claimed is not None:
        return
    stored = await conn.fetchrow(statements.stored.sql, *statements.stored.args(params))
    if stored["fingerprint"] != params["fingerprint"]:
        raise Problem(
            422, "idempotency_key_reused", "This Idempotency-Key was used with a different request."
        )
    content = stored["response_body"]
    if stored["response_compressed"]:
        content = zlib.decompress(content)
    headers = json.loads(stored["response_headers"] or "{}")
    raise Replayed(
        Response(
            content,
            status_code=stored["response_status"],
            headers={**headers, "Idempotent-Replayed": "true", "x-request-id": request_id},
        )
    )


async def _save(
    conn: asyncpg.Connection,
    statements: Statements,
    principal: Principal,
    key: str | None,
    status: int,
    headers: dict[str, str],
    body: bytes,
) -> None:
    if key is None:
        return
    compressed = len(body) >= COMPRESS_FROM_BYTES
    params = {
        "principal_id": principal.id,
        "key": key,
        "status": status,
        "headers": json.dumps(headers),
        "body": zlib.compress(body, 1) if compressed else body,
        "compressed": compressed,
    }
    await conn.execute(statements.save.sql, *statements.save.args(params))


class _ReportError(Exception):
    def __init__(self, errors: list[tuple[str, str]]) -> None:
        super().__init__("invalid report")
        self.errors = errors


def _text(raw: Mapping[str, Any], name: str, errors: list[tuple[str, str]]) -> str:
    value = raw.get(name, "")
    if not isinstance(value, str):
        errors.append((name, "Input should be a valid string"))
        return ""
    return value


def _percent(value: Any) -> bool:
    return type(value) is int and 0 <= value <= 100


def report_doc(raw: Any, commitment_id: Any) -> tuple[dict[str, Any], date]:
    """A report's JSON document in BatchReport's shape (defaults filled in, ids and dates in
    canonical form) and its date. Parsing only: `_ReportError` lists the fields that do not
    parse as their types."""
    if not isinstance(raw, dict):
        raise _ReportError([("", "Input should be a valid dictionary")])
    errors: list[tuple[str, str]] = []
    as_of_date = date.min
    as_of = raw.get("as_of")
    if as_of is None:
        errors.append(("as_of", "Field required"))
    else:
        try:
            as_of_date = _date(as_of) if isinstance(as_of, str) else _date("")
        except ValueError:
            errors.append(("as_of", "Input should be a valid date"))
    percent = raw.get("percent_complete")
    if percent is None:
        errors.append(("percent_complete", "Field required"))
    elif not _percent(percent):
        errors.append(("percent_complete", "Input should be an integer from 0 to 100"))
    items = []
    updates = raw.get("item_updates", [])
    if not isinstance(updates, list):
        errors.append(("item_updates", "Input should be a valid list"))
        updates = []
    for n, u in enumerate(updates):
        try:
            if not isinstance(u, dict) or not isinstance(u.get("item_id"), str):
                raise ValueError
            progress, status = u.get("progress"), u.get("status")
            if not (progress is None or _percent(progress)):
                raise ValueError
            if not (status is None or status in ITEM_STATUSES):
                raise ValueError
            items.append(
                {"item_id": _id_text(u["item_id"]), "progress": progress, "status": status}
            )
        except ValueError:
            errors.append((f"item_updates/{n}", "Input should be a valid item update"))
    urls = raw.get("evidence_urls", [])
    if not isinstance(urls, list) or not all(isinstance(u, str) for u in urls):
        errors.append(("evidence_urls", "Input should be a valid list of URLs"))
    narrative = _text(raw, "narrative", errors)
    obstacles = _text(raw, "obstacles", errors)
    reported_by = _text(raw, "reported_by", errors)
    if commitment_id is None:
        errors.append(("commitment_id", "Field required"))
    else:
        try:
            commitment_id = _id_text(commitment_id if isinstance(commitment_id, str) else "")
        except ValueError:
            errors.append(("commitment_id", "Input should be a valid UUID"))
    if errors:
        raise _ReportError(errors)
    doc = {
        "as_of": as_of,
        "percent_complete": percent,
        "item_updates": items,
        "narrative": narrative,
        "obstacles": obstacles,
        "evidence_urls": urls,
        "reported_by": reported_by,
        "commitment_id": commitment_id,
    }
    return doc, as_of_date


def _refusal(reason: str, principal: Principal, commitment_id: str, signed_on: Any) -> Problem:
    """The service's problem for a report its ingest statement refused."""
    if reason == "not_found":
        return Problem(404, "not_found", f"Commitment {commitment_id} does not exist.")
    if reason == "other_province":
        return Problem(
            403,
            "other_province",
            f"This key is limited to province {principal.province_code}; "
            "the commitment is not in it.",
        )
    if reason == "commitment_cancelled":
        return Problem(
            409, "commitment_cancelled", "The commitment is cancelled; it takes no more reports."
        )
    if reason == "before_signing":
        return _field_error(
            "/body/as_of", f"as_of is before the commitment was signed ({signed_on})."
        )
    n = reason.removeprefix("foreign_item:")
    return _field_error(
        f"/body/item_updates/{n}/item_id", "This item is not in the commitment's action plan."
    )


async def report_post(request: Request) -> Response:
    request_id = _request_id(request)
    pool, statements = _state(request)
    try:
        token = _bearer(request)
        body = await request.body()
        raw_commitment = request.path_params["commitment_id"]
        if not _UUID_SHAPE.match(raw_commitment):
            raise Problem(404, "not_found", "Not Found")
        commitment_id = str(uuid.UUID(raw_commitment))
        async with pool.acquire() as conn, conn.transaction():
            principal = await _principal(conn, statements, token)
            key = _idempotency_key(request, principal)
            if key is not None:
                await _claim(conn, statements, request, principal, key, body, request_id)
            try:
                raw = json.loads(body)
            except ValueError:
                raise _invalid([{"pointer": "/body", "detail": "JSON decode error"}]) from None
            if isinstance(raw, dict) and "commitment_id" in raw:
                raise _invalid([{"pointer": "/body/commitment_id", "detail": "Unknown field."}])
            try:
                doc, _ = report_doc(raw, commitment_id)
            except _ReportError as exc:
                raise _invalid(
                    [{"pointer": f"/body/{f}".rstrip("/"), "detail": d} for f, d in exc.errors]
                ) from None
            lock = statements.lock_batch
            locked = await conn.fetch(lock.sql, *lock.args({"ids": [commitment_id]}))
            stmt = statements.ingest
            outcome = await conn.fetchrow(
                stmt.sql,
                *stmt.args(
                    {
                        "reports": "[" + _encode(doc) + "]",
                        "row_ids": [r[0] for r in locked],
                        "province": principal.province_code
                        if principal.role in SCOPED_ROLES
                        else None,
                        "actor_id": principal.id,
                        "actor_role": principal.role,
                    }
                ),
            )
            if outcome["missed"]:
                raise RuntimeError(f"{outcome['missed']} updates found no row")
            report_id = outcome["ids"][0]
            if report_id is None:
                raise _refusal(
                    outcome["problems"][0], principal, commitment_id, outcome["signed_on"][0]
                )
            read = {
                "id": str(report_id),
                "commitment_id": commitment_id,
                **{k: doc[k] for k in REPORT_KEYS[2:-1]},
                "created_at": _time(outcome["created_at"]),
            }
            content = dumps(read)
            location = f"{API}/commitments/{commitment_id}/progress-reports"
            stored_headers = {"content-type": "application/json", "location": location}
            await _save(conn, statements, principal, key, 201, stored_headers, content)
        return _json(content, request_id, 201, location=location)
    except Problem as problem:
        return problem.response(request, request_id)
    except Replayed as replay:
        return replay.response


_VARIANT = 0x8000_0000_0000_0000  # RFC 9562 variant bits of the last 64 bits
_RANDOM = 0x3FFF_FFFF_FFFF_FFFF


def _uuid7(prefix: str, ordinal: int, random_bits: int) -> str:
    """The service's report ids (`_INGEST`): milliseconds (`prefix`, 12 hex digits),
    version 7, the report's position in the batch, the variant and random bits."""
    tail = f"{_VARIANT | (random_bits & _RANDOM):016x}"
    return f"{prefix[:8]}-{prefix[8:]}-7{ordinal:03x}-{tail[:4]}-{tail[4:]}"


def _rejected(index: int, problem: Problem, instance: str) -> str:
    doc = problem.document(instance, None)
    doc.setdefault("errors", None)
    doc.setdefault("allowed", None)
    doc["request_id"] = None
    return _encode({"index": index, "status": problem.status, "report": None, "problem": doc})


async def bulk_ingest(request: Request) -> Response:
    request_id = _request_id(request)
    pool, statements = _state(request)
    instance = request.url.path
    try:
        token = _bearer(request)
        body = await request.body()
        async with pool.acquire() as conn, conn.transaction():
            principal = await _principal(conn, statements, token)
            key = _idempotency_key(request, principal)
            if key is not None:
                await _claim(conn, statements, request, principal, key, body, request_id)
            try:
                raw = json.loads(body)
            except ValueError:
                raise _invalid([{"pointer": "/body", "detail": "JSON decode error"}]) from None
            reports = raw.get("reports") if isinstance(raw, dict) else None
            if not isinstance(reports, list) or not 1 <= len(reports) <= MAX_BATCH:
                raise _invalid(
                    [
                        {
                            "pointer": "/body/reports",
                            "detail": f"Input should be a list of 1 to {MAX_BATCH} reports",
                        }
                    ]
                )
            bad = [n for n, r in enumerate(reports) if not isinstance(r, dict)]
            if bad:
                raise _invalid(
                    [
                        {
                            "pointer": f"/body/reports/{n}",
                            "detail": "Input should be a valid dictionary",
                        }
                        for n in bad
                    ]
                )
            results: list[str] = [""] * len(reports)
            parsed: list[tuple[int, dict[str, Any], date]] = []
            for index, r in enumerate(reports):
                try:
                    doc, as_of = report_doc(r, r.get("commitment_id"))
                except _ReportError as exc:
                    errors = [
                        {"pointer": f"/body/reports/{index}/{f}".rstrip("/"), "detail": d}
                        for f, d in exc.errors
                    ]
                    problem = Problem(
                        422, "validation_error", "The report is not valid: see `errors`.", errors
                    )
                    results[index] = _rejected(index, problem, instance)
                    continue
                parsed.append((index, doc, as_of))
            lookup = await conn.fetchrow(
                BATCH_LOOKUP, list({doc["commitment_id"] for _, doc, _ in parsed})
            )
            created_at = lookup["created_at"]
            provinces = dict(zip(lookup["ids"] or (), lookup["provinces"] or (), strict=True))
            prefix = f"{round(created_at.timestamp() * 1000):012x}"
            randomness = os.urandom(8 * len(parsed))
            created = _time(created_at)
            rows, events = [], []
            actor, role = principal.id, principal.role
            ordinal = 0
            for index, doc, as_of in parsed:
                commitment = doc["commitment_id"]
                ordinal += 1  # the service numbers the parsed reports from 1
                if commitment not in provinces:
                    problem = Problem(404, "not_found", f"Commitment {commitment} does not exist.")
                    results[index] = _rejected(index, problem, instance)
                    continue
                bits = int.from_bytes(randomness[8 * ordinal - 8 : 8 * ordinal])
                report_id = _uuid7(prefix, ordinal, bits)
                text = _encode(doc)
                percent = doc["percent_complete"]
                rows.append(
                    (
                        report_id,
                        commitment,
                        as_of,
                        percent,
                        _encode(doc["item_updates"]) if doc["item_updates"] else "[]",
                        doc["narrative"],
                        doc["obstacles"],
                        doc["evidence_urls"],
                        doc["reported_by"],
                        actor,
                    )
                )
                # What the service's jsonb_build_object writes (the values are canonical).
                changes = (
                    f'{{"as_of":"{doc["as_of"]}","commitment_id":"{commitment}",'
                    f'"percent_complete":{percent}}}'
                )
                events.append(
                    (
                        actor,
                        role,
                        "progress_report.created",
                        "progress_report",
                        report_id,
                        provinces[commitment],
                        changes,
                    )
                )
                results[index] = (
                    f'{{"index":{index},"status":201,"report":{{"id":"{report_id}",'
                    f'{text[1:-1]},"created_at":"{created}"}},"problem":null}}'
                )
            if rows:
                await conn.copy_records_to_table(
                    "progress_reports", records=rows, columns=REPORT_COLUMNS
                )
                await conn.copy_records_to_table("events", records=events, columns=EVENT_COLUMNS)
            accepted = len(rows)
            content = (
                f'{{"accepted":{accepted},"rejected":{len(reports) - accepted},"results":['
                + ",".join(results)
                + "]}"
            ).encode()
            await _save(
                conn, statements, principal, key, 200, {"content-type": "application/json"}, content
            )
        return _json(content, request_id)
    except Problem as problem:
        return problem.response(request, request_id)
    except Replayed as replay:
        return replay.response


# --- Application -----------------------------------------------------------------------


def database_url() -> URL:
    configured = get_settings().database_url
    if not configured:
        raise RuntimeError("set DATABASE_URL (the baseline does not start a database)")
    return to_async_url(configured)


async def _keep_state(connection: asyncpg.Connection) -> None:
    """No reset on release, as the service's read pool: every transaction here is closed by
    its own block, and nothing changes session state."""


async def create_pool(url: URL, settings: Settings) -> asyncpg.Pool:
    """The service's connection settings (`app.core.db.create_engine`) on an asyncpg pool
    as large as the service's (pool size plus overflow), connected on demand as the
    service's are; BASELINE_POOL_MIN connections (default 1) are opened at start-up."""
    max_size = settings.db_pool_size + settings.db_max_overflow
    pool = await asyncpg.create_pool(
        **connect_kwargs(url),
        min_size=min(int(os.environ.get("BASELINE_POOL_MIN", "1")), max_size),
        max_size=max_size,
        max_inactive_connection_lifetime=1800,
        reset=_keep_state,
        timeout=settings.db_connect_timeout_s,
        command_timeout=settings.db_statement_timeout_ms / 1000 + 5,
        server_settings={
            "application_name": APPLICATION_NAME,
            "statement_timeout": str(settings.db_statement_timeout_ms),
            "lock_timeout": str(settings.db_lock_timeout_ms),
            "idle_in_transaction_session_timeout": str(settings.db_idle_in_transaction_timeout_ms),
            "timezone": "UTC",
        },
    )
    assert pool is not None
    return pool


def create_app() -> Starlette:
    settings = get_settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        check_shapes()
        app.state.settings = settings
        app.state.statements = Statements()
        app.state.pool = await create_pool(database_url(), settings)
        # The service's collector settings (app.main), so that both run under the same GC.
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
            Route(
                f"{API}/commitments/{{commitment_id}}/progress-reports",
                report_post,
                methods=["POST"],
            ),
            Route(f"{API}/progress-reports/batch", bulk_ingest, methods=["POST"]),
            Route("/readyz", readyz, methods=["GET"]),
        ],
        lifespan=lifespan,
    )


def run(host: str, port: int, workers: int) -> None:
    """Serve as `inovasi serve` does (app.cli.serve): uvicorn with its default loop and HTTP
    implementation (uvloop, httptools), no access log, warnings only."""
    import uvicorn

    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    uvicorn.run(
        "bench.baseline:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        log_level="warning",
        access_log=False,
        proxy_headers=False,
        timeout_graceful_shutdown=20,
    )


@contextlib.contextmanager
def serve_baseline(
    url: URL,
    workers: int = 1,
    env: dict[str, str] | None = None,
    stderr: IO[Any] | int = subprocess.DEVNULL,
) -> Iterator[Service]:
    """Run the baseline against `url`; yield its base URL (a `tests.harness.Service`, with
    `.proc` and `.pids`, the process and its workers); stop it with SIGTERM."""
    from tests import harness

    with harness.serve(url, workers, env, stderr, command=("bench.baseline",)) as base:
        yield base


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.baseline", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--check",
        action="store_true",
        help="build a demo database (BENCH_DATABASE_URL's server, else the embedded one), run "
        "the service and the baseline on it and compare their answers",
    )
    args = parser.parse_args(argv)
    if not args.check:
        run(args.host, args.port, args.workers)
        return 0
    from bench.baseline_check import run_check
    from bench.common import server_url

    differences = run_check(server_url(), f"bench_baseline_check_{os.getpid()}")
    for d in differences:
        print(d)
    print("identical" if not differences else f"{len(differences)} differences")
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
