"""The application factory."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator
from typing import Any, cast

import structlog
from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from starlette.responses import Response

from app.competitions.router import router as competitions_router
from app.core.config import Settings, get_settings
from app.core.db import Database, create_engine
from app.core.docs import add_components, add_links, restore_examples, route_models
from app.core.embedded import resolve_database_url
from app.core.error_handlers import install_error_handlers
from app.core.errors import PROBLEM_MEDIA_TYPE, FieldError, Problem
from app.core.idempotency import Replay, purge_expired
from app.core.logging import configure_logging
from app.core.middleware import RequestContextMiddleware
from app.core.routing import ServedRoute, served_routes
from app.core.security import SECURITY_SCHEME, SECURITY_SCHEME_NAME, access_rule_of
from app.events.router import router as events_router
from app.innovations.router import router as innovations_router
from app.institutionalisation.router import router as institutionalisation_router
from app.institutions.router import router as institutions_router
from app.ops.docs import install_docs
from app.ops.router import router as ops_router
from app.regions.router import router as regions_router
from app.replication.router import router as replication_router
from app.replication.schemas import BatchReport
from app.scaling.router import router as scaling_router
from app.stats import repository as stats_repository
from app.stats.router import router as stats_router
from app.sustainability.router import router as sustainability_router
from app.webhooks.dispatcher import Running as RunningDispatcher
from app.webhooks.router import router as webhooks_router

logger = structlog.get_logger("app")

API_PREFIX = "/api/v1"

TAGS = [
    {
        "name": "regions",
        "description": "Kemendagri regions (wilayah): 38 provinces and 514 "
        "regencies and cities, from Kepmendagri 300.2.2-2138/2025.",
    },
    {
        "name": "institutions",
        "description": "Institutions (instansi) that own and adopt "
        "innovations: ministries, regional governments, OPDs, hospitals, universities.",
    },
    {
        "name": "innovations",
        "description": "Public-service innovations (inovasi pelayanan publik): the "
        "registry, awards (KIPP, IGA), lineage of replicas, search and CSV export.",
    },
    {
        "name": "replication",
        "description": "Replication programmes (program replikasi): regencies and cities "
        "commit to adopt innovations, with action plans, mentors and progress reports.",
    },
    {
        "name": "scaling",
        "description": "Scaling up (glokalisasi): candidates ranked against criteria, "
        "proposals to adopt an innovation as a provincial or national programme, and "
        "reviewers' decisions.",
    },
    {
        "name": "stats",
        "description": "Statistics (statistik) for dashboards, maps and charts: headline "
        "counts, figures per province and replication flows between provinces. Open data.",
    },
    {
        "name": "sustainability",
        "description": "Sustainability monitoring (pemantauan keberlanjutan): periodic "
        "assessments of innovations and replicas, scored by a versioned rubric; due and "
        "at-risk lists.",
    },
    {
        "name": "competitions",
        "description": "Competitions (kompetisi inovasi): the ministry's yearly KIPP and the "
        "provinces' own, from proposal to decree: entries and their submission rules, "
        "administrative screening, evaluators' scores against versioned rubrics, field "
        "verification, stage rankings, objections (sanggahan), the determination that "
        "creates the awards, and nomination of provincial winners to the national one.",
    },
    {
        "name": "events",
        "description": "The append-only event log (log peristiwa): every "
        "change, for audit and for integrations that sync.",
    },
    {
        "name": "webhooks",
        "description": "Outbound webhooks (webhook keluar): changes pushed to provincial "
        "systems as they happen, signed per the Standard Webhooks specification, retried "
        "until acknowledged, with a delivery log.",
    },
    {
        "name": "institutionalisation",
        "description": "Institutionalisation (pelembagaan inovasi): regulations on "
        "innovation, each government's OPDs against Satu OPD Satu Inovasi (compliance), "
        "incentive funds (DID) and the JIPP hubs. Open data.",
    },
    {"name": "operations", "description": "Liveness, readiness and metrics."},
]

DESCRIPTION = """
System of record for Indonesia's public-service innovation programme (inovasi pelayanan publik).

