"""What a newcomer gets wrong is answered with what to do: malformed JSON points at its line
and column, a body sent without the JSON content type says so, a key sent the wrong way says
how to send it; probes and scrapers may add query parameters of their own."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import problem

URL = "/api/v1/institutions"
Headers = dict[str, str]


async def test_malformed_json_points_at_the_body_with_line_and_column(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    r = await client.post(
        URL,
        content=b'{"name": "Dinas",\n "kind": }',
        headers=admin | {"Content-Type": "application/json"},
    )

    [error] = problem(r, 422)["errors"]
    assert error == {
        "pointer": "/body",
        "detail": "The body is not valid JSON: Expecting value at line 2, column 10.",
    }


@pytest.mark.parametrize("content_type", [None, "text/plain"])
async def test_a_body_without_the_json_content_type_says_so(
    client: httpx.AsyncClient, admin: Headers, content_type: str | None
) -> None:
    headers = admin | ({"Content-Type": content_type} if content_type else {})
    r = await client.post(URL, content=b'{"name": "Dinas", "kind": "ministry"}', headers=headers)

    [error] = problem(r, 422)["errors"]
    assert error["pointer"] == "/body"
    assert "Content-Type: application/json" in error["detail"]


@pytest.mark.parametrize(
    ("headers", "hint"),
    [
        ({}, "A valid API key is required: send `Authorization: Bearer ih_…`."),
        (
            {"X-API-Key": "ih_abc"},
            "An API key goes in the Authorization header, not x-api-key: "
            "send `Authorization: Bearer ih_…`.",
        ),
        ({"Authorization": "ih_abc"}, "Use the Bearer scheme: send `Authorization: Bearer ih_…`."),
        (
            {"Authorization": "Basic dXNlcjpwYXNzd29yZA=="},
            "Use the Bearer scheme: send `Authorization: Bearer ih_…`.",
        ),
    ],
)
async def test_a_missing_or_misplaced_key_is_401_saying_how_to_send_one(
    client: httpx.AsyncClient, headers: Headers, hint: str
) -> None:
    r = await client.post(URL, json={"name": "Dinas", "kind": "ministry"}, headers=headers)

    body = problem(r, 401)
    assert body["detail"] == hint
    assert r.headers["WWW-Authenticate"] == 'Bearer realm="inovasi-hub"'


@pytest.mark.parametrize("path", ["/livez?probe=kubelet", "/metrics?scrape=1&scrape=2"])
async def test_probes_and_scrapers_may_add_query_parameters(
    client: httpx.AsyncClient, path: str
) -> None:
    r = await client.get(path)

    assert r.status_code == 200, r.text


async def test_api_operations_still_refuse_an_unknown_query_parameter(
    client: httpx.AsyncClient,
) -> None:
    r = await client.get("/api/v1/innovations?sectr=health")

    assert problem(r, 422)["errors"] == [
        {"pointer": "/query/sectr", "detail": "This operation takes no such parameter."}
    ]
