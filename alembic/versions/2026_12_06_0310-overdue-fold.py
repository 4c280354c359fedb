"""Overdue commitments read a row per province: compaction folds the past deadlines.

`commitment_deadline_tallies` counts the commitments still under way per adopter province and
target date, and a commitment is overdue when its date is before today. The figure summed every
past date (16,594 keys at 100k innovations: 10 ms of the provinces' 13). A date once past stays
past, so `compact_tallies()` now first folds each province's deltas dated before today into one
row dated `-infinity`: the sum over the dates before any later today is the same. The overdue
figures then read, through the new index on the date, one row per province and the deltas
appended since the last compaction; the keys still ahead stay by date.

`compact_tallies()` keeps its advisory lock (taken again, in the same transaction, by the key
compaction it calls, now `compact_tally_keys()`).

Revision ID: 20261206_0310
Revises: 20261206_0300
Create Date: 2026-12-06 03:10:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "20261206_0310"
down_revision: str | None = "20261206_0300"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COMPACT = """
CREATE FUNCTION compact_tallies() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtext('compact_tallies')) THEN
        RETURN;
    END IF;
    WITH gone AS (
        DELETE FROM commitment_deadline_tallies
        WHERE target_launch_on < current_date AND id IN (
            SELECT id FROM (
                SELECT id, target_launch_on,
                       count(*) OVER (PARTITION BY adopter_province_code) AS c
                FROM commitment_deadline_tallies WHERE target_launch_on < current_date
            ) AS past
            WHERE c > 1 OR target_launch_on > '-infinity'
        )
        RETURNING adopter_province_code, n
    )
    INSERT INTO commitment_deadline_tallies (adopter_province_code, target_launch_on, n)
    SELECT adopter_province_code, '-infinity', sum(n) FROM gone
    GROUP BY adopter_province_code HAVING sum(n) <> 0;
    PERFORM compact_tally_keys();
END $$
"""


def upgrade() -> None:
    op.execute("ALTER FUNCTION compact_tallies() RENAME TO compact_tally_keys")
    op.execute(COMPACT)
    op.create_index(
        "ix_commitment_deadline_tallies_target_launch_on",
        "commitment_deadline_tallies",
        ["target_launch_on"],
    )
    op.execute("SELECT compact_tallies()")


def downgrade() -> None:
    op.drop_index(
        "ix_commitment_deadline_tallies_target_launch_on",
        table_name="commitment_deadline_tallies",
    )
    op.execute("DROP FUNCTION compact_tallies()")
    op.execute("ALTER FUNCTION compact_tally_keys() RENAME TO compact_tallies")
