"""Base schema and the constrained field types every request body uses.

Input hygiene lives here once: unknown fields are refused, strings may not carry NUL bytes or
lone surrogates (PostgreSQL cannot store them), lengths are bounded, URLs are http(s) only.
"""

from __future__ import annotations

import functools
import re
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from types import UnionType
from typing import Annotated, Any, Generic, TypeVar, Union, get_args, get_origin

import pydantic_core
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetPydanticSchema,
    StringConstraints,
    model_validator,
)
from pydantic_core import PydanticCustomError, core_schema

_BAD_CHARS = re.compile("[\x00\ud800-\udfff]")


def _clean_text(value: str) -> str:
    if _BAD_CHARS.search(value):
        raise ValueError("Text may not contain NUL bytes or unpaired surrogates.")
    return value


# Whitespace as both readers of the rules see it: Python's str.isspace() and the `\s` of the
# JSON Schema patterns (ECMA-262), so that "blank" means the same to the schema and the code.
_WHITESPACE = (
    r"\t\n\u000b\f\r\u001c-\u001f \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f"
    r"\u205f\u3000\ufeff"
)
_BLANK = re.compile(rf"[{_WHITESPACE}]*")
# The same rules for the schema, so that generated clients and fuzzers know them: no NUL byte
# (lone surrogates cannot be written in UTF-8 JSON at all); not blank: one non-space character.
_NO_NUL = Field(json_schema_extra={"pattern": r"^[^\u0000]*$"})
_NOT_BLANK = Field(json_schema_extra={"pattern": rf"^[^\u0000]*[^\u0000{_WHITESPACE}][^\u0000]*$"})


def _non_blank(value: str) -> str:
    if _BLANK.fullmatch(value):
        raise ValueError("Must not be blank.")
    return value


Name = Annotated[
    str,
    # The length is the one sent (as the schema says), before the surrounding spaces go.
    StringConstraints(min_length=1, max_length=300),
    AfterValidator(_clean_text),
    AfterValidator(_non_blank),
    AfterValidator(str.strip),
    _NOT_BLANK,
]
ShortText = Annotated[str, StringConstraints(max_length=300), AfterValidator(_clean_text), _NO_NUL]
Text = Annotated[str, StringConstraints(max_length=10_000), AfterValidator(_clean_text), _NO_NUL]
RequiredText = Annotated[
    str,
    StringConstraints(max_length=10_000),
    AfterValidator(_clean_text),
    AfterValidator(_non_blank),
    _NOT_BLANK,
]
"""Free text that may not be blank (e.g. the reasons for a decision)."""
SearchQuery = Annotated[
    str, StringConstraints(min_length=1, max_length=200), AfterValidator(_clean_text), _NO_NUL
]
# pydantic-core's own URL type, validated and serialised without a Python wrapper (pydantic's
# AnyUrl runs Python code per URL, which shows in 500-report batches); same rules, same schema.
HttpUrl = Annotated[
    pydantic_core.Url,
    GetPydanticSchema(
        lambda _type, _handler: core_schema.url_schema(
            max_length=2000, allowed_schemes=["http", "https"], host_required=True
        )
    ),
]
# The easternmost Indonesian time zone (WIT, UTC+9): a date that is "today" anywhere in the
# country is never refused as being in the future.
_WIT = timezone(timedelta(hours=9))


_today: tuple[int, date] = (0, date.min)


def today() -> date:
    """Today's date in WIT; read from the clock at most once a second (batches ask often)."""
    global _today
    second = int(time.time())
    if _today[0] != second:
        _today = (second, datetime.now(_WIT).date())
    return _today[1]


def _not_in_future(value: date) -> date:
    if value > today():
        raise ValueError("May not be in the future.")
    return value


PastDate = Annotated[date, AfterValidator(_not_in_future)]

ProvinceCode = Annotated[str, StringConstraints(pattern=r"^\d{2}$")]
RegionCode = Annotated[
    str,
    StringConstraints(pattern=r"^\d{2}(\.\d{2})?$"),
]


def _iso_date(value: Any) -> Any:
    """A date is sent as `YYYY-MM-DD`; pydantic would also read 0 or "0" as 1970-01-01."""
    if _has_json_kind(value, date):
        return value
    raise PydanticCustomError("date_type", "Input should be a date in the format YYYY-MM-DD")


IsoDate = Annotated[date, BeforeValidator(_iso_date)]
"""A date query parameter: only `YYYY-MM-DD`."""


def _canonical_uuid(value: Any) -> Any:
    """An id is written 8-4-4-4-12; pydantic would also take braces, `urn:uuid:` or no dashes."""
    if _has_json_kind(value, uuid.UUID):
        return value
    raise PydanticCustomError("uuid_parsing", "Input should be a UUID written 8-4-4-4-12")


