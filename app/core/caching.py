"""HTTP validators and caching of JSON responses (SPEC section 5, Caching).

Every successful JSON response gets a strong `ETag` of its bytes, so that a record's derived
figures (its awards, replications, latest verdict), a list page and a statistic each change
their tag when what they say changes. A record's tag keeps its version in front
(`"3-9f1c…"`), so `If-Match` on a write checks the version the client read (`app.core.
concurrency`), while `If-None-Match` on a read compares the whole tag and answers 304.

Caching: a read without a key is open data, the same for everyone: `public, max-age=30`, so
a browser, a CDN or an intranet proxy may serve it for 30 seconds (dashboards opened by many
people at once cost one request a half-minute, and a write is seen everywhere within that
time). A read with a key may depend on the key (drafts, the event feed of a province):
`private, no-cache`, stored only by the caller and revalidated each time, which the 304
makes cheap. `Vary: Authorization` says so to every cache.
"""

from __future__ import annotations

import hashlib
import re

from starlette.requests import Request
from starlette.responses import Response

PUBLIC_MAX_AGE_S = 30
PUBLIC = f"public, max-age={PUBLIC_MAX_AGE_S}"
PRIVATE = "private, no-cache"
_VERSION_TAG = re.compile(r'^"(\d{1,18})"$')
_KEPT_ON_304 = ("etag", "cache-control", "vary", "content-location", "date", "expires")


def representation_tag(body: bytes, version_tag: str | None) -> str:
    """The strong ETag of a response body; with the record's version tag (`"3"`) in front."""
    digest = hashlib.blake2b(body, digest_size=8).hexdigest()
    version = _VERSION_TAG.match(version_tag or "")
    return f'"{version.group(1)}-{digest}"' if version else f'"{digest}"'


def matches(if_none_match: str, tag: str) -> bool:
    """Whether `If-None-Match` names this tag (weak comparison, as RFC 9110 says for it)."""
    if if_none_match.strip() == "*":
        return True
    return any(t.strip().removeprefix("W/") == tag for t in if_none_match.split(","))


def with_validators(request: Request, response: Response) -> Response:
    """The response with its ETag (and on a GET its caching headers), or a 304 for a GET
    whose `If-None-Match` names it."""
    if not 200 <= response.status_code < 300 or response.media_type != "application/json":
        return response
    body = getattr(response, "body", None)
    if not isinstance(body, bytes):
        return response  # a streamed body has no tag
    tag = representation_tag(body, response.headers.get("etag"))
    response.headers["etag"] = tag
    if request.method != "GET":
        return response
    response.headers["cache-control"] = PRIVATE if "authorization" in request.headers else PUBLIC
    response.headers["vary"] = "Authorization"
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None and matches(if_none_match, tag):
        kept = {k: v for k, v in response.headers.items() if k in _KEPT_ON_304}
        return Response(status_code=304, headers=kept)
    return response
