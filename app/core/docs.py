"""OpenAPI documentation helpers: the problem responses each route declares, and fixes to the
document FastAPI generates, so that every example in it is valid.

FastAPI serialises the document with `exclude_none`, which also strips the `null` values out
of schema examples (`"completed_on": null` disappears, and the example no longer validates
against its own schema). `restore_examples` puts each model's examples back as written.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any, get_args

from fastapi.routing import APIRoute
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from app.core.errors import PROBLEM_MEDIA_TYPE

REF_TEMPLATE = "#/components/schemas/{model}"

_DESCRIPTIONS = {
    400: "Bad request (malformed cursor, missing Idempotency-Key, …).",
    401: "Missing, unknown or revoked API key.",
    403: "The key's role or province does not allow this.",
    404: "No such resource.",
    409: "Conflicts with the current state (duplicate, illegal transition, request in flight).",
    412: "If-Match does not match the current ETag: reload and retry.",
    413: "Request body too large.",
    422: "Validation failed: see `errors`.",
    428: "If-Match is required for this write.",
    503: "Database unavailable or busy; retry after `Retry-After` seconds.",
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries documenting the problem responses a route can give."""
    return {
        s: {
            "description": _DESCRIPTIONS.get(s, "Error."),
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for s in statuses
    }


def _collect(annotation: Any, found: set[type[BaseModel]]) -> None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation in found:
            return  # recursive models (a lineage node holds nodes)
        found.add(annotation)
        for field in annotation.model_fields.values():
            _collect(field.annotation, found)
    for arg in get_args(annotation):
        _collect(arg, found)


def route_models(routes: Iterable[APIRoute]) -> set[type[BaseModel]]:
    """Every Pydantic model these routes take or return, nested ones included."""
    found: set[type[BaseModel]] = set()
    for route in routes:
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


_ID = "$response.body#/id"
_ETAG = "$response.header.ETag"
_FIRST = "$response.body#/items/0/id"


def _to(operation_id: str, **parameters: str) -> dict[str, Any]:
    link: dict[str, Any] = {"operationId": operation_id}
    names = {"if_match": "header.If-Match"}
    if parameters:
        link["parameters"] = {names.get(k, k): v for k, v in parameters.items()}
    return link


def _body(operation_id: str, **fields: str) -> dict[str, Any]:
    return {"operationId": operation_id, "requestBody": fields}


# What a client can do next with what a create (or a list) returned (OpenAPI links): the
# record's own operations, with its id and ETag, and the creates that refer to it. Generated
# clients and stateful fuzzers follow them: institution → innovation → commitment → progress
# report → assessment, and innovation → scaling proposal → review → decision.
LIST_LINKS: dict[str, dict[str, dict[str, Any]]] = {
    "institutions-list_institutions": {
        "CreateInnovationOfFirst": _body("innovations-create_innovation", institution_id=_FIRST),
    },
    "innovations-list_innovations": {
        "ReplicateFirst": _body("replication-create_commitment", innovation_id=_FIRST),
        "ProposeFirstForScaling": _body("scaling-create_proposal", innovation_id=_FIRST),
    },
    "replication-list_programs": {
        "CommitInFirst": _body("replication-create_commitment", program_id=_FIRST),
    },
    "replication-list_commitments": {
        "ReportOnFirst": _to("replication-create_progress_report", commitment_id=_FIRST),
        "AssessFirst": _body("sustainability-create_assessment", commitment_id=_FIRST),
    },
}
LINKS: dict[str, dict[str, dict[str, Any]]] = {
    "institutions-create_institution": {
        "GetInstitution": _to("institutions-get_institution", institution_id=_ID),
        "UpdateInstitution": _to(
            "institutions-update_institution", institution_id=_ID, if_match=_ETAG
        ),
        "CreateInnovation": _body("innovations-create_innovation", institution_id=_ID),
        "CreateCommitmentAsAdopter": _body(
            "replication-create_commitment", adopter_institution_id=_ID
        ),
    },
    "innovations-create_innovation": {
        "GetInnovation": _to("innovations-get_innovation", innovation_id=_ID),
        "UpdateInnovation": _to("innovations-update_innovation", innovation_id=_ID, if_match=_ETAG),
        "AddAward": _to("innovations-add_award", innovation_id=_ID),
        "GetLineage": _to("innovations-get_lineage", innovation_id=_ID),
        "GetSustainabilityTimeline": _to("sustainability-get_timeline", innovation_id=_ID),
        "CreateCommitment": _body("replication-create_commitment", innovation_id=_ID),
        "CreateAssessment": _body("sustainability-create_assessment", innovation_id=_ID),
        "CreateScalingProposal": _body("scaling-create_proposal", innovation_id=_ID),
    },
    "replication-create_program": {
        "GetProgram": _to("replication-get_program", program_id=_ID),
        "UpdateProgram": _to("replication-update_program", program_id=_ID, if_match=_ETAG),
        "GetMatrix": _to("replication-program_matrix", program_id=_ID),
        "CreateCommitment": _body("replication-create_commitment", program_id=_ID),
    },
    "replication-create_commitment": {
        "GetCommitment": _to("replication-get_commitment", commitment_id=_ID),
        "UpdateCommitment": _to("replication-update_commitment", commitment_id=_ID, if_match=_ETAG),
        "TransitionCommitment": _to(
            "replication-transition_commitment", commitment_id=_ID, if_match=_ETAG
        ),
        "CreateActionItem": _to("replication-create_action_item", commitment_id=_ID),
        "ListActionItems": _to("replication-list_action_items", commitment_id=_ID),
        "CreateProgressReport": _to("replication-create_progress_report", commitment_id=_ID),
        "ListProgressReports": _to("replication-list_progress_reports", commitment_id=_ID),
        "CreateAssessment": _body("sustainability-create_assessment", commitment_id=_ID),
    },
    "replication-create_action_item": {
        "UpdateActionItem": _to(
            "replication-update_action_item",
            commitment_id="$request.path.commitment_id",
            item_id=_ID,
            if_match=_ETAG,
        ),
    },
    "scaling-create_proposal": {
        "GetProposal": _to("scaling-get_proposal", proposal_id=_ID),
        "ReviewProposal": _to("scaling-review_proposal", proposal_id=_ID, if_match=_ETAG),
        "DecideProposal": _to("scaling-decide_proposal", proposal_id=_ID, if_match=_ETAG),
    },
    "sustainability-create_assessment": {
        "GetAssessment": _to("sustainability-get_assessment", assessment_id=_ID),
    },
}


def add_links(schema: dict[str, Any]) -> None:
    """Put LINKS on the 201 response of each create, LIST_LINKS on the 200 of each list."""
    for item in schema.get("paths", {}).values():
        for operation in item.values():
            operation_id = operation.get("operationId", "")
            for status, table in (("201", LINKS), ("200", LIST_LINKS)):
                if operation_id in table:  # a copy: a consumer may add links of its own
                    operation["responses"][status]["links"] = copy.deepcopy(table[operation_id])
