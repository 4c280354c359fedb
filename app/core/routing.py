"""The route class every router uses: one place for behaviour shared by all routes.

- Every POST gets the `Idempotency-Key` dependency (routes may declare a stricter one).
- A successful idempotent POST stores its response in the request's transaction, which the
  session dependency commits before the response is sent.
- A route's `max_body_size=` is enforced by RequestContextMiddleware (as `max_body_bytes`),
  not by Starlette's limiter, which would answer with a plain-text 413, not a problem.
- A read by id (GET with only a session, an open-data rule and id path parameters) runs on a
  lean handler: the same dependencies called directly, without the general dependency solver,
  and RequestContextMiddleware serves it itself (`LeanRoutes`), before the framework's router.
- So does a POST of one JSON body under a key's rule (`Depends(requires(...))`), with its
  `Idempotency-Key` and id path parameters (`lean_write`): a progress report, a batch of them.
"""

from __future__ import annotations

import email.message
import json
import uuid
from collections.abc import Callable, Coroutine
from typing import Any, cast

from fastapi import Depends, FastAPI, Request, params
from fastapi._compat import Undefined
from fastapi.datastructures import DefaultPlaceholder
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import request_body_to_args, request_params_to_args
from fastapi.exceptions import RequestValidationError
from fastapi.routing import (
    APIRoute,
    _effective_route_context_var,
    iter_route_contexts,
    serialize_response,
)
from starlette._exception_handler import wrap_app_handling_exceptions
from starlette._utils import get_route_path
from starlette.convertors import Convertor, register_url_convertor
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import Receive, Scope, Send

from app.core.db import close_read_session, get_session, open_read_session
from app.core.errors import FieldError, Unprocessable
from app.core.idempotency import Idempotency, save_response
from app.core.security import MayRead, Requires, bearer, get_principal

# Where LeanRoutes puts a lean route's own body limit for RequestContextMiddleware.
MAX_BODY_BYTES_SCOPE_KEY = "app.max_body_bytes"

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class AppRoute(APIRoute):
    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        methods = {m.upper() for m in kwargs.get("methods") or ()}
        if "POST" in methods:
            deps = list(kwargs.get("dependencies") or [])
            if not any(isinstance(d.dependency, Idempotency) for d in deps):
                deps.append(Depends(Idempotency()))
            kwargs["dependencies"] = deps
        max_body_bytes: int | None = kwargs.pop("max_body_size", None)
        super().__init__(path, endpoint, **kwargs)
        self.max_body_bytes = max_body_bytes

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        # Under an included router FastAPI builds the handler for the route as included (its
        # path, the router's dependencies): read the route from there, as FastAPI does.
        context = _effective_route_context_var.get()
        route = cast(
            APIRoute, context if context is not None and context.original_route is self else self
        )
        known = _query_names(route.dependant)

        async def handle(request: Request) -> Response:
            _refuse_unknown_query_parameters(request, known)
            _refuse_repeated_query_parameters(request)
            response = await handler(request)
            claim = getattr(request.state, "idempotency", None)
            if claim is not None and response.status_code < 400:
                await save_response(request.state.session, claim, response)
            return response

        return lean_read(route, handle) or lean_write(route, handle) or handle


def lean_read(
    route: APIRoute, standard: Callable[[Request], Coroutine[Any, Any, Response]]
) -> Callable[[Request], Coroutine[Any, Any, Response]] | None:
    """A handler for a read by id that calls its few dependencies directly, or None when the
    route declares anything else (then FastAPI's general handler serves it).

    A route qualifies when it is a GET whose dependencies are only the request session and
    open-data rules (`MayRead`), whose parameters are only those, `request`, `response` and
    path ids (`{name:id}`, already UUIDs), and whose JSON response is its `response_model`
    (or a `Response` it returns itself).
    It then behaves as FastAPI would: the unknown-parameter refusals, the session opened and
    closed around the endpoint, the rule checked, the response validated and serialised by
    FastAPI's own `serialize_response`, the sub-response's status and headers kept. With a
    dependency override in place (tests), the general handler is used.
    """
    dependant = route.dependant
    call = dependant.call
    if (
        route.methods != {"GET"}
        or call is None
        or route.status_code not in (None, 200)
        or dependant.body_params
        or not _plainly_served(route)
    ):
        return None
    ids = _id_parameters(route)
    if ids is None:
        return None
    rules: list[tuple[str | None, MayRead]] = []
    session_names: list[str] = []
    for dependency in dependant.dependencies:
        if dependency.call is get_session:
            if dependency.name:
                session_names.append(dependency.name)
        elif isinstance(dependency.call, MayRead):
            rules.append((dependency.name, dependency.call))
        else:
            return None
    field = route.response_field
    overrides = route.dependency_overrides_provider
    request_name, response_name = dependant.request_param_name, dependant.response_param_name

    async def handle(request: Request) -> Response:
        if getattr(overrides, "dependency_overrides", None):
            return await standard(request)
        _refuse_unknown_query_parameters(request, frozenset())
        session = open_read_session(request)
        try:
            values: dict[str, Any] = {name: request.path_params[name] for name in ids}
            if rules:
                principal = await get_principal(request, session, await bearer(request))
                for name, rule in rules:
                    checked = rule.check(principal)
                    if name:
                        values[name] = checked
            for name in session_names:
                values[name] = session
            if request_name:
                values[request_name] = request
            sub = Response()
            del sub.headers["content-length"]
            sub.status_code = None  # type: ignore[assignment]
            if response_name:
                values[response_name] = sub
            result = await call(**values)
            if isinstance(result, Response):
                return result
            content = await serialize_response(field=field, response_content=result, dump_json=True)
        finally:
            await close_read_session(session)
        response = Response(
            content=content, media_type="application/json", status_code=sub.status_code or 200
        )
        response.headers.raw.extend(sub.headers.raw)
        return response

    return handle


