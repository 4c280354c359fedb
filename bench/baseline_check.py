"""Whether the baseline (bench/baseline.py) answers the benchmark's requests as the service does.

Not byte for byte: for each scenario's requests both apps must give the same status, the same
ids and the same values of the fields that scenario reads, so that a field added to a response
needs no change in bench/. After the writes, the rows each app stored are compared too (all
their columns but ids and times). `bench.run` runs `check` before any load.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.engine import URL

from bench.common import connect

View = Callable[[Any], Any]
# Everything a report and its event hold, less what differs by nature (ids, times,
# transaction ids).
STORED = """
SELECT to_jsonb(r) - 'id' - 'created_at',
       (SELECT jsonb_agg(to_jsonb(e) - 'id' - 'at' - 'txid' - 'entity_id') FROM events e
        WHERE e.entity = 'progress_report' AND e.entity_id = r.id::text)
FROM unnest($1::uuid[]) WITH ORDINALITY AS x (id, n)
JOIN progress_reports r ON r.id = x.id
ORDER BY x.n"""


def fields_view(*names: str) -> View:
    return lambda body: {k: body.get(k) for k in names}


# The fields each scenario reads, and so compares.
read_view = fields_view("id", "title", "status", "version")  # read_by_id, and mixed's reads
report_view = fields_view("commitment_id", "as_of", "percent_complete")  # report_post, batches


def page_view(body: Any) -> Any:
    """list_keyset, list_keyset_deep, search (and mixed's lists): the page's ids in order and
    the next page's cursor."""
    return {"ids": [i["id"] for i in body["items"]], "next_cursor": body.get("next_cursor")}


def batch_view(body: Any) -> Any:
    """bulk_ingest: the counts, and each result's place, status and report."""
    results = [
        (r["index"], r["status"], r["report"] and report_view(r["report"])) for r in body["results"]
    ]
    return (body.get("accepted"), body.get("rejected"), results)


def _compare(label: str, a: httpx.Response, b: httpx.Response, view: View) -> list[str]:
    """`a` is the service's answer, `b` the baseline's."""
    if a.status_code != b.status_code:
        return [f"{label}: status {a.status_code} != {b.status_code}"]
    if a.status_code >= 300:
        return []
    seen_a, seen_b = view(a.json()), view(b.json())
    return [] if seen_a == seen_b else [f"{label}:\n  {seen_a}\n  {seen_b}"]


async def _stored(url: URL, label: str, ids: list[list[str]]) -> list[str]:
    """Whether the reports of `ids` (the service's, then the baseline's) are stored alike."""
    async with connect(url) as conn:
        a, b = [[tuple(r) for r in await conn.fetch(STORED, some)] for some in ids]
    if len(a) == len(ids[0]) and a == b:
        return []
    return [f"{label}: stored rows differ:\n  {a[:1]}\n  {b[:1]}"]


async def check(
    url: URL,
    service: str,
    baseline: str,
    reads: Sequence[str],
    post: tuple[str, str, str] | None = None,
    batch: tuple[str, Path] | None = None,
) -> list[str]:
    """The differences between the two apps (on the database `url`) in answering `reads`
    (GET paths: an innovation, or a list page), `post` (a report's path, API key and body)
    and `batch` (an API key and a batch's body file). Each app posts under its own
    Idempotency-Key."""
    differences: list[str] = []
    async with httpx.AsyncClient(timeout=60) as client:

        async def both(
            view: View, label: str, method: str, path: str, key: str = "", content: bytes = b""
        ) -> list[Any]:
            headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
            answers = [
                await client.request(
                    method,
                    base + path,
                    content=content,
                    headers={**headers, "Idempotency-Key": uuid.uuid4().hex} if key else {},
                )
                for base in (service, baseline)
            ]
            differences.extend(_compare(label, *answers, view))
            return [a.json() if a.status_code < 300 else None for a in answers]

        for path in reads:
            await both(page_view if "/innovations?" in path else read_view, path, "GET", path)
        if post is not None:
            path, key, template = post
            body = (template % (55, 60)).encode()
            answers = await both(report_view, "report_post", "POST", path, key, body)
            if None not in answers:
                differences += await _stored(url, "report_post", [[a["id"]] for a in answers])
        if batch is not None:
            key, file = batch
            path = "/api/v1/progress-reports/batch"
            answers = await both(batch_view, "bulk_ingest", "POST", path, key, file.read_bytes())
            if None not in answers:
                ids = [[r["report"]["id"] for r in a["results"] if r["report"]] for a in answers]
                differences += await _stored(url, "bulk_ingest", ids)
    return differences
