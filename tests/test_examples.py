"""Every example of the OpenAPI document works on the demo data, as "Try it out" in Swagger UI
does after `make run`: each request body example, sent with its path parameters' examples,
succeeds (a create makes a new record rather than colliding with a demo one), and so does
every operation with a path parameter, read with its example.

Each case runs on a freshly loaded demo: the demo is loaded once for the module and every
test runs in a savepoint of it that is rolled back afterwards (tests/_demo.py).
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.keys import create_key
from app.core.security import Role, access_rule_of
from app.main import create_app
from tests._demo import connection, demo_connection
from tests.conftest import MakeKey, bearer
from tests.test_openapi import examples_of

__all__ = ["connection", "demo_connection"]

APP = create_app()
SCHEMA: dict[str, Any] = APP.openapi()
JSON = "application/json"


def _roles() -> dict[tuple[str, str], frozenset[Role]]:
    """The roles each operation accepts, by (method, path)."""
    roles = {}
    for context in iter_route_contexts(APP.routes):
        if isinstance(context.original_route, APIRoute) and context.path_format is not None:
            rule = access_rule_of(context.dependant)
            assert rule is not None
            for method in context.methods or ():
                roles[(method, context.path_format)] = rule.roles
    return roles


ROLES = _roles()


def _cases() -> list[Any]:
    """(method, path, body) for each request body example, and for each operation with a
    path parameter but no body; ids name the operation (and the example's number)."""
    cases = []
    for path, item in SCHEMA["paths"].items():
        for method, operation in item.items():
            media = operation.get("requestBody", {}).get("content", {}).get(JSON)
            examples = examples_of(SCHEMA, media) if media else []
            for n, example in enumerate(examples):
                case_id = f"{operation['operationId']}-{n}"
                cases.append(pytest.param(method.upper(), path, example, id=case_id))
            if not examples and "{" in path:
                cases.append(pytest.param(method.upper(), path, None, id=operation["operationId"]))
    return cases


CASES = _cases()


def _url(method: str, path: str) -> str:
    """The path with each path parameter replaced by its (first) example."""
    url = path
    for parameter in SCHEMA["paths"][path][method.lower()].get("parameters", []):
        if parameter["in"] != "path":
            continue
        examples = list(parameter.get("examples", {}).values())
        assert examples, f"{method} {path}: path parameter {parameter['name']} has no example"
        url = url.replace("{" + parameter["name"] + "}", str(examples[0]["value"]))
    return url


async def _etag(client: httpx.AsyncClient, method: str, url: str, headers: dict[str, str]) -> str:
    """The ETag of the record the request acts on, read first as a client would: a PATCH
    changes the record at its own path, a POST (`…/transitions`, `…/decision`) acts on the
    record above. An action item has no GET of its own: its ETag is its version, as the
    commitment's action plan lists it."""
    above, _, last = url.rpartition("/")
    if method == "PATCH" and "/action-items/" in url:
        items = (await client.get(above, headers=headers)).json()
        return f'"{next(i["version"] for i in items if i["id"] == last)}"'
    r = await client.get(url if method == "PATCH" else above, headers=headers)
    assert r.status_code == 200, r.text
    return r.headers["ETag"]


def test_every_operation_with_a_body_or_a_path_parameter_is_a_case() -> None:
    covered = {c.values[:2] for c in CASES}
    expected = {
        (method.upper(), path)
        for path, item in SCHEMA["paths"].items()
        for method, operation in item.items()
        if "requestBody" in operation or "{" in path
    }

    assert covered == expected
    assert len([c for c in CASES if c.values[2] is not None]) >= 18


async def _assigned_evaluator(
    client: httpx.AsyncClient, make_key: MakeKey, session: AsyncSession, url: str, body: Any
) -> str:
    key, plaintext = await create_key(
        session, name="example evaluator", role=Role.evaluator, province_code=None
    )
    await session.flush()
    admin = bearer(await make_key(Role.admin))
    entry = (await client.get(url.removesuffix("/scores"), headers=admin)).json()
    assigned = await client.post(
        f"/api/v1/competitions/{entry['competition_id']}/assignments",
        json={
            "stage": body["stage"],
            "assignments": [{"entry_id": entry["id"], "evaluator_key_id": str(key.id)}],
        },
        headers={**admin, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert assigned.status_code == 200, assigned.text
    return plaintext


@pytest.mark.parametrize(("method", "path", "body"), CASES)
async def test_the_example_succeeds_on_the_demo_data(
    client: httpx.AsyncClient,
    make_key: MakeKey,
    session: AsyncSession,
    method: str,
    path: str,
    body: Any,
) -> None:
    roles = ROLES[(method, path)]
    url = _url(method, path)
    if roles == {Role.evaluator}:
        # Only an evaluator scores, and only an entry it is assigned: the organiser assigns
        # a new evaluator key to the example's entry at the example's stage first.
        headers = bearer(await _assigned_evaluator(client, make_key, session, url, body))
    else:
        # An admin, or a reviewer where only reviewers act (scaling reviews and decisions).
        role = Role.admin if Role.admin in roles else Role.reviewer
        headers = bearer(await make_key(role))
    parameters = SCHEMA["paths"][path][method.lower()].get("parameters", [])
    if any(p["in"] == "header" and p["name"] == "If-Match" for p in parameters):
        headers["If-Match"] = await _etag(client, method, url, headers)
    if method == "POST":
        headers["Idempotency-Key"] = str(uuid.uuid4())

    r = await client.request(method, url, json=body, headers=headers)

    assert 200 <= r.status_code < 300, f"{method} {url} {body}: {r.status_code} {r.text}"
    if path.endswith("/batch"):  # 200 whatever the reports' fates: each must be stored
        assert r.json()["rejected"] == 0, r.text
