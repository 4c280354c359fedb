"""Whether the baseline (bench/baseline.py) answers as the service does.

`check_identical` GETs the same paths from both and compares status, content type, ETag and
bodies byte for byte; `check_report_post` and `check_batch` POST the same reports to both
and compare the answers with ids and times masked (and the rows the single report left).
`identity_check` runs them all over the demo data; `python -m bench.baseline --check` and
tests/bench/test_baseline.py run that against a fresh database.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg
import httpx
from sqlalchemy.engine import URL

from app.core.embedded import connect_kwargs
from bench.baseline import API, SORTS

_COMPARED_HEADERS = ("content-type", "etag", "location", "idempotent-replayed")


def _differences(label: str, a: Any, b: Any) -> list[str]:
    """`a` is the service's response, `b` the baseline's (httpx responses)."""
    out = []
    if a.status_code != b.status_code:
        out.append(f"{label}: status {a.status_code} != {b.status_code}")
    for name in _COMPARED_HEADERS:
        if a.headers.get(name) != b.headers.get(name):
            out.append(f"{label}: {name} {a.headers.get(name)!r} != {b.headers.get(name)!r}")
    if a.content != b.content:
        n = next(
            (i for i, (x, y) in enumerate(zip(a.content, b.content, strict=False)) if x != y),
            min(len(a.content), len(b.content)),
        )
        out.append(
            f"{label}: bodies differ at byte {n}: "
            f"{a.content[max(0, n - 60) : n + 60]!r} != {b.content[max(0, n - 60) : n + 60]!r}"
        )
    return out


async def check_identical(
    service_base: str, baseline_base: str, paths: Sequence[str], follow: int = 2
) -> list[str]:
    """GET each path from both (with the same X-Request-ID, so that problem documents match
    too) and compare status, headers and bodies byte for byte; follow a list's
    `next_cursor` for up to `follow` more pages. Returns the differences."""
    differences: list[str] = []
    async with httpx.AsyncClient(timeout=30) as client:
        queue = [(p, 0) for p in paths]
        while queue:
            path, depth = queue.pop(0)
            headers = {"X-Request-ID": f"identity-check-{len(queue)}"}
            a = await client.get(service_base + path, headers=headers)
            b = await client.get(baseline_base + path, headers=headers)
            differences += _differences(path, a, b)
            if depth < follow and a.status_code == 200 and "next_cursor" in a.text:
                cursor = a.json().get("next_cursor")
                if cursor:
                    separator = "&" if "?" in path else "?"
                    base_path = re.sub(r"[?&]cursor=[^&]*", "", path)
                    queue.append((f"{base_path}{separator}cursor={cursor}", depth + 1))
    return differences


_MASKS = {
    "id": (
        re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"),
        "<id>",
    ),
    # pydantic's form of a UTC time: microseconds only when not zero, then Z.
    "created_at": (re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z$"), "<time>"),
}


def _masked(value: Any) -> Any:
    """A body with the values that differ between two stored reports (a report's id, a
    version 7 UUID, and its creation time) masked when they have the service's form."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            mask = _MASKS.get(k)
            out[k] = mask[1] if mask and isinstance(v, str) and mask[0].match(v) else _masked(v)
        return out
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return value


def _compare_masked(label: str, a: Any, b: Any) -> list[str]:
    out = []
    if a.status_code != b.status_code:
        out.append(f"{label}: status {a.status_code} != {b.status_code}")
    for name in _COMPARED_HEADERS:
        if a.headers.get(name) != b.headers.get(name):
            out.append(f"{label}: {name} {a.headers.get(name)!r} != {b.headers.get(name)!r}")
    try:
        ma, mb = _masked(a.json()), _masked(b.json())
    except ValueError:
        return [*out, f"{label}: not JSON"]
    if json.dumps(ma) != json.dumps(mb):  # key order counts
        out.append(f"{label}: bodies differ (ids and times masked):\n  {ma}\n  {mb}")
    return out


