"""PATCH bodies say which fields take null: a field that may be cleared is nullable in the
schema; any other may be left out, and sent as null it is a 422 that points at it."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest

from app.main import create_app
from tests.conftest import problem

SCHEMA: dict[str, Any] = create_app().openapi()
# The fields a PATCH may clear with null, by body schema; every other field is not nullable.
CLEARABLE = {
    "InstitutionUpdate": {"region_code", "parent_id"},
    "InnovationUpdate": {"launched_on", "replica_of_id"},
    "ProgramUpdate": {"signed_on", "mentor_hub_id"},
    "CommitmentUpdate": {"target_launch_on"},
    "ActionItemUpdate": {"due_on", "completed_on"},
    "CompetitionUpdate": set(),
    "EntryUpdate": {"category", "video_url"},
    "RegulationUpdate": {"repealed_on", "url"},
    "HubUpdate": {"established_on", "decree_number"},
    "WebhookUpdate": set(),
}


def _patch_bodies() -> dict[str, str]:
    """Path of each PATCH operation → the name of its body schema."""
    bodies = {}
    for path, item in SCHEMA["paths"].items():
        if "patch" in item:
            ref = item["patch"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            bodies[path] = ref.rsplit("/", 1)[-1]
    return bodies


BODIES = _patch_bodies()


def _nullable(name: str) -> set[str]:
    properties = SCHEMA["components"]["schemas"][name]["properties"]
    return {
        field
        for field, schema in properties.items()
        if schema.get("type") == "null" or {"type": "null"} in schema.get("anyOf", [])
    }


NOT_NULL = [
    pytest.param(path, field, id=f"{name}.{field}")
    for path, name in BODIES.items()
    for field in SCHEMA["components"]["schemas"][name]["properties"]
    if field not in CLEARABLE[name]
]


def test_every_patch_body_is_listed() -> None:
    assert set(BODIES.values()) == CLEARABLE.keys()


@pytest.mark.parametrize("name", sorted(CLEARABLE))
def test_only_fields_that_may_be_cleared_are_nullable(name: str) -> None:
    assert _nullable(name) == CLEARABLE[name]


@pytest.mark.parametrize(("path", "field"), NOT_NULL)
async def test_null_for_a_field_that_may_not_be_cleared_is_422_at_the_field(
    client: httpx.AsyncClient, admin: dict[str, str], path: str, field: str
) -> None:
    url = re.sub(r"\{[^}]+\}", lambda _: str(uuid.uuid4()), path)

    r = await client.patch(url, json={field: None}, headers=admin | {"If-Match": '"1"'})

    assert problem(r, 422)["errors"] == [
        {"pointer": f"/body/{field}", "detail": "May not be null."}
    ]
