"""The documentation pages work with no internet: every script, style sheet, font and icon that
/docs and /redoc reference comes from the service itself, and answers."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html

from app.ops.docs import ASSETS_URL, IMMUTABLE

BASE = "http://test"
PAGES = ["/docs", "/redoc"]

# Where a page names a URL: attributes, CSS `url(...)`, Swagger UI's `url: '...'` option, and
# any absolute http(s) URL anywhere (an inline script or style may build a request from one).
_URL_PATTERNS = [
    re.compile(r"""\b(?:src|href|spec-url)\s*=\s*["']([^"']*)["']""", re.IGNORECASE),
    re.compile(r"""\burl\(\s*["']?([^"')]*)["']?\s*\)""", re.IGNORECASE),
    re.compile(r"""\burl\s*:\s*["']([^"']*)["']"""),
    re.compile(r"""(?<![\w/])((?:https?:)?//[^\s"'<>)`]+)""", re.IGNORECASE),
]

# What a referenced URL must answer with, by how its path ends.
_CONTENT_TYPES = {
    ".js": ("text/javascript", "application/javascript"),
    ".css": ("text/css",),
    ".png": ("image/png",),
    ".svg": ("image/svg+xml",),
    ".ico": ("image/x-icon", "image/vnd.microsoft.icon"),
    ".woff2": ("font/woff2",),
    ".json": ("application/json",),
}


def referenced_urls(html: str) -> set[str]:
    return {m.group(1).strip() for pattern in _URL_PATTERNS for m in pattern.finditer(html)}


def foreign(urls: set[str]) -> set[str]:
    """The URLs that point at another origin than the page's."""
    origin = urlsplit(BASE)
    return {
        url
        for url in urls
        if (parts := urlsplit(urljoin(BASE + "/docs", url))).scheme != origin.scheme
        or parts.netloc != origin.netloc
    }


def test_the_check_finds_the_cdn_urls_of_the_default_pages() -> None:
    """FastAPI's own pages load from a CDN, Google Fonts and fastapi.tiangolo.com: the checks
    below would see them."""
    swagger = get_swagger_ui_html(openapi_url="/openapi.json", title="t").body.decode()
    redoc = get_redoc_html(openapi_url="/openapi.json", title="t").body.decode()

    hosts = {urlsplit(url).netloc for url in foreign(referenced_urls(swagger + redoc))}

    assert {"cdn.jsdelivr.net", "fonts.googleapis.com", "fastapi.tiangolo.com"} <= hosts


@pytest.mark.parametrize("page", PAGES)
async def test_the_page_references_no_other_origin(client: httpx.AsyncClient, page: str) -> None:
    r = await client.get(page)

    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    urls = referenced_urls(r.text)
    assert any(url.startswith(ASSETS_URL) for url in urls), urls
    assert foreign(urls) == set()
    assert "fonts.googleapis" not in r.text


@pytest.mark.parametrize("page", PAGES)
async def test_every_url_the_page_references_answers(client: httpx.AsyncClient, page: str) -> None:
    html = (await client.get(page)).text

    wrong = []
    for url in sorted(referenced_urls(html)):
        r = await client.get(url)
        suffix = "." + urlsplit(url).path.rsplit(".", 1)[-1]
        expected = _CONTENT_TYPES.get(suffix, ())
        content_type = r.headers.get("content-type", "")
        if r.status_code != 200 or not content_type.startswith(expected) or not r.content:
            wrong.append(f"{url}: {r.status_code} {content_type!r}")

    assert wrong == []


async def test_the_assets_are_cached_for_a_year_and_the_pages_are_revalidated(
    client: httpx.AsyncClient,
) -> None:
    html = (await client.get("/docs")).text
    assets = [url for url in referenced_urls(html) if url.startswith(ASSETS_URL)]

    assert len(assets) == 3  # script, style sheet, icon
    for url in assets:
        assert (await client.get(url)).headers["cache-control"] == IMMUTABLE
    for page in PAGES:
        assert (await client.get(page)).headers["cache-control"] == "no-cache"


async def test_an_asset_of_another_version_is_not_found(client: httpx.AsyncClient) -> None:
    r = await client.get("/docs/assets/0.0.0/swagger-ui-bundle.js")

    assert r.status_code == 404
    assert "cache-control" not in r.headers


async def test_swagger_ui_keeps_the_authorization_and_shows_durations(
    client: httpx.AsyncClient,
) -> None:
    html = (await client.get("/docs")).text

    assert '"persistAuthorization": true' in html
    assert '"displayRequestDuration": true' in html
    assert "url: '/openapi.json'" in html


async def test_the_oauth2_redirect_page_is_served(client: httpx.AsyncClient) -> None:
    r = await client.get("/docs/oauth2-redirect")

    assert r.status_code == 200
    assert "swaggerUIRedirectOauth2" in r.text
    assert foreign(referenced_urls(r.text)) == set()


@pytest.mark.parametrize("page", PAGES)
async def test_the_page_keeps_the_browser_on_its_origin(
    client: httpx.AsyncClient, page: str
) -> None:
    """Its Content-Security-Policy names no host: what a UI would fetch from elsewhere by itself
    (ReDoc's logo comes from cdn.redoc.ly) is refused by the browser, never requested."""
    policy = (await client.get(page)).headers["content-security-policy"]

    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    sources = {source for value in directives.values() for source in value.split()}
    assert directives["default-src"] == "'self'"
    assert sources <= {"'self'", "'none'", "'unsafe-inline'", "data:", "blob:"}
