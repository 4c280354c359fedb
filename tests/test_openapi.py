"""The committed openapi.json is what the app generates, and every operation is documented:
a description, examples that validate, every error it can give, and the documentation UIs."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from jsonschema import Draft202012Validator
from pydantic import TypeAdapter, ValidationError

from app.core.schemas import Name
from app.core.security import ALL_ROLES, AccessRule, access_rule_of
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


# --- Examples: every body and every schema has one, and each validates --------------------

JSON = "application/json"


def validator(schema: dict[str, Any], target: dict[str, Any]) -> Draft202012Validator:
    """A JSON Schema validator for `target`, with the document's components to resolve `$ref`s
    (OpenAPI 3.1 schemas are JSON Schema 2020-12)."""
    return Draft202012Validator(
        {**target, "components": schema["components"]},
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def resolve(schema: dict[str, Any], target: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in target:
        target = schema["components"]["schemas"][target["$ref"].rsplit("/", 1)[-1]]
    return target


def examples_of(schema: dict[str, Any], media: dict[str, Any]) -> list[Any]:
    """The examples of a media type: its own (`example`, `examples`) or its schema's."""
    found: list[Any] = []
    if "example" in media:
        found.append(media["example"])
    found += [e["value"] for e in media.get("examples", {}).values() if "value" in e]
    body_schema = resolve(schema, media.get("schema", {}))
    found += body_schema.get("examples", [])
    if not found and body_schema.get("type") == "array":
        found += [[e] for e in resolve(schema, body_schema["items"]).get("examples", [])]
    return found


def test_every_request_body_has_an_example(schema: dict[str, Any]) -> None:
    missing = [
        f"{method} {path} {media_type}"
        for method, path, op in operations(schema)
        for media_type, media in op.get("requestBody", {}).get("content", {}).items()
        if not examples_of(schema, media)
    ]

    assert missing == []


def test_every_request_body_example_validates_against_its_schema(schema: dict[str, Any]) -> None:
    invalid = [
        f"{method} {path}: {error.message}"
        for method, path, op in operations(schema)
        for media in op.get("requestBody", {}).get("content", {}).values()
        for example in examples_of(schema, media)
        for error in validator(schema, media["schema"]).iter_errors(example)
    ]

    assert invalid == []


def test_every_json_success_response_has_an_example(schema: dict[str, Any]) -> None:
    missing = [
        f"{method} {path} {status} {media_type}"
        for method, path, op in operations(schema)
        for status, response in op["responses"].items()
        if status.startswith("2")
        for media_type, media in response.get("content", {}).items()
        if not examples_of(schema, media)
    ]

    assert missing == []


def test_every_response_example_validates_against_its_schema(schema: dict[str, Any]) -> None:
    invalid = [
        f"{method} {path} {status}: {error.message}"
        for method, path, op in operations(schema)
        for status, response in op["responses"].items()
        for media in response.get("content", {}).values()
        if "schema" in media
        for example in examples_of(schema, media)
        for error in validator(schema, media["schema"]).iter_errors(example)
    ]

    assert invalid == []


def test_every_object_schema_has_examples(schema: dict[str, Any]) -> None:
    missing = [
        name
        for name, component in schema["components"]["schemas"].items()
        if component.get("type") == "object" and not component.get("examples")
    ]

    assert missing == []


def test_every_schema_example_validates_against_its_schema(schema: dict[str, Any]) -> None:
    invalid = [
        f"{name}: {error.message}"
        for name, component in schema["components"]["schemas"].items()
        for example in component.get("examples", [])
        for error in validator(schema, {"$ref": f"#/components/schemas/{name}"}).iter_errors(
            example
        )
    ]

    assert invalid == []


def test_the_validator_refuses_an_example_that_breaks_its_schema(schema: dict[str, Any]) -> None:
    """The checks above are only as good as the validator: a wrong example must fail."""
    check = validator(schema, {"$ref": "#/components/schemas/CommitmentCreate"})
    good = schema["components"]["schemas"]["CommitmentCreate"]["examples"][0]

    assert list(check.iter_errors(good)) == []
    assert list(check.iter_errors({**good, "budget_idr": -1}))
    assert list(check.iter_errors({**good, "program_id": "not-a-uuid"}))
    assert list(check.iter_errors({**good, "unknown": 1}))


# --- Every error a route can give is documented --------------------------------------------


