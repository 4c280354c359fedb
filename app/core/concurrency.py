"""Optimistic concurrency: strong ETags from record versions, and `If-Match` on writes."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Header, Response

from app.core.errors import PreconditionFailed, PreconditionRequired

# `"3"`, the tag of a response (`"3-9f1c…"`, see app.core.caching), or a bare `3`.
_ETAG = re.compile(r'^\s*(?:"(\d{1,18})(?:-[0-9a-f]{16})?"|(\d{1,18}))\s*$')


def etag(version: int) -> str:
    return f'"{version}"'


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag(version)


IfMatchHeader = Annotated[
    str | None,
    Header(
        alias="If-Match",
        max_length=100,
        description='The ETag of the record being changed, from a GET (`"3-9f1c…"`; its '
        'version alone, `"3"`, or unquoted `3`, is understood too). Required; a stale '
        "version gets 412.",
        examples=['"1"'],
    ),
]


def expected_version(if_match: str | None) -> int:
    """The version named by If-Match: 428 when missing, 412 when it cannot match any version."""
    if if_match is None:
        raise PreconditionRequired(
            "Send If-Match with the ETag of the record you are changing.",
            code="if_match_required",
        )
    match = _ETAG.match(if_match)
    if match is None:
        raise PreconditionFailed("If-Match does not match the current ETag.", code="stale_version")
    return int(match.group(1) or match.group(2))


def stale() -> PreconditionFailed:
    return PreconditionFailed(
        "The record changed since you read it: GET it again and retry.", code="stale_version"
    )


def ensure_version(current: int, expected: int) -> None:
    """412 unless the record is still at the version the client read."""
    if current != expected:
        raise stale()