def lean_write(
    route: APIRoute, standard: Callable[[Request], Coroutine[Any, Any, Response]]
) -> Callable[[Request], Coroutine[Any, Any, Response]] | None:
    """A handler for a POST of one JSON body that calls its few dependencies directly, or
    None when the route declares anything else (then FastAPI's general handler serves it).

    A route qualifies when its dependencies are only the request session, the
    `Idempotency-Key` dependency and key rules (`Requires`), its parameters only those, the
    body, `request`, `response` and path parameters, and its JSON response is its `response_model`
    (or a `Response` it returns itself). It then does what FastAPI's handler and `AppRoute`
    do, in their order: the query-parameter refusals; the body read and decoded (a JSON error
    is a 422 before anything else); the key's principal; each dependency in its declared
    order, an invalid `Idempotency-Key` header collected with the path's and the body's
    errors into one 422;
    the endpoint; the response serialised by FastAPI's `serialize_response`, stored under the
    idempotency claim, and the transaction committed before the response is returned. Any
    exception rolls the transaction back. With a dependency override in place (tests), the
    general handler is used.
    """
    dependant = route.dependant
    call = dependant.call
    body_field = getattr(route, "body_field", None)
    if (
        route.methods != {"POST"}
        or call is None
        or body_field is None
        or len(dependant.body_params) != 1
        or getattr(route, "_embed_body_fields", True)
        or isinstance(body_field.field_info, params.Form)
        or not _plainly_served(route)
    ):
        return None
    path_params = dependant.path_params
    steps: list[tuple[str | None, Dependant]] = []
    session_names: list[str] = []
    for dependency in dependant.dependencies:
        if dependency.call is get_session:
            if dependency.name:
                session_names.append(dependency.name)
        elif isinstance(dependency.call, Idempotency) and _is_idempotency(dependency):
            steps.append((dependency.name, dependency))
        elif isinstance(dependency.call, Requires) and _needs_only_principal(dependency):
            steps.append((dependency.name, dependency))
        else:
            return None
    if not any(isinstance(d.call, Idempotency) for _, d in steps):
        return None
    field = route.response_field
    overrides = route.dependency_overrides_provider
    request_name, response_name = dependant.request_param_name, dependant.response_param_name
    body_name = body_field.name
    strict = route.strict_content_type
    strict_content_type = strict.value if isinstance(strict, DefaultPlaceholder) else strict
    status_code = route.status_code or 200

    async def handle(request: Request) -> Response:
        if getattr(overrides, "dependency_overrides", None):
            return await standard(request)
        _refuse_unknown_query_parameters(request, frozenset())
        _refuse_repeated_query_parameters(request)
        body = await _json_body(request, strict_content_type)
        async with request.app.state.db.write_sessions() as session:
            request.state.session = session
            try:
                principal = await get_principal(request, session, await bearer(request))
                values: dict[str, Any] = {}
                errors: list[Any] = []
                for name, dependency in steps:
                    rule = cast(Any, dependency.call)
                    if isinstance(rule, Requires):
                        checked = await rule(principal)
                    else:
                        headers, header_errors = request_params_to_args(
                            dependency.header_params, request.headers
                        )
                        if header_errors:
                            errors.extend(header_errors)
                            continue
                        checked = await rule(request, session, principal, **headers)
                    if name:
                        values[name] = checked
                path_values, path_errors = request_params_to_args(path_params, request.path_params)
                values.update(path_values)
                errors.extend(path_errors)
                received, body_errors = await request_body_to_args(
                    body_fields=dependant.body_params,
                    received_body=body,
                    embed_body_fields=False,
                )
                errors.extend(body_errors)
                if errors:
                    raise RequestValidationError(errors, body=body)
                values[body_name] = received[body_name]
                for name in session_names:
                    values[name] = session
                if request_name:
                    values[request_name] = request
                sub = Response()
                del sub.headers["content-length"]
                sub.status_code = None  # type: ignore[assignment]
                if response_name:
                    values[response_name] = sub
                result = await call(**values)
                if isinstance(result, Response):
                    response = result
                else:
                    content = await serialize_response(
                        field=field, response_content=result, dump_json=True
                    )
                    response = Response(
                        content=content,
                        media_type="application/json",
                        status_code=sub.status_code or status_code,
                    )
                    response.headers.raw.extend(sub.headers.raw)
                claim = getattr(request.state, "idempotency", None)
                if claim is not None and response.status_code < 400:
                    await save_response(session, claim, response)
            except BaseException:
                await session.rollback()
                raise
            await session.commit()
        return response

    return handle


