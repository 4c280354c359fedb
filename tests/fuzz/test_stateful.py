"""Schemathesis' stateful run: sequences of calls that follow the OpenAPI links, so that later
calls act on records the earlier ones created (institution → innovation → commitment →
progress report → assessment; innovation → scaling proposal → review → decision)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, settings
from hypothesis.errors import FlakyStrategyDefinition
from schemathesis import Case, Response

from tests.fuzz._app import SCHEMA
from tests.fuzz.conftest import DERANDOMIZE, RESTARTS, STATUSES, STEPS

RUNS_AFTER_A_MOVED_DATABASE = 3


def _ids(body: Any) -> set[str]:
    """The record ids in a response: its own, or its items'."""
    if not isinstance(body, dict):
        return set()
    found = {body["id"]} if isinstance(body.get("id"), str) else set()
    for item in body.get("items", []) if isinstance(body.get("items"), list) else []:
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            found.add(item["id"])
    return found


@pytest.mark.parametrize("principal", ["admin", "province"])
def test_linked_workflows_conform_to_the_schema(
    principal: str, fuzz_app: FastAPI, fuzz_keys: dict[str, str], demo_refs: dict[str, str]
) -> None:
    headers = {"Authorization": f"Bearer {fuzz_keys[principal]}"}
    # Ids the API has shown: a body that refers to one keeps it (a link put it there).
    known = set(demo_refs.values())

    class Workflow(SCHEMA.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: Case) -> dict[str, Any]:
            return {"headers": headers}

        def before_call(self, case: Case) -> None:
            # A generated id names no record, and the chain would stop at its first create:
            # refer to a demo record of the province instead (stateless runs try random ids).
            if isinstance(case.body, dict):
                for field, demo_id in demo_refs.items():
                    if field in case.body and case.body[field] not in known:
                        case.body[field] = demo_id

        def after_call(self, response: Response, case: Case) -> None:
            super().after_call(response, case)
            STEPS[(principal, case.operation.label)] += 1
            STATUSES[(principal, response.status_code)] += 1
            if (
                response.status_code < 300
                and "json" in response.headers.get("content-type", [""])[0]
            ):
                known.update(_ids(response.json()))

    # Each run starts from what earlier runs left in the database, so a sequence replayed
    # (from Hypothesis' example database, or to shrink it) would not meet the same state:
    # generate only, and report a failure as found.
    run_settings = settings(
        max_examples=40,
        stateful_step_count=8,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        phases=[Phase.explicit, Phase.generate],
        derandomize=DERANDOMIZE,
    )
    # Hypothesis also remembers which draws each explored prefix made; when the database has
    # moved under a prefix (a bundle it filled is now empty), it stops the run with
    # FlakyStrategyDefinition. That is the generator's bookkeeping, not an API failure (every
    # step already made was checked, and a failed check raises its own error): start a fresh
    # run, a bounded number of times.
    for _ in range(RUNS_AFTER_A_MOVED_DATABASE + 1):
        try:
            Workflow.run(settings=run_settings)
        except FlakyStrategyDefinition:
            RESTARTS[principal] += 1
            continue
        break
