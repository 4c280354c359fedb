"""The day a commitment's `stale` counts from (`commitment_activity`) follows the commitment
however it changes, and a progress report changes no indexed column of the rows it updates."""

from __future__ import annotations

import re
from datetime import date, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.replication._api import (
    BATCH,
    SIGNED_ON,
    Headers,
    cancel,
    commitment_row,
    make_scene,
    post_report,
    rows,
    scalar,
    set_commitment,
    url_of,
)

# What a progress report writes to its commitment and to its action items.
REPORT_WRITES = {
    "commitments": {
        "progress",
        "latest_percent",
        "latest_as_of",
        "last_report_at",
        "last_report_on",
        "updated_at",
        "version",
    },
    "action_items": {"progress", "status", "completed_on", "updated_at", "version"},
}


async def active_on(session: AsyncSession, commitment: object) -> date | None:
    day: date | None = await scalar(
        session,
        "SELECT active_on FROM commitment_activity WHERE commitment_id = :id",
        id=str(commitment),
    )
    return day


async def test_signing_reports_and_a_new_signing_date_move_the_day_stale_counts_from(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    s = await make_scene(client, session, admin)
    assert await active_on(session, s.commitment) == date.fromisoformat(SIGNED_ON)

    r = await client.patch(
        url_of(s.commitment), json={"signed_on": "2021-12-01"}, headers=admin | {"If-Match": '"1"'}
    )
    assert r.status_code == 200, r.text
    assert await active_on(session, s.commitment) == date(2021, 12, 1)

    assert (await post_report(client, admin, s.commitment)).status_code == 201
    reported_on = (await commitment_row(session, s.commitment)).last_report_on
    assert reported_on is not None
    assert await active_on(session, s.commitment) == reported_on

    # A signing date moved past the latest report restarts the count from the signing.
    await set_commitment(session, s.commitment, signed_on=reported_on + timedelta(days=1))
    assert await active_on(session, s.commitment) == reported_on + timedelta(days=1)
    await set_commitment(session, s.commitment, signed_on=date(2021, 12, 1))

    # A report on a commitment that last reported long ago, through the batch path.
    await set_commitment(session, s.commitment, last_report_on=date(2022, 1, 3))
    assert await active_on(session, s.commitment) == date(2022, 1, 3)
    report = {"commitment_id": s.commitment, "as_of": "2022-04-30", "percent_complete": 50}
    r = await client.post(BATCH, json={"reports": [report]}, headers=admin)
    assert r.status_code == 200, r.text
    assert await active_on(session, s.commitment) == reported_on


async def test_a_final_status_removes_the_commitment_from_the_stale_watch(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    s = await make_scene(client, session, admin)

    await cancel(client, admin, s.commitment)

    assert await active_on(session, s.commitment) is None
    assert await scalar(session, "SELECT count(*) FROM commitment_activity") == 0


async def test_no_index_names_a_column_a_progress_report_writes(session: AsyncSession) -> None:
    """Else each report's update leaves the row's page and adds an entry to every index of
    the table (a non-HOT update)."""
    for table, written in REPORT_WRITES.items():
        definitions = await rows(
            session,
            "SELECT pg_get_indexdef(indexrelid) AS text FROM pg_index"
            " WHERE indrelid = CAST(:table AS regclass)",
            table=table,
        )
        assert definitions
        for definition in definitions:
            # Keys, expressions and predicate, without string literals ('in_progress').
            body = re.sub(r"'[^']*'", "''", definition.text.split(" USING ", 1)[1])
            assert not {c for c in written if re.search(rf"\b{c}\b", body)}, definition.text


async def test_pages_of_the_rows_reports_update_keep_room_for_a_new_version(
    session: AsyncSession,
) -> None:
    options = {
        r.relname: r.reloptions
        for r in await rows(
            session,
            "SELECT relname, reloptions FROM pg_class"
            " WHERE relname IN ('commitments', 'action_items')",
        )
    }

    assert options == {"commitments": ["fillfactor=85"], "action_items": ["fillfactor=90"]}