async def check_report_post(
    service_base: str, baseline_base: str, key: str, commitment_id: str, body: dict[str, Any]
) -> list[str]:
    """POST the same report to both (each its own Idempotency-Key), compare the answers with
    ids and times masked, then replay each and compare the replay with the original."""
    path = f"{API}/commitments/{commitment_id}/progress-reports"
    idem = uuid.uuid4().hex
    differences = []
    async with httpx.AsyncClient(timeout=30) as client:
        answers = []
        for base, who in ((service_base, "service"), (baseline_base, "baseline")):
            headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": f"{who}-{idem}"}
            first = await client.post(base + path, json=body, headers=headers)
            again = await client.post(base + path, json=body, headers=headers)
            if again.headers.get("idempotent-replayed") != "true" or again.content != first.content:
                differences.append(f"report_post replay on the {who}: {again.status_code}")
            answers.append(first)
        differences += _compare_masked("report_post", *answers)
        if answers[0].status_code != 201:
            differences.append(f"report_post: the service answered {answers[0].status_code}")
    return differences


async def check_batch(
    service_base: str, baseline_base: str, key: str, reports: list[dict[str, Any]]
) -> list[str]:
    """POST the same batch to both; compare the envelopes with ids and times masked."""
    path = f"{API}/progress-reports/batch"
    idem = uuid.uuid4().hex
    answers = []
    async with httpx.AsyncClient(timeout=60) as client:
        for base, who in ((service_base, "service"), (baseline_base, "baseline")):
            headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": f"{who}-{idem}"}
            answers.append(
                await client.post(base + path, json={"reports": reports}, headers=headers)
            )
    return _compare_masked("bulk_ingest", *answers)


async def _stored_rows(url: URL, commitment_id: str) -> list[str]:
    """The two latest reports on a commitment and their events, as the database holds them,
    minus what differs by nature (ids, times, transaction ids)."""
    conn = await asyncpg.connect(**connect_kwargs(url))
    try:
        rows = await conn.fetch(
            """
            SELECT p.commitment_id, p.as_of, p.percent_complete, p.item_updates, p.narrative,
                   p.obstacles, p.evidence_urls, p.reported_by, p.reporter_key_id,
                   e.actor_id, e.actor_role, e.action, e.entity, e.province_code, e.changes
            FROM progress_reports p JOIN events e ON e.entity_id = p.id::text
            WHERE p.commitment_id = $1
            ORDER BY p.created_at DESC LIMIT 2
            """,
            uuid.UUID(commitment_id),
        )
        return [repr(tuple(r.values())) for r in rows]
    finally:
        await conn.close()


async def demo_paths(url: URL) -> list[str]:
    """Paths over the demo data: every innovation (with and without awards, replications,
    assessments; drafts and an unknown id are 404), filtered lists, every sort, searches."""
    conn = await asyncpg.connect(**connect_kwargs(url))
    try:
        ids = [str(r["id"]) for r in await conn.fetch("SELECT id FROM innovations ORDER BY id")]
    finally:
        await conn.close()
    lists = [
        "",
        "?limit=3",
        "?limit=4&province=32",
        "?limit=2&sector=health",
        "?limit=3&status=published",
        "?limit=2&province=33&sector=health&status=published",
        "?limit=3&region=32",
        "?region=32.73",
        "?digital=true&limit=2",
        "?award_competition=KIPP",
        "?award_competition=KIPP&award_tier=top_99&award_year=2021",
        "?launched_from=2015-01-01&launched_to=2021-12-31&limit=3",
        "?include_total=true&limit=3",
        "?status=draft",
        *(f"?sort={s}&limit=3" for s in SORTS[:-1]),
        "?sort=title&province=32&limit=2",
        "?q=sampah",
        "?q=kia",
        "?q=kia&limit=1",
        "?q=Bench&limit=7",
        "?q=zzqqxxnothing",
        "?q=sampah&sort=title",
        "?q=100%25_x",
        "?q=pelayanan&sort=-updated_at&limit=2&include_total=true",
        "?sort=relevance",
        "?cursor=abc",
        "?limit=0",
        "?nosuch=1",
        "?sector=health&sector=education",
    ]
    return [
        *(f"{API}/innovations/{i}" for i in ids),
        f"{API}/innovations/{uuid.UUID(int=0)}",
        *(f"{API}/innovations{q}" for q in lists),
    ]


async def commitments_for_check(url: URL) -> tuple[str, list[str], list[str]]:
    """A province-33 commitment signed before the reports' date, its items, and two more."""
    conn = await asyncpg.connect(**connect_kwargs(url))
    try:
        # The batch twin checks neither the signing date nor the status: choose commitments
        # that pass the service's checks for the reports sent.
        rows = await conn.fetch(
            "SELECT id FROM commitments WHERE adopter_province_code = '33' AND status <> "
            "'cancelled' AND signed_on <= '2024-06-30' ORDER BY id LIMIT 3"
        )
        ids = [str(r["id"]) for r in rows]
        items = [
            str(r["id"])
            for r in await conn.fetch(
                "SELECT id FROM action_items WHERE commitment_id = $1 ORDER BY id", rows[0][0]
            )
        ]
        return ids[0], items, ids[1:]
    finally:
        await conn.close()