Id = Annotated[uuid.UUID, BeforeValidator(_canonical_uuid)]
"""A record id in a path or a query: only the canonical form of a UUID."""


def _json_kind(annotation: Any) -> type | None:
    """The JSON scalar a field takes (bool, int, float, date), through Optional and Annotated."""
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) in (Union, UnionType):
        kinds = {_json_kind(arg) for arg in get_args(annotation) if arg is not type(None)}
        return kinds.pop() if len(kinds) == 1 else None
    if annotation in (bool, int, float, date, uuid.UUID):
        return annotation  # type: ignore[no-any-return]
    return None


class RequestModel(BaseModel):
    """Base of request bodies: unknown fields are a 422, not silently dropped.

    Scalars take their JSON type exactly: pydantic's lax mode would store `"12"` as 12,
    `1` or `"yes"` as true and `0` as the date 1970-01-01, which the schema says are invalid.
    """

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _exact_json_types(cls, data: Any) -> Any:
        """One pass over the body's fields (not a validator call per field: a batch has
        thousands). A value of the wrong JSON type is swapped for a marker that the field's
        own validation refuses, so the error keeps the field's location and type."""
        if not isinstance(data, dict):
            return data
        wrong = None
        for name, kind in _field_kinds(cls).items():
            value = data.get(name)
            if value is None or _has_json_kind(value, kind):
                continue
            if wrong is None:
                wrong = dict(data)
            wrong[name] = _WRONG_JSON_TYPE
        return data if wrong is None else wrong


class _WrongJsonType:
    """Stands for a value of the wrong JSON type; no field type accepts it."""

    def __repr__(self) -> str:
        return "a value of the wrong JSON type"


_WRONG_JSON_TYPE = _WrongJsonType()


def _has_json_kind(value: Any, kind: type) -> bool:
    # The shape only (where the dashes are); the field's own parsing checks the digits.
    if kind is date:
        return isinstance(value, date) or (
            isinstance(value, str) and len(value) == 10 and value[4] == value[7] == "-"
        )
    if kind is uuid.UUID:
        return isinstance(value, uuid.UUID) or (
            isinstance(value, str)
            and len(value) == 36
            and value[8] == value[13] == value[18] == value[23] == "-"
        )
    # A bool is a JSON boolean; a number is a JSON number (bool is an int in Python).
    return isinstance(value, bool) == (kind is bool) and isinstance(value, int | float)


@functools.cache
def _field_kinds(model: type[BaseModel]) -> dict[str, type]:
    kinds = {}
    for name, field in model.model_fields.items():
        kind = _json_kind(field.annotation)
        if kind is not None:
            kinds[name] = kind
    return kinds


class ResponseModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Record(ResponseModel):
    """Fields every stored record carries."""

    created_at: datetime = Field(description="When the record was created (UTC).")
    updated_at: datetime = Field(description="When the record last changed (UTC).")
    version: int = Field(description="Increases by one on every change; the ETag derives from it.")


T = TypeVar("T")


def _page_examples(schema: dict[str, Any], cls: type[BaseModel]) -> None:
    """A page's example: one item, the item model's own example, and a next cursor."""
    args = cls.__pydantic_generic_metadata__["args"]
    item = args[0] if args else None
    extra = (
        item.model_config.get("json_schema_extra")
        if isinstance(item, type) and issubclass(item, BaseModel)
        else None
    )
    examples = extra.get("examples") if isinstance(extra, dict) else None
    if isinstance(examples, list) and examples:
        schema["examples"] = [{"items": [examples[0]], "next_cursor": "WyItc2lnbmVkX29uIl0.c2ln"}]


class Page(BaseModel, Generic[T]):
    """One page of a keyset-paginated list."""

    items: list[T]
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page."
    )
    total: int | None = Field(
        default=None,
        description="Number of matching records; present only with `include_total=true`.",
        exclude_if=lambda v: v is None,
    )
    total_is_estimate: bool | None = Field(
        default=None,
        description="With `include_total=true` on the lists that may match a million records "
        "(commitments, innovations, the sustainability due list, the scaling candidates): "
        "`false` when `total` is the exact count, `true` when more than 10,000 records match "
        "and `total` is the database planner's estimate instead (no full count is made).",
        exclude_if=lambda v: v is None,
    )

    model_config = ConfigDict(json_schema_extra=_page_examples)


__all__ = [
    "HttpUrl",
    "PastDate",
    "ProvinceCode",
    "Name",
    "Page",
    "Record",
    "RegionCode",
    "RequestModel",
    "ResponseModel",
    "SearchQuery",
    "ShortText",
    "Text",
    "date",
]
