"""RFC 9457 problem details: the one shape of every error the API returns.

Domain code raises `ProblemError` subclasses; the handlers here turn those, validation errors,
routing errors, database outages and unexpected exceptions into `application/problem+json`.
No stack trace ever reaches a client.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast

import asyncpg
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import compile_path

from app.core.config import get_settings

logger = structlog.get_logger("app.errors")

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


def reject_nulls(sent: Mapping[str, Any], *names: str) -> None:
    """A PATCH may omit these fields but not set them to null."""
    for name in names:
        if name in sent and sent[name] is None:
            raise field_error(f"/body/{name}", "May not be null.")


def field_error(pointer: str, detail: str) -> Unprocessable:
    """A 422 about one field of the request."""
    return Unprocessable(detail, errors=[FieldError(pointer=pointer, detail=detail)])


def problem_response(
    request: Request,
    *,
    status: int,
    code: str,
    title: str,
    detail: str,
    errors: Sequence[FieldError] | None = None,
    allowed: list[str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    problem = Problem(
        type=TYPE_BASE + code,
        title=title,
        status=status,
        detail=detail,
        instance=request.url.path,
        code=code,
        errors=list(errors) if errors else None,
        allowed=allowed,
        request_id=getattr(request.state, "request_id", None),
    )
    return Response(
        problem.model_dump_json(exclude_none=True),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


_HTTP_TITLES = {
    400: ("bad_request", "Bad Request"),
    401: ("unauthorized", "Unauthorized"),
    403: ("forbidden", "Forbidden"),
    404: ("not_found", "Not Found"),
    405: ("method_not_allowed", "Method Not Allowed"),
    406: ("not_acceptable", "Not Acceptable"),
    409: ("conflict", "Conflict"),
    412: ("precondition_failed", "Precondition Failed"),
    413: ("content_too_large", "Content Too Large"),
    415: ("unsupported_media_type", "Unsupported Media Type"),
    422: ("validation_error", "Unprocessable Content"),
    428: ("precondition_required", "Precondition Required"),
    429: ("too_many_requests", "Too Many Requests"),
    503: ("service_unavailable", "Service Unavailable"),
}


def _pointer(loc: Sequence[Any]) -> str:
    parts = [str(p).replace("~", "~0").replace("/", "~1") for p in loc]
    return "/" + "/".join(parts)


def validation_errors(raw: Sequence[Any]) -> list[FieldError]:
    out = []
    for err in raw:
        msg = str(err.get("msg", "Invalid value"))
        if err.get("type") == "extra_forbidden":
            msg = "Unknown field."
        out.append(FieldError(pointer=_pointer(err.get("loc", ())), detail=msg))
    return out


def _driver_error(exc: BaseException) -> BaseException:
    """asyncpg's own exception: wrapped by SQLAlchemy, or raised by a query run on the driver
    directly (`app.core.repository.fetch`)."""
    if isinstance(exc, sa_exc.DBAPIError):
        return getattr(exc.orig, "__cause__", None) or exc.orig or exc
    return exc


# Error classes raised by asyncpg when the server or the pool cannot serve the request.
def _is_unavailable(exc: BaseException) -> bool:
    if isinstance(exc, (sa_exc.TimeoutError, ConnectionError, OSError, TimeoutError)):
        return True
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(
        exc,
        sa_exc.DBAPIError
        | asyncpg.PostgresError
        | asyncpg.InterfaceError
        | asyncpg.InternalClientError,
    ):
        orig = _driver_error(exc)
        return isinstance(
            orig,
            (
                asyncpg.PostgresConnectionError,
                asyncpg.InterfaceError,
                asyncpg.InternalClientError,
                asyncpg.exceptions.QueryCanceledError,
                asyncpg.exceptions.LockNotAvailableError,
                asyncpg.exceptions.CannotConnectNowError,
                asyncpg.exceptions.AdminShutdownError,
                asyncpg.exceptions.TooManyConnectionsError,
                asyncpg.exceptions.SerializationError,
                asyncpg.exceptions.DeadlockDetectedError,
                ConnectionError,
                OSError,
                TimeoutError,
            ),
        )
    return False


def _is_bad_text(exc: BaseException) -> bool:
    if isinstance(exc, UnicodeError):
        return True
    if isinstance(exc, sa_exc.DBAPIError | asyncpg.PostgresError):
        orig = _driver_error(exc)
        return isinstance(
            orig,
            (
                asyncpg.exceptions.CharacterNotInRepertoireError,
                asyncpg.exceptions.UntranslatableCharacterError,
                UnicodeError,
            ),
        )
    return False


def _integrity_problem(exc: BaseException) -> tuple[int, str, str, str] | None:
    """Constraint violations that escaped a repository's own translation."""
    if not isinstance(exc, sa_exc.IntegrityError):
        return None
    orig = getattr(exc.orig, "__cause__", None) or exc.orig
    if isinstance(orig, asyncpg.exceptions.UniqueViolationError):
        return 409, "conflict", "Conflict", "A record with the same unique values already exists."
    if isinstance(orig, asyncpg.exceptions.ForeignKeyViolationError):
        return (
            422,
            "invalid_reference",
            "Unprocessable Content",
            "The request refers to a record that does not exist.",
        )
    return 422, "constraint_violation", "Unprocessable Content", "The values break a rule."


