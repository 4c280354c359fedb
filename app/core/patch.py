"""PATCH request bodies: a field left out keeps its value; a field sent is applied.

A field whose type has no null (a title, a status, a list) may be left out but not sent as
null, and the schema says so: its type has no `null` and it has no `default: null`, so a
generated client types it `string`, not `string | null`. An explicit null is a 422 whose
`errors` point at the field (`/body/title`, "May not be null."). A field that may be cleared
(a date, a parent) keeps `| None` in its type and takes null.
"""

from __future__ import annotations

import functools
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, GetJsonSchemaHandler, ValidationInfo, field_validator
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError

from app.core.schemas import RequestModel

OMITTED: Any = None
"""The default of a field that may be left out but not sent as null. None at run time and
never validated, so `model_dump(exclude_unset=True)` leaves the field out; typed `Any` so
that the field keeps its non-null type (`title: Name = OMITTED`)."""


def _admits_none(annotation: Any) -> bool:
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if annotation is None or annotation is type(None):
        return True
    if get_origin(annotation) in (Union, UnionType):
        return any(_admits_none(arg) for arg in get_args(annotation))
    return False


@functools.cache
def nullable_fields(model: type[BaseModel]) -> frozenset[str]:
    """The fields of `model` that may be sent as null (their type admits None)."""
    return frozenset(
        name for name, field in model.model_fields.items() if _admits_none(field.annotation)
    )


class UpdateModel(RequestModel):
    """Base of PATCH bodies: only the fields sent are applied; null only where the type
    says so."""

    @field_validator("*", mode="before")
    @classmethod
    def _not_null(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name not in nullable_fields(cls):
            raise PydanticCustomError("not_null", "May not be null.")
        return value

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler.resolve_ref_schema(handler(core_schema))
        nullable = nullable_fields(cls)
        for name, prop in json_schema.get("properties", {}).items():
            # Left out means "unchanged", not null: a null default would contradict the type.
            if name not in nullable and "default" in prop and prop["default"] is None:
                del prop["default"]
        return json_schema
