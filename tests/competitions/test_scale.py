"""Scale: a competition of 3,000 entries with 2 evaluators each is assigned, ranked, closed
and determined with a constant number of statements per step, not one per entry.

Slow (about half a minute): `pytest -m slow -s tests/competitions/test_scale.py` prints the
figures. The entries, their scores and field verifications are inserted in bulk by SQL
(submitting and scoring are one request per entry by nature); every step over the whole
competition goes through the API.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from tests.competitions._helpers import (
    COMPETITIONS,
    close,
    end_objection_window,
    evaluator,
    move,
    new_competition,
    ok,
    post,
)

ENTRIES = 3000
AGENCIES = 300  # ten entries each: the general group's quota


@contextmanager
def counted(connection: AsyncConnection) -> Iterator[dict[str, Any]]:
    """Statements sent and the wall time of the block."""
    figures: dict[str, Any] = {"statements": 0}

    def count(*_: Any) -> None:
        figures["statements"] += 1

    engine = connection.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    start = time.perf_counter()
    try:
        yield figures
    finally:
        figures["ms"] = round((time.perf_counter() - start) * 1000, 1)
        event.remove(engine, "before_cursor_execute", count)


SEED = """
WITH agencies AS (
    INSERT INTO institutions (id, name, kind, region_code)
    SELECT gen_random_uuid(), 'Pemkab Skala ' || g, 'regency_government', '33.29'
    FROM generate_series(1, :agencies) g RETURNING id
), numbered AS (
    SELECT id, row_number() OVER (ORDER BY id) AS n FROM agencies
), innovations AS (
    INSERT INTO innovations (id, title, sector, form, initiator, stage, launched_on,
                             institution_id, status)
    SELECT gen_random_uuid(), 'Inovasi Skala ' || g, 'health', 'public_service', 'agency',
           'implementation', DATE '2015-01-01', numbered.id, 'published'
    FROM generate_series(1, :entries) g JOIN numbered ON numbered.n = 1 + (g % :agencies)
    RETURNING id, institution_id, title
)
INSERT INTO competition_entries (id, competition_id, innovation_id, institution_id, agency_id,
    agency_kind, province_code, title, "group", status, submitted_at, screening_result,
    screened_at)
SELECT gen_random_uuid(), :competition, i.id, i.institution_id, i.institution_id,
       'regency_government', '33', i.title, 'general', 'in_evaluation',
       now() - random() * interval '30 days', 'passed', now()
FROM innovations i
"""

SCORES = """
INSERT INTO entry_scores (id, competition_id, entry_id, stage, evaluator_key_id, rubric_id,
                          criteria, total)
SELECT gen_random_uuid(), e.competition_id, a.entry_id, a.stage, a.evaluator_key_id,
       :rubric, '{}'::jsonb, 40 + (abs(hashtext(e.id::text || a.stage)) % 50)
FROM entry_assignments a JOIN competition_entries e ON e.id = a.entry_id
WHERE e.competition_id = :competition AND a.stage = :stage
"""

POOL = """
SELECT id FROM competition_entries WHERE competition_id = :c AND (
    (:s = 0 AND status = 'in_evaluation')
    OR (:s > 0 AND status = 'finalist' AND tier_index = :s - 1))
"""


@pytest.mark.slow
async def test_a_3000_entry_competition_closes_and_is_determined_in_constant_statements(
    client: httpx.AsyncClient,
    session: AsyncSession,
    connection: AsyncConnection,
    admin: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    # KIPP's tiers: top_99, top_45 and outstanding (5), the last two field-verified.
    c = await new_competition(client, admin, tiers=None)
    cid = c["id"]
    await move(client, admin, cid, "open")
    await move(client, admin, cid, "screening")
    await session.execute(
        text(SEED), {"agencies": AGENCIES, "entries": ENTRIES, "competition": cid}
    )
    await move(client, admin, cid, "evaluation")
    evaluators = [(await evaluator(session, "A"))[0], (await evaluator(session, "B"))[0]]
    figures: dict[str, dict[str, Any]] = {}

    for stage, tier in enumerate(c["tiers"]):
        pool = (
            (
                await session.execute(
                    text(POOL),
                    {"c": cid, "s": stage},
                )
            )
            .scalars()
            .all()
        )
        body = {
            "stage": stage,
            "assignments": [
                {"entry_id": str(e), "evaluator_key_id": k} for e in pool for k in evaluators
            ],
        }
        with counted(connection) as assigned:
            r = await post(client, f"{COMPETITIONS}/{cid}/assignments", admin, body)
        assert (await ok(r))["assigned"] == 2 * len(pool)
        await session.execute(
            text(SCORES), {"rubric": tier["rubric_id"], "competition": cid, "stage": stage}
        )
        if tier["field_verification"]:
            await session.execute(
                text(
                    "INSERT INTO field_verifications (id, entry_id, visited_on, team, verified) "
                    "SELECT gen_random_uuid(), id, current_date, '{Tim}', true "
                    "FROM competition_entries WHERE id = ANY(:ids) "
                    "ON CONFLICT (entry_id) DO NOTHING"
                ),
                {"ids": list(pool)},
            )
        with counted(connection) as closed:
            result = await ok(await close(client, admin, cid, stage))
        assert (result["ranked"], result["advanced"]) == (len(pool), tier["size"])
        figures[f"stage {stage}: assign {len(pool)} × 2"] = assigned
        figures[f"stage {stage}: close {len(pool)} → {tier['size']}"] = closed

    await move(client, admin, cid, "objection")
    await end_objection_window(session, cid)
    with counted(connection) as determined:
        done = await ok(
            await post(
                client,
                f"{COMPETITIONS}/{cid}/determination",
                admin,
                {"decree_number": "SKALA/1", "determined_on": "2026-01-01"},
            )
        )
    assert done["awards"] == 99 + 45 + 5
    figures["determination (149 awards)"] = determined

    with capsys.disabled():
        print(f"\n{ENTRIES} entries, 2 evaluators each:")
        for step, f in figures.items():
            print(f"  {step:<34} {f['statements']:>3} statements {f['ms']:>8} ms")
    # Constant per step: the same handful whatever the pool (3,000, then 99, then 45).
    closes = [f["statements"] for k, f in figures.items() if "close" in k]
    assert len(set(closes)) == 1
    assert closes[0] < 25
    assert determined["statements"] < 25
