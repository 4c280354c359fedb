"""The committed openapi.json is what the app generates, and every operation is documented."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from app.main import create_app

ROOT = Path(__file__).resolve().parent.parent
METHODS = {"get", "put", "post", "patch", "delete", "head", "options"}
OPERATION_ID = re.compile(r"^[a-z][a-z0-9_]*-[a-z][a-z0-9_]*$")


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    generated: dict[str, Any] = create_app().openapi()
    return generated


def operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def test_committed_openapi_json_is_up_to_date(schema: dict[str, Any]) -> None:
    committed = json.loads((ROOT / "openapi.json").read_text(encoding="utf-8"))

    assert committed == schema, "openapi.json is out of date: run `make openapi` and commit it"


def test_there_are_operations_to_check(schema: dict[str, Any]) -> None:
    ids = {op["operationId"] for _, _, op in operations(schema)}

    assert {"regions-list_regions", "institutions-create_institution"} <= ids


def test_every_operation_id_is_tag_dash_name(schema: dict[str, Any]) -> None:
    wrong = [
        f"{method} {path}: {op.get('operationId')!r}"
        for method, path, op in operations(schema)
        if not OPERATION_ID.match(op.get("operationId", ""))
        or not op.get("tags")
        or not op["operationId"].startswith(f"{op['tags'][0]}-")
    ]

    assert wrong == []


def test_operation_ids_are_unique(schema: dict[str, Any]) -> None:
    ids = [op["operationId"] for _, _, op in operations(schema)]

    assert len(ids) == len(set(ids))


def test_every_operation_has_a_summary_and_a_description(schema: dict[str, Any]) -> None:
    undocumented = [
        f"{method} {path}"
        for method, path, op in operations(schema)
        if not op.get("summary", "").strip() or not op.get("description", "").strip()
    ]

    assert undocumented == []


def test_every_tag_used_is_declared_with_a_description(schema: dict[str, Any]) -> None:
    declared = {t["name"]: t.get("description", "") for t in schema.get("tags", [])}
    used = {op["tags"][0] for _, _, op in operations(schema) if op.get("tags")}

    assert {tag for tag in used if not declared.get(tag)} == set()


def test_every_api_error_response_is_a_problem_document(schema: dict[str, Any]) -> None:
    wrong = [
        f"{method} {path} {status}"
        for method, path, op in operations(schema)
        if path.startswith("/api/")
        for status, response in op["responses"].items()
        if status[0] in "45" and "application/problem+json" not in response.get("content", {})
    ]

    assert wrong == []
