"""A check of our own that narrows what schemathesis.toml lets positive data receive.

A schema-valid request may be refused only for what the schema cannot know: a cursor the
server did not sign (400), an ETag that is not the current one (412), a rule of the domain
(422 with the rule's own detail). Refused by request validation, it means that the schema and
the validators disagree: a bug in one of them.
"""

from __future__ import annotations

import schemathesis
from schemathesis import Case, CheckContext, Response

from app.core.errors import REQUEST_INVALID

# Status → the problem codes that only stored state explains.
STATE_DEPENDENT = {400: {"invalid_cursor"}, 412: {"stale_version"}}
# Bounds on dates, which a schema cannot state (JSON Schema has no date minimum or maximum):
# not after today, and after the 1900-01-01 that stands in for "no date" in sorts.
DATE_BOUNDS = ("May not be in the future.", "The period may not be a future year.")
DATE_BOUND_MARK = "datetime.date("


@schemathesis.check
def schema_valid_input_passes_validation(
    ctx: CheckContext, response: Response, case: Case
) -> bool | None:
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return None
    if response.status_code not in (400, 412, 422):
        return None
    problem = response.json()
    if response.status_code == 422:
        if problem.get("detail") != REQUEST_INVALID:
            return None  # a rule of the domain, with its own detail
        unexplained = [
            error
            for error in problem.get("errors", [])
            if not error["detail"].endswith(DATE_BOUNDS) and DATE_BOUND_MARK not in error["detail"]
        ]
        assert not unexplained, f"Schema-valid request failed request validation: {unexplained}"
    else:
        assert problem.get("code") in STATE_DEPENDENT[response.status_code], (
            f"Schema-valid request refused with {response.status_code}: {problem}"
        )
    return None
