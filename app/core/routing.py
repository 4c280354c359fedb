"""The route class every router uses: one place for behaviour shared by all routes.

- Every POST gets the `Idempotency-Key` dependency (routes may declare a stricter one).
- A successful idempotent POST stores its response in the request's transaction, which the
  session dependency commits before the response is sent.
- A route's `max_body_size=` is enforced by RequestContextMiddleware (as `max_body_bytes`),
  not by Starlette's limiter, which would answer with a plain-text 413, not a problem.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.convertors import Convertor, register_url_convertor
from starlette.responses import Response

from app.core.errors import FieldError, Unprocessable
from app.core.idempotency import Idempotency, save_response


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
        known = _query_names(self.dependant)

        async def handle(request: Request) -> Response:
            _refuse_unknown_query_parameters(request, known)
            _refuse_repeated_query_parameters(request)
            response = await handler(request)
            claim = getattr(request.state, "idempotency", None)
            if claim is not None and response.status_code < 400:
                await save_response(request.state.session, claim, response)
            return response

        return handle


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