def _rules() -> dict[tuple[str, str], AccessRule]:
    app = create_app()
    rules: dict[tuple[str, str], AccessRule] = {}
    for route in iter_route_contexts(app.routes):
        if isinstance(route.original_route, APIRoute):
            rule = access_rule_of(route.dependant)
            assert rule is not None
            assert route.path_format is not None
            for method in route.methods or ():
                rules[(method, route.path_format)] = rule
    return rules


def test_every_operation_that_takes_input_documents_422(schema: dict[str, Any]) -> None:
    missing = [
        f"{method} {path}"
        for method, path, op in operations(schema)
        if (op.get("parameters") or op.get("requestBody")) and "422" not in op["responses"]
    ]

    assert missing == []


def test_every_operation_with_a_path_id_documents_404(schema: dict[str, Any]) -> None:
    missing = [
        f"{method} {path}"
        for method, path, op in operations(schema)
        if "{" in path and "404" not in op["responses"]
    ]

    assert missing == []


def test_every_operation_that_needs_a_key_documents_401_and_403(schema: dict[str, Any]) -> None:
    rules = _rules()
    missing = []
    for method, path, op in operations(schema):
        rule = rules[(method, path)]
        if rule.anonymous:
            continue
        # 403: a role left out, or a key of another province.
        expected = {"401"} | ({"403"} if rule.roles != ALL_ROLES or rule.province_scoped else set())
        missing += [f"{method} {path} {status}" for status in expected - op["responses"].keys()]

    assert missing == []


def test_every_api_operation_documents_a_4xx_problem(schema: dict[str, Any]) -> None:
    missing = [
        f"{method} {path}"
        for method, path, op in operations(schema)
        if path.startswith("/api/")
        and not any(
            status.startswith("4")
            and "#/components/schemas/Problem"
            == response.get("content", {})
            .get("application/problem+json", {})
            .get("schema", {})
            .get("$ref")
            for status, response in op["responses"].items()
        )
    ]

    assert missing == []


# --- The documentation is served ----------------------------------------------------------


@pytest.mark.parametrize(("path", "marker"), [("/docs", "swagger-ui"), ("/redoc", "redoc")])
async def test_interactive_documentation_is_served(path: str, marker: str) -> None:
    transport = httpx.ASGITransport(app=create_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        r = await client.get(path)

    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert marker in r.text.lower()
    assert "/openapi.json" in r.text


async def test_the_served_openapi_document_is_the_committed_one() -> None:
    committed = json.loads((ROOT / "openapi.json").read_text(encoding="utf-8"))
    transport = httpx.ASGITransport(app=create_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        r = await client.get("/openapi.json")

    assert r.status_code == 200
    assert r.json() == committed


def test_open_data_operations_show_no_padlock(schema: dict[str, Any]) -> None:
    """A route open to anonymous callers needs no credentials (`security: []`, no padlock in
    Swagger UI), and a route that needs a key names the key scheme and nothing else."""
    rules = _rules()
    wrong = [
        f"{method} {path}: {op.get('security')}"
        for method, path, op in operations(schema)
        if op.get("security") != ([] if rules[(method, path)].anonymous else [{"ApiKey": []}])
    ]

    assert wrong == []


def test_every_operation_with_a_body_documents_400(schema: dict[str, Any]) -> None:
    """A body that is not UTF-8 cannot be parsed: 400."""
    missing = [
        f"{method} {path}"
        for method, path, op in operations(schema)
        if "requestBody" in op and "400" not in op["responses"]
    ]

    assert missing == []


def test_if_match_is_a_required_header_where_its_absence_is_428(schema: dict[str, Any]) -> None:
    wrong = []
    for method, path, op in operations(schema):
        if_match = [p for p in op.get("parameters", []) if p["name"] == "If-Match"]
        if if_match and if_match[0].get("required", False) != ("428" in op["responses"]):
            wrong.append(f"{method} {path}")

    assert wrong == []


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("Dinas Kesehatan", True),
        (" Dinas ", True),
        ("", False),
        ("   ", False),
        ("\ufeff", False),
        ("\x1c\u3000", False),
        ("Dinas\x00Kesehatan", False),
    ],
)
def test_the_schema_states_the_rules_of_a_name(
    schema: dict[str, Any], text: str, valid: bool
) -> None:
    """The pattern clients and fuzzers see refuses what the validators refuse."""
    pattern = schema["components"]["schemas"]["InstitutionCreate"]["properties"]["name"]["pattern"]
    try:
        TypeAdapter(Name).validate_python(text)
        accepted = True
    except ValidationError:
        accepted = False

    assert (re.search(pattern, text) is not None) == valid
    assert accepted == valid
