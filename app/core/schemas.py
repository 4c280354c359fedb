"""Base schema and the constrained field types every request body uses.

Input hygiene lives here once: unknown fields are refused, strings may not carry NUL bytes or
lone surrogates (PostgreSQL cannot store them), lengths are bounded, URLs are http(s) only.
"""

from __future__ import annotations

import re
import time
from datetime import date, datetime, timedelta, timezone
from typing import Annotated, Any, Generic, TypeVar

import pydantic_core
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    GetPydanticSchema,
    StringConstraints,
)
from pydantic_core import core_schema

_BAD_CHARS = re.compile("[\x00\ud800-\udfff]")


def _clean_text(value: str) -> str:
    if _BAD_CHARS.search(value):
        raise ValueError("Text may not contain NUL bytes or unpaired surrogates.")
    return value


def _non_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("Must not be blank.")
    return value


Name = Annotated[
    str,
    StringConstraints(min_length=1, max_length=300, strip_whitespace=True),
    AfterValidator(_clean_text),
    AfterValidator(_non_blank),
]
ShortText = Annotated[str, StringConstraints(max_length=300), AfterValidator(_clean_text)]
Text = Annotated[str, StringConstraints(max_length=10_000), AfterValidator(_clean_text)]
SearchQuery = Annotated[
    str, StringConstraints(min_length=1, max_length=200), AfterValidator(_clean_text)
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


class RequestModel(BaseModel):
    """Base of request bodies: unknown fields are a 422, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


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
