"""Swagger UI (`/docs`) and ReDoc (`/redoc`) served by the service itself.

FastAPI's default pages load their scripts and styles from a CDN, ReDoc's its fonts from Google
and both a favicon from fastapi.tiangolo.com: on an intranet they are blank. Here every script,
style sheet and icon comes from this origin, so the documentation works with no internet.

The files come from the `fastapi-offline` package (1.7.7 ships swagger-ui-dist 5.32.6, the
ReDoc 2.5.3 standalone bundle and FastAPI's favicon). A package rather than files copied from
npm into the repository: it is the one on PyPI that ships both UIs, it follows their releases,
it is pinned in uv.lock like every other dependency (an upgrade is a one-line reviewed change),
and the repository carries no megabytes of minified JavaScript. Only its files are used: the
pages are built here with FastAPI's public helpers (its `FastAPIOffline` would replace our app
factory), and ReDoc's page leaves out the Google Fonts link.

The assets live under a path that carries the package version, so browsers may keep them for a
year (`immutable`); the pages are `no-cache`, so an upgrade is picked up at once, and carry a
Content-Security-Policy that keeps the browser on this origin. The routes are plain Starlette
routes, outside the OpenAPI document and the API's access rules, as FastAPI's own documentation
routes are.
"""

from __future__ import annotations

from importlib.metadata import version

from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from starlette.requests import Request
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DOCS_URL = "/docs"
OAUTH2_REDIRECT_URL = "/docs/oauth2-redirect"
REDOC_URL = "/redoc"

ASSETS_VERSION = version("fastapi-offline")
ASSETS_URL = f"/docs/assets/{ASSETS_VERSION}"
SWAGGER_JS = "swagger-ui-bundle.js"
SWAGGER_CSS = "swagger-ui.css"
REDOC_JS = "redoc.standalone.js"
FAVICON = "favicon.png"

IMMUTABLE = "public, max-age=31536000, immutable"

# The browser holds the pages to their promise: nothing from another origin. ReDoc's sidebar
# shows the Redocly logo from cdn.redoc.ly whatever its options; this refuses it (the image
# hides itself, the text link stays).
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline'",  # the pages' inline start-up script
        "style-src 'self' 'unsafe-inline'",  # both UIs set styles inline
        "img-src 'self' data:",
        "font-src 'self' data:",
        "worker-src 'self' blob:",  # ReDoc builds its search index in a worker
        "object-src 'none'",
        "base-uri 'self'",
    ]
)

router = APIRouter()


def _root(request: Request) -> str:
    """The prefix a proxy serves the app under (`root_path`), for URLs the browser follows."""
    return str(request.scope.get("root_path", ""))


def _asset(request: Request, name: str) -> str:
    return f"{_root(request)}{ASSETS_URL}/{name}"


def _page(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return response


async def swagger_ui(request: Request) -> Response:
    app: FastAPI = request.app
    return _page(
        get_swagger_ui_html(
            openapi_url=f"{_root(request)}{app.openapi_url}",
            title=f"{app.title} - Swagger UI",
            swagger_js_url=_asset(request, SWAGGER_JS),
            swagger_css_url=_asset(request, SWAGGER_CSS),
            swagger_favicon_url=_asset(request, FAVICON),
            oauth2_redirect_url=f"{_root(request)}{OAUTH2_REDIRECT_URL}",
            # No validator badge: Swagger UI's default one is an image from validator.swagger.io.
            swagger_ui_parameters={**(app.swagger_ui_parameters or {}), "validatorUrl": None},
        )
    )


async def swagger_ui_oauth2_redirect(request: Request) -> Response:
    return _page(get_swagger_ui_oauth2_redirect_html())


async def redoc(request: Request) -> Response:
    app: FastAPI = request.app
    return _page(
        get_redoc_html(
            openapi_url=f"{_root(request)}{app.openapi_url}",
            title=f"{app.title} - ReDoc",
            redoc_js_url=_asset(request, REDOC_JS),
            redoc_favicon_url=_asset(request, FAVICON),
            with_google_fonts=False,
        )
    )


router.add_route(DOCS_URL, swagger_ui, include_in_schema=False)
router.add_route(OAUTH2_REDIRECT_URL, swagger_ui_oauth2_redirect, include_in_schema=False)
router.add_route(REDOC_URL, redoc, include_in_schema=False)


class _Immutable:
    """Adds a year-long `Cache-Control` to the successful answers of `app`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_cacheable(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] in (200, 206, 304):
                message["headers"] = [
                    *message.get("headers", []),
                    (b"cache-control", IMMUTABLE.encode()),
                ]
            await send(message)

        await self.app(scope, receive, send_cacheable)


def install_docs(app: FastAPI) -> None:
    """Serve the documentation pages and their assets on `app`.

    `app` is made with `docs_url=None, redoc_url=None` (else FastAPI's CDN pages would answer
    first); its `swagger_ui_parameters` and `openapi_url` are the ones the pages use.
    """
    if app.docs_url is not None or app.redoc_url is not None:
        raise ValueError("create the app with docs_url=None and redoc_url=None")
    if app.openapi_url is None:
        raise ValueError("the documentation pages need the app's OpenAPI document")
    app.include_router(router)
    # Checked at start-up: a missing package fails here, not as a blank page.
    assets = StaticFiles(packages=[("fastapi_offline", "static")])
    app.mount(ASSETS_URL, _Immutable(assets), name="docs-assets")
