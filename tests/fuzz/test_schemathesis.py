"""Schemathesis against the app's own OpenAPI document, with every default check, as an
admin and as a province's coordinator."""

from __future__ import annotations

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings

from tests.fuzz._app import SCHEMA
from tests.fuzz.conftest import CASES, DERANDOMIZE


@pytest.mark.parametrize("principal", ["admin", "province"])
@SCHEMA.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=DERANDOMIZE,
)
def test_operation_conforms_to_its_schema(
    case: schemathesis.Case, principal: str, fuzz_app: FastAPI, fuzz_keys: dict[str, str]
) -> None:
    CASES[(principal, case.operation.label)] += 1
    case.call_and_validate(headers={"Authorization": f"Bearer {fuzz_keys[principal]}"})