def _plainly_served(route: APIRoute) -> bool:
    """Whether the route's JSON response is its response model, serialised as is, and its
    endpoint takes nothing a lean handler does not provide."""
    dependant = route.dependant
    return not (
        route.response_field is None
        or not isinstance(route.response_class, DefaultPlaceholder)
        or route.response_model_include is not None
        or route.response_model_exclude is not None
        or route.response_model_exclude_unset
        or route.response_model_exclude_defaults
        or route.response_model_exclude_none
        or not route.response_model_by_alias
        or dependant.query_params
        or dependant.header_params
        or dependant.cookie_params
        or dependant.background_tasks_param_name
        or dependant.security_scopes_param_name
        or dependant.websocket_param_name
        or dependant.http_connection_param_name
    )


def _id_parameters(route: APIRoute) -> list[str] | None:
    """The route's path parameters when every one is an id (`{name:id}`), else None."""
    dependant = route.dependant
    ids = [p.name for p in dependant.path_params]
    if any(not isinstance(route.param_convertors.get(n), IdConvertor) for n in ids):
        return None
    if {p.alias for p in dependant.path_params} != set(ids):
        return None
    return ids


def _is_idempotency(dependency: Dependant) -> bool:
    """`Idempotency()` as declared: the session, the principal and its header, nothing else."""
    return (
        {d.call for d in dependency.dependencies} == {get_session, get_principal}
        and [p.alias for p in dependency.header_params] == ["Idempotency-Key"]
        and not (dependency.query_params or dependency.cookie_params or dependency.body_params)
    )


def _needs_only_principal(dependency: Dependant) -> bool:
    return (
        [d.call for d in dependency.dependencies] == [get_principal]
        and not dependency.path_params
        and not (dependency.query_params or dependency.header_params or dependency.cookie_params)
    )


async def _json_body(request: Request, strict_content_type: bool) -> Any:
    """The request body as FastAPI's handler reads it for a JSON body parameter: decoded
    JSON when the content type is JSON (or absent, if not strict), else the raw bytes, and
    `Undefined` when there is none."""
    try:
        body_bytes = await request.body()
        if not body_bytes:
            return Undefined
        content_type = request.headers.get("content-type")
        if not content_type:
            return await request.json() if not strict_content_type else body_bytes
        message = email.message.Message()
        message["content-type"] = content_type
        if message.get_content_maintype() == "application":
            subtype = message.get_content_subtype()
            if subtype == "json" or subtype.endswith("+json"):
                return await request.json()
        return body_bytes
    except json.JSONDecodeError as exc:
        raise RequestValidationError(
            [
                {
                    "type": "json_invalid",
                    "loc": ("body", exc.pos),
                    "msg": "JSON decode error",
                    "input": {},
                    "ctx": {"error": exc.msg},
                }
            ],
            body=exc.doc,
        ) from exc
    except HTTPException:
        raise
    except Exception as exc:
        raise HTTPException(status_code=400, detail="There was an error parsing the body") from exc


async def _general_only(request: Request) -> Response:
    raise AssertionError("only for the eligibility test")


