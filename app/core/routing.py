"""The route class every router uses: one place for behaviour shared by all routes.

- Every POST gets the `Idempotency-Key` dependency (routes may declare a stricter one).
- The request's session (`app.core.db.get_session`) is ended here, once the endpoint has
  returned and before the response is sent: committed, or rolled back if anything failed.
- A successful idempotent POST stores its response in the request's transaction, which is
  then committed with it.
- A route's `max_body_size=` is kept as `max_body_bytes` and enforced by
  RequestContextMiddleware, which answers with a problem document.
- A query parameter the operation does not take, or one given twice, is a 422.
- A JSON response gets its ETag and caching headers, and a GET its 304 (`app.core.caching`).

It wraps FastAPI's own handler and adds nothing to how a request is parsed or answered.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.convertors import Convertor, register_url_convertor
from starlette.responses import Response
from starlette.routing import compile_path

from app.core.caching import with_validators
from app.core.db import end_session
from app.core.errors import FieldError, Unprocessable
from app.core.idempotency import Idempotency, save_response


class AppRoute(APIRoute):
    # Whether a query parameter the operation does not take, or a repeated one, is a 422.
    refuses_unknown_query = True

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
        # The routers declare no dependencies of their own: the route's dependant is the
        # operation's whole tree.
        known = query_names(self.dependant)

        async def handle(request: Request) -> Response:
            try:
                # Most requests (a read by id, a POST) have no query string to check.
                if self.refuses_unknown_query and request.scope.get("query_string"):
                    refuse_unknown_query_parameters(request, known)
                    refuse_repeated_query_parameters(request)
                response = with_validators(request, await handler(request))
                # `request.state` is the scope's "state" dict: a lookup there costs no
                # AttributeError when the request claimed no key.
                claim = request.scope.get("state", {}).get("idempotency")
                if claim is not None and response.status_code < 400:
                    await save_response(request.state.session, claim, response)
            except BaseException:
                await end_session(request, failed=True)
                raise
            await end_session(request, failed=False)
            return response

        return handle


class ProbeRoute(AppRoute):
    """A route for probes and scrapers (`/livez`, `/readyz`, `/metrics`), which add query
    parameters of their own: they are ignored."""

    refuses_unknown_query = False


@dataclass(frozen=True, slots=True)
class ServedRoute:
    """A route as the app serves it: its full path (the router's prefix included)."""

    prefix: str
    route: APIRoute
    path_regex: re.Pattern[str]

    @property
    def path_format(self) -> str:
        """The path as OpenAPI names it: `/api/v1/innovations/{innovation_id}`."""
        return self.prefix + self.route.path_format

    @property
    def methods(self) -> set[str]:
        return self.route.methods or set()


def served_routes(routers: Iterable[tuple[str, APIRouter]]) -> list[ServedRoute]:
    """The API routes of routers included at these prefixes, in the order they match."""
    served = []
    for prefix, router in routers:
        for route in router.routes:
            if isinstance(route, APIRoute):
                served.append(ServedRoute(prefix, route, compile_path(prefix + route.path)[0]))
    return served


def query_names(dependant: Dependant) -> frozenset[str]:
    """The query parameters an operation takes, its dependencies' included."""
    names = {field.alias for field in dependant.query_params}
    for dependency in dependant.dependencies:
        names |= query_names(dependency)
    return frozenset(names)


def refuse_unknown_query_parameters(request: Request, known: frozenset[str]) -> None:
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


def refuse_repeated_query_parameters(request: Request) -> None:
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