def _allowed_methods(request: Request) -> str:
    """Every method the path accepts: routing's 405 names only those of the first route that
    matched the path, and a path often has two (GET and PATCH)."""
    table: list[tuple[re.Pattern[str], set[str]]] | None = getattr(
        request.app.state, "methods_by_path", None
    )
    if table is None:
        table = [
            (compile_path(context.path)[0], set(context.methods or ()))
            for context in iter_route_contexts(request.app.routes)
            if context.path
        ]
        request.app.state.methods_by_path = table
    path = request.scope["path"]
    return ", ".join(sorted({m for regex, methods in table if regex.match(path) for m in methods}))


def install_error_handlers(app: FastAPI) -> None:
    async def on_problem(request: Request, exc: Exception) -> Response:
        exc = cast(ProblemError, exc)
        return problem_response(
            request,
            status=exc.status,
            code=exc.code,
            title=exc.title,
            detail=exc.detail,
            errors=exc.errors,
            allowed=exc.allowed,
            headers=exc.headers,
        )

    async def on_validation(request: Request, exc: Exception) -> Response:
        exc = cast(RequestValidationError, exc)
        errors = validation_errors(exc.errors())
        return problem_response(
            request,
            status=422,
            code="validation_error",
            title="Unprocessable Content",
            detail=REQUEST_INVALID,
            errors=errors,
        )

    async def on_http(request: Request, exc: Exception) -> Response:
        exc = cast(StarletteHTTPException, exc)
        code, title = _HTTP_TITLES.get(exc.status_code, ("http_error", "HTTP Error"))
        detail = exc.detail if isinstance(exc.detail, str) and exc.detail != title else title
        if exc.status_code == 404 and detail == title:
            detail = "No resource at this path."
        if exc.status_code == 413:
            detail = "The request body is larger than this endpoint accepts."
        headers = exc.headers
        if exc.status_code == 405:
            headers = {**(headers or {}), "Allow": _allowed_methods(request)}
        return problem_response(
            request,
            status=exc.status_code,
            code=code,
            title=title,
            detail=detail,
            headers=headers,
        )

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        if _is_unavailable(exc):
            logger.warning("database_unavailable", error=type(exc).__name__, exc_info=exc)
            retry = str(get_settings().retry_after_s)
            return problem_response(
                request,
                status=503,
                code="service_unavailable",
                title="Service Unavailable",
                detail="The database is unavailable or busy; retry shortly.",
                headers={"Retry-After": retry},
            )
        integrity = _integrity_problem(exc)
        if integrity is not None:
            status, code, title, detail = integrity
            return problem_response(request, status=status, code=code, title=title, detail=detail)
        if _is_bad_text(exc):
            return problem_response(
                request,
                status=422,
                code="validation_error",
                title="Unprocessable Content",
                detail="The request contains characters that cannot be stored.",
            )
        logger.error("unhandled_exception", exc_info=exc)
        return problem_response(
            request,
            status=500,
            code="internal_error",
            title="Internal Server Error",
            detail="An unexpected error occurred; it has been logged with the request id.",
        )

    app.add_exception_handler(ProblemError, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    # Unexpected exceptions of any other class are turned into a 500 problem by the
    # request-context middleware, which also logs them with the request id.
    for cls in (
        sa_exc.SQLAlchemyError,
        asyncpg.PostgresError,
        asyncpg.InterfaceError,
        asyncpg.InternalClientError,
        OSError,
        UnicodeError,
    ):
        app.add_exception_handler(cls, on_unexpected)


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
