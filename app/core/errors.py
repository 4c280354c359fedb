"""RFC 9457 problem details: the one shape of every error the API returns, and the
exceptions domain code raises for them.

`app.core.error_handlers` turns these, validation errors, routing errors, database outages and
unexpected exceptions into `application/problem+json`; `app.core.docs.problems` documents them
per route.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

PROBLEM_MEDIA_TYPE = "application/problem+json"
# The detail of a 422 for a request that breaks its schema (as opposed to a rule of the domain).
REQUEST_INVALID = "The request is not valid: see `errors`."
TYPE_BASE = "https://inovasi.go.id/problems/"


class FieldError(BaseModel):
    pointer: str = Field(description="JSON Pointer (RFC 6901) into the request: `/body/title`.")
    detail: str

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"pointer": "/body/title", "detail": "Field required"}]}
    )


class Problem(BaseModel):
    """An RFC 9457 problem document with a stable machine `code`."""

    type: str = Field(description="URI identifying the problem type.")
    title: str = Field(description="Short, human-readable summary of the problem type.")
    status: int = Field(description="The HTTP status code.")
    detail: str = Field(description="Explanation specific to this occurrence.")
    instance: str = Field(description="The request path this occurrence relates to.")
    code: str = Field(description="Stable machine-readable code, e.g. `not_found`.")
    errors: list[FieldError] | None = Field(
        default=None, description="Per-field validation errors (422 only)."
    )
    allowed: list[str] | None = Field(
        default=None, description="Allowed values or transitions, where relevant."
    )
    request_id: str | None = Field(default=None, description="Request id, for support.")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": TYPE_BASE + "not_found",
                    "title": "Not Found",
                    "status": 404,
                    "detail": "Institution 1f0e… does not exist.",
                    "instance": "/api/v1/institutions/1f0e…",
                    "code": "not_found",
                    "request_id": "8c1d2f5e9a2b4c7d",
                }
            ]
        }
    )


class ProblemError(Exception):
    """Base of every error the domain raises on purpose."""

    status: int = 400
    code: str = "bad_request"
    title: str = "Bad Request"

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        errors: Sequence[FieldError] | None = None,
        allowed: Iterable[str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if code:
            self.code = code
        self.errors = list(errors) if errors else None
        self.allowed = list(allowed) if allowed is not None else None
        self.headers = dict(headers or {})


class BadRequest(ProblemError):
    pass


class Unauthorized(ProblemError):
    status, code, title = 401, "unauthorized", "Unauthorized"

    def __init__(self, detail: str = "A valid API key is required.") -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="inovasi-hub"'})


class Forbidden(ProblemError):
    status, code, title = 403, "forbidden", "Forbidden"


class NotFound(ProblemError):
    status, code, title = 404, "not_found", "Not Found"


class Conflict(ProblemError):
    status, code, title = 409, "conflict", "Conflict"


class PreconditionFailed(ProblemError):
    status, code, title = 412, "precondition_failed", "Precondition Failed"


class PreconditionRequired(ProblemError):
    status, code, title = 428, "precondition_required", "Precondition Required"


class Unprocessable(ProblemError):
    status, code, title = 422, "validation_error", "Unprocessable Content"


class ServiceUnavailable(ProblemError):
    status, code, title = 503, "service_unavailable", "Service Unavailable"


def field_error(pointer: str, detail: str) -> Unprocessable:
    """A 422 about one field of the request."""
    return Unprocessable(detail, errors=[FieldError(pointer=pointer, detail=detail)])


def _pointer(loc: Sequence[Any]) -> str:
    parts = [str(p).replace("~", "~0").replace("/", "~1") for p in loc]
    return "/" + "/".join(parts)


def validation_errors(raw: Sequence[Any]) -> list[FieldError]:
    """Pydantic's errors as field errors, each pointing at what it is about."""
    out = []
    for err in raw:
        msg = str(err.get("msg", "Invalid value"))
        if err.get("type") == "extra_forbidden":
            msg = "Unknown field."
        out.append(FieldError(pointer=_pointer(err.get("loc", ())), detail=msg))
    return out