* **Reads** of published data are open (no key).
* **Writes** need `Authorization: Bearer <api key>` (press *Authorize*).
* Every POST accepts an `Idempotency-Key`; PATCH needs `If-Match` with the record's `ETag`.
* Errors are RFC 9457 `application/problem+json` with a stable `code`.
* Lists use keyset pagination: pass `next_cursor` back as `cursor`.
"""


async def _purge_idempotency_keys(db: Database) -> None:
    while True:
        await asyncio.sleep(900)
        try:
            async with db.write_sessions() as session, session.begin():
                await purge_expired(session)
        except Exception as exc:  # the next round retries; a failed purge loses nothing
            logger.warning("idempotency_purge_failed", error=str(exc))


async def _compact_tallies(db: Database, every_s: float) -> None:
    while True:
        await asyncio.sleep(every_s)
        try:
            async with db.write_sessions() as session, session.begin():
                await stats_repository.compact(session)
        except Exception as exc:  # the next round retries; the figures are exact meanwhile
            logger.warning("tally_compaction_failed", error=str(exc))


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        url = await asyncio.to_thread(
            resolve_database_url, settings.database_url, settings.data_dir
        )
        db = Database.from_engine(create_engine(url, settings))
        app.state.db = db
        purger = asyncio.create_task(_purge_idempotency_keys(db))
        compactor = asyncio.create_task(_compact_tallies(db, settings.tally_compact_seconds))
        # Webhook deliveries, on a small pool of their own: never a request's connection.
        dispatcher = RunningDispatcher(url, settings) if settings.webhook_dispatcher else None
        # Objects made at start-up live for the whole process: keep them out of GC scans.
        gc.collect()
        gc.freeze()
        # A 500-report batch allocates ~100k short-lived objects; at the default threshold
        # (700) the collector runs a hundred times per batch, mostly finding nothing.
        gc.set_threshold(50_000, 20, 10)
        try:
            yield
        finally:
            purger.cancel()
            compactor.cancel()
            if dispatcher is not None:
                await dispatcher.stop()
            await db.dispose()

    configure_logging(settings.log_level, json=settings.log_json)
    app = FastAPI(
        title="Inovasi Hub",
        version="1.0.0",
        description=DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=lifespan,
        generate_unique_id_function=_operation_id,
        docs_url=None,  # served by install_docs, from this origin
        redoc_url=None,
        swagger_ui_parameters={"persistAuthorization": True, "displayRequestDuration": True},
        telemetry=None
        if settings.otel
        else {"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    app.add_middleware(RequestContextMiddleware, max_body_bytes=settings.max_body_bytes)
    install_error_handlers(app)

    async def on_replay(request: Request, exc: Exception) -> Response:
        return cast(Replay, exc).response

    app.add_exception_handler(Replay, on_replay)

    # FastAPI tries the routes in the order they are included: the busiest requests (reads
    # of an innovation, progress reports) are matched first. No route takes another's paths
    # (tests/core/test_access.py, test_every_route_answers_its_own_paths).
    routers = [
        (API_PREFIX, router)
        for router in (
            innovations_router,
            replication_router,
            regions_router,
            institutions_router,
            scaling_router,
            stats_router,
            sustainability_router,
            institutionalisation_router,
            events_router,
            competitions_router,
            webhooks_router,
        )
    ] + [("", ops_router)]
    for prefix, router in routers:
        app.include_router(router, prefix=prefix)
    app.state.api_routes = served_routes(routers)
    install_docs(app)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _operation_id(route: APIRoute) -> str:
    return f"{route.tags[0]}-{route.name}" if route.tags else route.name


_BODY_400 = "Bad request: the body is not UTF-8, or is nested too deeply."
_COMMON = {
    "500": "Unexpected error; logged with the request id.",
    "503": "Database unavailable or busy; retry after `Retry-After` seconds.",
}


def _openapi(app: FastAPI) -> dict[str, Any]:
    """OpenAPI with every error documented as a problem document."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
        tags=app.openapi_tags,
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    components["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    components["Problem"].pop("$defs", None)
    components["FieldError"] = FieldError.model_json_schema()
    add_components(schema, [BatchReport])
    routes: list[ServedRoute] = app.state.api_routes
    restore_examples(schema, route_models(r.route for r in routes) | {Problem, FieldError})
    problem_content = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path, item in schema.get("paths", {}).items():
        for operation in item.values():
            responses = operation.setdefault("responses", {})
            if "422" in responses:
                responses["422"] = {
                    "description": "Validation failed: see `errors`.",
                    "content": problem_content,
                }
            if "requestBody" in operation:  # a body that is not UTF-8 cannot be parsed at all
                responses.setdefault("400", {"description": _BODY_400, "content": problem_content})
            if "428" in responses:  # the route refuses a write without If-Match
                for parameter in operation.get("parameters", []):
                    if parameter["in"] == "header" and parameter["name"] == "If-Match":
                        parameter["required"] = True
            if path.startswith(API_PREFIX) or path == "/readyz":
                for status, description in _COMMON.items():
                    responses.setdefault(
                        status, {"description": description, "content": problem_content}
                    )
    _document_auth(routes, schema)
    add_links(schema)
    app.openapi_schema = schema
    return schema


def _document_auth(routes: list[ServedRoute], schema: dict[str, Any]) -> None:
    """The API key scheme (Swagger UI's *Authorize*), and each operation's requirement as its
    rule declares it. Open-data routes need no key: they show no padlock (`security: []`); a
    key sent to one is still checked, and may show more (an admin sees drafts)."""
    schemes = schema["components"].setdefault("securitySchemes", {})
    schemes[SECURITY_SCHEME_NAME] = SECURITY_SCHEME.model_dump(
        mode="json", by_alias=True, exclude_none=True
    )
    for served in routes:
        rule = access_rule_of(served.route.dependant)
        if rule is None:
            continue
        item = schema["paths"].get(served.path_format, {})
        for method in served.methods:
            operation = item.get(method.lower())
            if operation is not None:
                operation["security"] = [] if rule.anonymous else [{SECURITY_SCHEME_NAME: []}]
