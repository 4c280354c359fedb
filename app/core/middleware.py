"""The outermost middleware: request id, body size limit, access log, metrics, last-resort 500.

Pure ASGI (not BaseHTTPMiddleware) so that it adds no task or copy per request.

The body limit lives here rather than in `FastAPI(max_body_size=…)`: Starlette's limiter
replaces any response to a request whose declared Content-Length is too large with a
plain-text 413, so clients would not get a problem document.
"""

from __future__ import annotations

import os
import re
import time
from typing import Any

import structlog
from prometheus_client import Counter, Histogram
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.error_handlers import problem_response
from app.core.logging import log_access

logger = structlog.get_logger("app.access")

REQUESTS = Counter(
    "http_requests_total", "HTTP requests by route and status", ["method", "route", "status"]
)
LATENCY = Histogram(
    "http_request_duration_seconds",
    "HTTP request latency by route",
    ["method", "route"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

# The metric children per label set, looked up once: `labels()` validates and joins the
# label values on every call.
_counters: dict[tuple[str, str, int], Any] = {}
_histograms: dict[tuple[str, str], Any] = {}


def _observe(method: str, template: str, status: int, elapsed: float) -> None:
    counter = _counters.get((method, template, status))
    if counter is None:
        counter = _counters[method, template, status] = REQUESTS.labels(
            method, template, str(status)
        )
    histogram = _histograms.get((method, template))
    if histogram is None:
        histogram = _histograms[method, template] = LATENCY.labels(method, template)
    counter.inc()
    histogram.observe(elapsed)


_REQUEST_ID = re.compile(r"^[A-Za-z0-9._\-]{1,64}$")


DEFAULT_MAX_BODY_BYTES = 1024 * 1024


def _content_length(scope: Scope) -> int | None:
    raw = next((v for k, v in scope["headers"] if k == b"content-length"), None)
    return int(raw) if raw is not None and raw.isdigit() else None


def limit_body(scope: Scope, receive: Receive, default_limit: int) -> Receive:
    """`receive` that raises 413 once the body exceeds the limit (handled as a problem).

    The limit is read when the body is first read, after routing, so that a route may declare
    a larger one (AppRoute keeps a route's `max_body_size=` as `max_body_bytes`).
    """
    declared = _content_length(scope)
    received = 0

    async def receive_with_limit() -> Message:
        nonlocal received
        limit = getattr(scope.get("route"), "max_body_bytes", None) or default_limit
        if declared is not None and declared > limit:
            raise HTTPException(413)
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise HTTPException(413)
        return message

    return receive_with_limit


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        supplied = next((v for k, v in scope["headers"] if k == b"x-request-id"), b"").decode(
            "latin-1"
        )
        request_id = supplied if _REQUEST_ID.match(supplied) else os.urandom(16).hex()
        scope.setdefault("state", {})["request_id"] = request_id
        structlog.contextvars.bind_contextvars(request_id=request_id)
        status = 500
        response_started = False
        receive = limit_body(scope, receive, self.max_body_bytes)

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            logger.error("unhandled_exception", exc_info=exc)
            if response_started:
                raise
            response = problem_response(
                Request(scope),
                status=500,
                code="internal_error",
                title="Internal Server Error",
                detail="An unexpected error occurred; it has been logged with the request id.",
            )
            await response(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope["method"]
            _observe(method, template, status, elapsed)
            log_access(method, scope["path"], status, round(elapsed * 1000, 2))
            structlog.contextvars.clear_contextvars()
