"""The HTTP handlers that answer every error as an RFC 9457 problem document.

Domain errors (`ProblemError`), request validation, routing errors, database outages and
constraint violations that escaped a repository each get their status and stable `code`;
anything else is a 500 logged with the request id. No stack trace ever reaches a client.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any, cast

import asyncpg
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from app.core.config import get_settings
from app.core.errors import (
    PROBLEM_MEDIA_TYPE,
    REQUEST_INVALID,
    TYPE_BASE,
    FieldError,
    Problem,
    ProblemError,
    validation_errors,
)

logger = structlog.get_logger("app.errors")

# RFC 9110's names where Python's `HTTPStatus` (before 3.13) still carries RFC 7231's.
_RFC_9110_PHRASES = {413: "Content Too Large", 422: "Unprocessable Content"}

# SQLSTATEs after which the request may succeed if retried: the server is going away or
# refusing connections, or the statement lost a lock wait, a serialisation or a deadlock.
RETRYABLE_SQLSTATES = frozenset(
    {"57P01", "57P02", "57P03", "53300", "57014", "55P03", "40001", "40P01"}
)


def is_retryable_state(state: str) -> bool:
    """Whether a statement that failed with this SQLSTATE may succeed if retried: a lost
    connection (class 08) or one of `RETRYABLE_SQLSTATES`."""
    return state.startswith("08") or state in RETRYABLE_SQLSTATES


_TEXT_SQLSTATES = frozenset({"22021", "22P05"})  # bytes not valid in the encoding


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


def status_title(status: int) -> tuple[str, str]:
    """The stable code and the title of an HTTP status: `(content_too_large, Content Too Large)`."""
    try:
        phrase = _RFC_9110_PHRASES.get(status) or HTTPStatus(status).phrase
    except ValueError:
        return "http_error", "HTTP Error"
    return phrase.lower().replace(" ", "_").replace("-", "_"), phrase


def _sqlstate(exc: BaseException) -> str | None:
    orig = getattr(exc, "orig", None)
    return getattr(orig, "sqlstate", None)


def _cause(exc: BaseException) -> BaseException | None:
    """The driver's exception behind SQLAlchemy's wrapper."""
    orig = getattr(exc, "orig", None)
    return getattr(orig, "__cause__", None) or orig


def _is_unavailable(exc: BaseException) -> bool:
    """Whether the database could not serve the request (a 503 the client may retry)."""
    if isinstance(exc, (sa_exc.TimeoutError, ConnectionError, OSError, TimeoutError)):
        return True
    if not isinstance(exc, sa_exc.DBAPIError):
        return False
    if exc.connection_invalidated or isinstance(exc, sa_exc.InterfaceError):
        return True
    state = _sqlstate(exc)
    if state is not None and is_retryable_state(state):
        return True
    return isinstance(
        _cause(exc),
        (
            asyncpg.PostgresConnectionError,
            asyncpg.InterfaceError,
            asyncpg.InternalClientError,
            ConnectionError,
            OSError,
            TimeoutError,
        ),
    )


def _is_bad_text(exc: BaseException) -> bool:
    if isinstance(exc, UnicodeError):
        return True
    if isinstance(exc, sa_exc.DBAPIError):
        return _sqlstate(exc) in _TEXT_SQLSTATES or isinstance(_cause(exc), UnicodeError)
    return False


def _integrity_problem(exc: BaseException) -> tuple[int, str, str, str] | None:
    """Constraint violations that escaped a repository's own translation."""
    if not isinstance(exc, sa_exc.IntegrityError):
        return None
    state = _sqlstate(exc)
    if state == "23505":
        return 409, "conflict", "Conflict", "A record with the same unique values already exists."
    if state == "23503":
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
    path = request.scope["path"]
    table: Sequence[Any] = getattr(request.app.state, "api_routes", ())
    methods = {m for route in table if route.path_regex.match(path) for m in route.methods}
    return ", ".join(sorted(methods))


def _json_error(document: Any, raw: Mapping[str, Any]) -> FieldError:
    """A body that is not JSON: where it breaks, by line and column."""
    loc = raw.get("loc", ())
    position = loc[1] if len(loc) > 1 and isinstance(loc[1], int) else None
    reason = str((raw.get("ctx") or {}).get("error", "not valid JSON"))
    if isinstance(document, bytes):
        document = document.decode("utf-8", "replace")
    if position is None or not isinstance(document, str):
        return FieldError(pointer="/body", detail=f"The body is not valid JSON: {reason}.")
    line = document.count("\n", 0, position) + 1
    column = position - (document.rfind("\n", 0, position) + 1) + 1
    return FieldError(
        pointer="/body",
        detail=f"The body is not valid JSON: {reason} at line {line}, column {column}.",
    )


def _sent_as_json(request: Request) -> bool:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


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
        raw_errors = exc.errors()
        errors = []
        for raw, error in zip(raw_errors, validation_errors(raw_errors), strict=True):
            if raw.get("type") == "json_invalid":
                error = _json_error(exc.body, raw)
            elif error.pointer == "/body" and not _sent_as_json(request):
                error = FieldError(
                    pointer="/body",
                    detail="The body must be JSON, sent with `Content-Type: application/json`.",
                )
            errors.append(error)
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
        code, title = status_title(exc.status_code)
        if exc.status_code == 422:
            code = "validation_error"
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
    for cls in (sa_exc.SQLAlchemyError, OSError, UnicodeError):
        app.add_exception_handler(cls, on_unexpected)
