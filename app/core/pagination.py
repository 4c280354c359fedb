"""Keyset pagination with opaque, signed cursors.

A cursor holds the sort key of the last row of a page (ties broken by id) and the sort it was
made for, signed with the service's secret so that a tampered cursor is a 400, not a surprise.
Pages never use OFFSET: the next page is `WHERE (sort key, id) > (last key, last id)`, which an
index serves at the same speed on the first page and the last.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, TypeVar
from uuid import UUID

from fastapi import Query
from sqlalchemy import ColumnElement, Select, and_, bindparam, false, or_, true, tuple_

from app.core.config import get_settings
from app.core.errors import BadRequest

DEFAULT_LIMIT = 50
MAX_LIMIT = 200

Limit = Annotated[
    int, Query(ge=1, le=MAX_LIMIT, description=f"Page size (default {DEFAULT_LIMIT}, max 200).")
]
Cursor = Annotated[
    str | None,
    Query(
        max_length=1000,
        pattern=r"^[A-Za-z0-9_\-]+$",
        description="Opaque cursor from the previous page's `next_cursor`.",
    ),
]
IncludeTotal = Annotated[
    bool, Query(description="Add `total`, the number of matching records (costs a COUNT).")
]


def _encode_value(value: Any) -> Any:
    if isinstance(value, UUID):
        return {"u": str(value)}
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    if isinstance(value, date):
        return {"d": value.isoformat()}
    return value


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        ((tag, raw),) = value.items()
        if tag == "u":
            return UUID(raw)
        if tag == "t":
            return datetime.fromisoformat(raw)
        if tag == "d":
            return date.fromisoformat(raw)
    return value


def _signature(payload: bytes) -> bytes:
    key = get_settings().secret_key.encode()
    return hmac.new(key, payload, hashlib.sha256).digest()[:12]


def encode_cursor(sort: str, values: Sequence[Any]) -> str:
    payload = json.dumps(
        {"s": sort, "v": [_encode_value(v) for v in values]}, separators=(",", ":")
    ).encode()
    return base64.urlsafe_b64encode(_signature(payload) + payload).rstrip(b"=").decode()


def next_cursor(
    rows: Sequence[Any], limit: int, sort: str, key: Callable[[Any], Sequence[Any]]
) -> str | None:
    """The cursor after a page fetched with `limit + 1` rows; None when it was the last."""
    return encode_cursor(sort, key(rows[limit - 1])) if len(rows) > limit else None


def decode_cursor(cursor: str, sort: str, arity: int) -> list[Any]:
    """The key values in `cursor`; 400 when it was altered or made for another sort."""
    invalid = BadRequest("The cursor is not valid for this list.", code="invalid_cursor")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        signature, payload = raw[:12], raw[12:]
        if not hmac.compare_digest(signature, _signature(payload)):
            raise invalid
        data = json.loads(payload)
        values = [_decode_value(v) for v in data["v"]]
    except BadRequest:
        raise
    except (ValueError, KeyError, TypeError) as exc:
        raise invalid from exc
    if data.get("s") != sort or len(values) != arity:
        raise invalid
    return values


@dataclass(frozen=True, slots=True)
class SortKey:
    """One column of a sort: `descending` flips the comparison."""

    column: Any  # a mapped attribute or any column expression
    descending: bool = False
    nullable: bool = False


def keyset_after(keys: Sequence[SortKey], values: Sequence[Any]) -> ColumnElement[bool]:
    """`WHERE` clause selecting rows strictly after `values` in the order of `keys`.

    When every key runs the same way and none is nullable this is one row comparison,
    `(a, b, id) > (x, y, z)`, which PostgreSQL serves as a single index range scan.
    Nullable keys sort NULLS LAST (what `order_by` emits). The values are the bind parameters
    `after_0`, `after_1`, … (what a `CompiledQuery` of the page takes).
    """
    params = [
        bindparam(f"after_{n}", v, type_=k.column.type)
        for n, (k, v) in enumerate(zip(keys, values, strict=True))
    ]
    directions = {k.descending for k in keys}
    if len(directions) == 1 and not any(k.nullable for k in keys):
        left = tuple_(*(k.column for k in keys))
        right = tuple_(*params)
        return left < right if keys[0].descending else left > right
    clause: ColumnElement[bool] | None = None
    for key, value, param in reversed(list(zip(keys, values, params, strict=True))):
        col = key.column
        if value is None:
            after: ColumnElement[bool] = false()
            equal: ColumnElement[bool] = col.is_(None)
        else:
            after = col < param if key.descending else col > param
            if key.nullable:
                after = or_(after, col.is_(None))
            equal = col == param
        clause = after if clause is None else or_(after, and_(equal, clause))
    return clause if clause is not None else true()


def order_by(keys: Sequence[SortKey]) -> list[Any]:
    out: list[Any] = []
    for key in keys:
        expr = key.column.desc() if key.descending else key.column.asc()
        out.append(expr.nulls_last() if key.nullable else expr)
    return out


Stmt = TypeVar("Stmt", bound=Select[*tuple[Any, ...]])


def keyset_page(
    stmt: Stmt, keys: Sequence[SortKey], after: Sequence[Any] | None, limit: int
) -> Stmt:
    """`stmt` in the order of `keys`, resumed after a cursor's values, cut to `limit` rows."""
    if after is not None:
        stmt = stmt.where(keyset_after(keys, after))
    return stmt.order_by(*order_by(keys)).limit(limit)
