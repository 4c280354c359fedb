"""Schemathesis' stateful run: sequences of calls that follow the OpenAPI links, so that later
calls act on records the earlier ones created (institution → innovation → commitment →
progress report → assessment; innovation → scaling proposal → review → decision)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis import Case, Response

from tests.fuzz._app import SCHEMA
from tests.fuzz.conftest import STATUSES, STEPS


@pytest.mark.parametrize("principal", ["admin", "province"])
def test_linked_workflows_conform_to_the_schema(
    principal: str, fuzz_app: FastAPI, fuzz_keys: dict[str, str]
) -> None:
    headers = {"Authorization": f"Bearer {fuzz_keys[principal]}"}

    class Workflow(SCHEMA.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: Case) -> dict[str, Any]:
            return {"headers": headers}

        def after_call(self, response: Response, case: Case) -> None:
            super().after_call(response, case)
            STEPS[(principal, case.operation.label)] += 1
            STATUSES[(principal, response.status_code)] += 1

    Workflow.run(
        settings=settings(
            max_examples=40,
            stateful_step_count=8,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
    )