class LeanRoutes:
    """The lean routes of an app, served by the outermost middleware itself (`serve`).

    For a request on a lean route (a GET of `lean_read`, a POST of `lean_write`), the
    request skips the framework's middleware and router: the route is matched here, its path
    parameters converted, its lean handler called, and an exception answered by the app's own
    exception handlers, as Starlette's exception layer does. A route is taken only when no
    route before it (in the app's order) matches its paths for its method, so the match is
    the one the router would make. With dependency overrides in place (tests), nothing is
    served here.
    """

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.routes: dict[str, list[tuple[Any, int | None, Handler]]] = {"GET": [], "POST": []}
        earlier: list[Any] = []
        for context in iter_route_contexts(app.routes):
            # The route as included (prefix, router dependencies): FastAPI's own view of it.
            route: Any = getattr(context, "_effective_route", None) or context.original_route
            original = context.original_route
            handler = None
            if isinstance(original, AppRoute):
                handler = lean_read(route, _general_only) or lean_write(route, _general_only)
            if handler is not None:
                method = next(iter(route.methods))
                sample = {"type": "http", "method": method, "path": _sample_path(route)}
                if not any(r.matches(sample)[0] is Match.FULL for r in earlier):
                    limit = cast(AppRoute, original).max_body_bytes
                    self.routes[method].append((route, limit, handler))
            earlier.append(route)
        handlers = app.exception_handlers
        self.exception_handlers = (
            {k: v for k, v in handlers.items() if not isinstance(k, int)},
            {k: v for k, v in handlers.items() if isinstance(k, int)},
        )

    async def serve(self, scope: Scope, receive: Receive, send: Send) -> bool:
        """Answer the request if it is for a lean route; whether it did."""
        routes = self.routes.get(scope["method"])
        if not routes or self.app.dependency_overrides:
            return False
        path = get_route_path(scope)
        for route, limit, handler in routes:
            found = route.path_regex.match(path)
            if found is None:
                continue
            params = found.groupdict()
            for name, convertor in route.param_convertors.items():
                params[name] = convertor.convert(params[name])
            scope["route"] = route
            scope["endpoint"] = route.endpoint
            scope["path_params"] = params
            if limit is not None:
                scope[MAX_BODY_BYTES_SCOPE_KEY] = limit
            scope.setdefault("router", self.app.router)
            scope["starlette.exception_handlers"] = self.exception_handlers
            request = Request(scope, receive, send)

            async def respond(scope: Scope, receive: Receive, send: Send) -> None:
                response = await handler(request)  # noqa: B023 - awaited in this iteration
                await response(scope, receive, send)

            await wrap_app_handling_exceptions(respond, request)(scope, receive, send)
            return True
        return False


def _sample_path(route: Any) -> str:
    """A path the route matches, every parameter an id."""
    path = str(route.path_format)
    while "{" in path:
        start, end = path.index("{"), path.index("}")
        path = path[:start] + "00000000-0000-4000-8000-000000000000" + path[end + 1 :]
    return path


def _query_names(dependant: Dependant) -> frozenset[str]:
    """The query parameters an operation takes, its dependencies' included."""
    names = {field.alias for field in dependant.query_params}
    for dependency in dependant.dependencies:
        names |= _query_names(dependency)
    return frozenset(names)


def _refuse_unknown_query_parameters(request: Request, known: frozenset[str]) -> None:
    """A query parameter the operation does not take is a 422, as an unknown body field is:
    a misspelt filter would otherwise silently return everything."""
    unknown = sorted({name for name in request.query_params if name not in known})
    if unknown:
        raise Unprocessable(
            "Unknown query parameter.",
            errors=[
                FieldError(pointer=f"/query/{n}", detail="This operation takes no such parameter.")
                for n in unknown
            ],
        )


def _refuse_repeated_query_parameters(request: Request) -> None:
    """Every query parameter takes one value: a repeated one would silently count once."""
    names = [name for name, _ in request.query_params.multi_items()]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise Unprocessable(
            "A query parameter was given more than once.",
            errors=[FieldError(pointer=f"/query/{n}", detail="Give it once.") for n in repeated],
        )


class IdConvertor(Convertor[uuid.UUID]):
    """`{name:id}`: a path segment that is a UUID (either case); any other segment does not
    match the route. For a template that sits beside a literal one (`/innovations/{id}` and
    `/innovations/export.csv`), so that `PATCH /innovations/export.csv` is a 405, not a 422."""

    regex = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"

    def convert(self, value: str) -> uuid.UUID:
        return uuid.UUID(value)

    def to_string(self, value: uuid.UUID) -> str:
        return str(value)


register_url_convertor("id", IdConvertor())
