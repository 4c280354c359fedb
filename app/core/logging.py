"""JSON logs through structlog, with the request id bound to every line of a request."""

from __future__ import annotations

import json as jsonlib
import logging
import sys
from datetime import UTC, datetime

import structlog

ACCESS_LOGGER = "app.access"
_dumps = jsonlib.JSONEncoder(default=str).encode
_access = structlog.get_logger(ACCESS_LOGGER)
# Whether access lines are written straight to stderr (JSON logs at INFO or below).
_direct_access = False


def log_access(method: str, path: str, status: int, duration_ms: float) -> None:
    """One access line per request.

    With JSON logs the line is rendered here, in exactly the shape the structlog pipeline
    gives (same keys, order and timestamp), and written in one call: the general pipeline
    (a stdlib record, the handler, the formatter's processors) costs more than the rest of a
    read by id. Otherwise it goes through structlog like every other line.
    """
    if not _direct_access:
        _access.info("request", method=method, path=path, status=status, duration_ms=duration_ms)
        return
    context = structlog.contextvars.get_contextvars()
    bound = "".join(f", {_dumps(k)}: {_dumps(v)}" for k, v in context.items())
    sys.stderr.write(
        f'{{"method": {_dumps(method)}, "path": {_dumps(path)}, "status": {status}, '
        f'"duration_ms": {duration_ms!r}, "event": "request"{bound}, "level": "info", '
        f'"logger": "{ACCESS_LOGGER}", "timestamp": '
        f'"{datetime.now(UTC).isoformat().replace("+00:00", "Z")}"}}\n'
    )


def configure_logging(level: str = "INFO", *, json: bool = True) -> None:
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # The request middleware writes one access line per request; uvicorn's would repeat it.
    logging.getLogger("uvicorn.access").disabled = True
    logging.getLogger("httpx").setLevel(logging.WARNING)
    global _direct_access
    _direct_access = json and root.isEnabledFor(logging.INFO)
