"""Fixes to the OpenAPI document FastAPI generates, so that every example in it is valid.

FastAPI serialises the document with `exclude_none`, which also strips the `null` values out
of schema examples (`"completed_on": null` disappears, and the example no longer validates
against its own schema). `restore_examples` puts each model's examples back as written.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, get_args

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

REF_TEMPLATE = "#/components/schemas/{model}"


def _collect(annotation: Any, found: set[type[BaseModel]]) -> None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation in found:
            return  # recursive models (a lineage node holds nodes)
        found.add(annotation)
        for field in annotation.model_fields.values():
            _collect(field.annotation, found)
    for arg in get_args(annotation):
        _collect(arg, found)


def route_models(app: FastAPI) -> set[type[BaseModel]]:
    """Every Pydantic model a route of `app` takes or returns, nested ones included."""
    found: set[type[BaseModel]] = set()
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute):
            continue
        annotations: list[Any] = [route.response_model]
        annotations += [p.field_info.annotation for p in route.dependant.body_params]
        for annotation in annotations:
            _collect(annotation, found)
    return found


def declared_examples(model: type[BaseModel]) -> list[Any] | None:
    """The examples a model declares in `json_schema_extra` (a dict, or a callable that
    fills one in)."""
    extra = model.model_config.get("json_schema_extra")
    if callable(extra):
        filled: dict[str, Any] = {}
        extra(filled, model)  # type: ignore[call-arg]
        extra = filled
    examples = extra.get("examples") if isinstance(extra, dict) else None
    return list(examples) if isinstance(examples, list) else None


def restore_examples(schema: dict[str, Any], models: Iterable[type[BaseModel]]) -> None:
    """Replace each component's examples by its model's own (nulls included)."""
    components: dict[str, dict[str, Any]] = schema.get("components", {}).get("schemas", {})
    by_title: dict[str, list[str]] = {}
    for name, component in components.items():
        by_title.setdefault(component.get("title", name), []).append(name)
    for model in models:
        names = by_title.get(model.model_config.get("title") or model.__name__, [])
        if len(names) != 1:
            continue  # two models share a title: leave FastAPI's rendering alone
        examples = declared_examples(model)
        if examples:
            components[names[0]]["examples"] = examples


def add_components(schema: dict[str, Any], models: Iterable[type[BaseModel]]) -> None:
    """Add schemas that bodies refer to by `$ref` only (e.g. the items of a batch that is
    validated item by item), with the schemas they need."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    _, definitions = models_json_schema(
        [(m, "validation") for m in models], ref_template=REF_TEMPLATE
    )
    for name, definition in definitions.get("$defs", {}).items():
        components.setdefault(name, definition)