async def identity_check(url: URL, service: str, baseline: str, key: str) -> list[str]:
    """Every check, against a service and a baseline on the same database `url` (with the
    demo data and a province-33 integration `key`)."""
    differences = await check_identical(service, baseline, await demo_paths(url))
    commitment, items, others = await commitments_for_check(url)
    report = {
        "as_of": "2024-06-30",
        "percent_complete": 55,
        "item_updates": [{"item_id": items[0], "progress": 60}] if items else [],
        "narrative": 'Sosialisasi ke 12 puskesmas; Perbup "KIA" ditandatangani.\nTahap 2.',
        "evidence_urls": ["https://jdih.example.go.id/perbup-12-2024.pdf"],
        "reported_by": "Bappeda",
    }
    differences += await check_report_post(service, baseline, key, commitment, report)
    stored = await _stored_rows(url, commitment)
    if len(stored) != 2 or stored[0] != stored[1]:
        differences.append(f"report_post: stored rows differ: {stored}")
    # Reports the service accepts (the twin checks less), and one on an unknown commitment.
    batch = [
        {**report, "commitment_id": c, "percent_complete": 10 * n, "item_updates": []}
        for n, c in enumerate(others)
    ]
    batch.append({**report, "commitment_id": commitment.upper(), "obstacles": "Anggaran\t"})
    batch.insert(1, {**batch[0], "commitment_id": str(uuid.UUID(int=1))})
    differences += await check_batch(service, baseline, key, batch)
    return differences


# Values whose JSON forms need care, which the demo data lacks: times with a zero or a
# shortened fraction (PostgreSQL's JSON drops trailing zeros; pydantic writes six digits or
# none), a decree number, and text with quotes, escapes, control and non-ASCII characters.
EDGE_CASES = (
    (
        "UPDATE awards SET created_at = '2024-01-02 03:04:05+00', "
        "updated_at = '2024-01-02 03:04:05.12+00', decree_number = $1 "
        "WHERE id = (SELECT min(id::text)::uuid FROM awards)",
        'SK MenPANRB 12/2021 "top 99"',
    ),
    (
        "UPDATE innovations SET summary = $1, outcomes = 'Turun 30%', "
        "updated_at = '2024-03-04 05:06:07.000100+00', created_at = '2024-03-04 05:06:07+00' "
        "WHERE id = (SELECT min(id::text)::uuid FROM innovations WHERE status = 'published')",
        'Ünïcode \u2014 "kutipan" \\ garis\nbaru\ttab \x01\x1f\x7f </script> \u2028 \U0001f600',
    ),
)


async def _add_edge_cases(url: URL) -> None:
    conn = await asyncpg.connect(**connect_kwargs(url))
    try:
        for sql, value in EDGE_CASES:
            await conn.execute(sql, value)
    finally:
        await conn.close()


def prepare_demo_database(server: URL, name: str, commitments: int = 6) -> tuple[URL, str]:
    """A fresh database `name` on `server` with the demo data (and `EDGE_CASES`),
    `commitments` more commitments of province 33 and a province-33 integration key:
    (url, key)."""
    from app import cli
    from app.core.security import Role
    from tests import harness

    url = harness.fresh_database(server, name)
    cli.seed_demo(url)
    asyncio.run(harness.seed_commitments(url, commitments))
    asyncio.run(_add_edge_cases(url))
    return url, cli.create_key(url, "baseline identity check", Role.integration, "33")


def run_check(server: URL, name: str) -> list[str]:
    """Build the database `name` on `server`, run the service and the baseline on it, compare
    them (`identity_check`), drop the database; the differences."""
    from bench.baseline import serve_baseline
    from tests.conftest import drop_database
    from tests.harness import serve

    url, key = prepare_demo_database(server, name)
    try:
        with serve(url) as service, serve_baseline(url) as baseline:
            return asyncio.run(identity_check(url, service, baseline, key))
    finally:
        asyncio.run(drop_database(server, name))
