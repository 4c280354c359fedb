"""Every sustainability schema's OpenAPI examples validate against the schema itself."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from app.sustainability import schemas

MODELS = [
    schemas.RubricRead,
    schemas.AssessmentCreate,
    schemas.AssessmentRead,
    schemas.DueItem,
    schemas.AtRiskItem,
    schemas.TimelineEntry,
    schemas.SustainabilityTimeline,
]


def examples(model: type[BaseModel]) -> list[dict[str, Any]]:
    extra = model.model_config.get("json_schema_extra")
    assert isinstance(extra, dict)
    found = extra["examples"]
    assert isinstance(found, list)
    return found


@pytest.mark.parametrize("model", MODELS, ids=[m.__name__ for m in MODELS])
def test_examples_validate(model: type[BaseModel]) -> None:
    for example in examples(model):
        model.model_validate(example)


def test_rubric_definition_refuses_weights_that_do_not_sum_to_100() -> None:
    example = examples(schemas.RubricRead)[0]
    example = example | {"indicators": example["indicators"][:1]}

    with pytest.raises(ValueError, match="sum to 100"):
        schemas.RubricRead.model_validate(example)
