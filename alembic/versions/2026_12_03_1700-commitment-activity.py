"""A progress report leaves every index of `commitments` alone, so that the update it makes to
its commitment can stay on the row's page (a HOT update).

Each progress report updates its commitment: progress, latest percentage, when it last
reported. `last_report_on` was a key of `ix_commitments_stale` (the `stale` filter), so the
first report of a day on a commitment, which is every report of a system that reports
monthly, wrote a new entry into each of the table's nine indexes, random leaf pages at
national scale. At 1M innovations, a batch of 500 such reports spent 52–79 ms updating
commitments and touched ~23,000 buffers, against 27–30 ms and ~7,000 when the update stayed on
its page (EXPLAIN ANALYZE, BUFFERS, of the ingest statement, rolled back).

- `commitment_activity` holds, for each commitment that is not final, the day `stale` counts
  from: the later of its latest progress report's and its signing's (the same as the latest
  report's, unless the signing date was moved past it). Its index serves `stale=true`.
  Statement-level triggers keep it in step with `commitments`, whichever statement writes
  them: a row when a commitment is signed, a new day when it reports or its signing date
  changes, no row once it is sustained or cancelled.
- `commitments` and `action_items` leave room on each page for the next version of their rows
  (fillfactor 85 and 90): a report updates one of each, and a full page makes the update leave
  the page whatever the columns. Applies to the pages written from now on.

Revision ID: 20261203_1700
Revises: 20261203_1530
Create Date: 2026-12-03 17:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision: str = "20261203_1700"
down_revision: str | None = "20261203_1530"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FINAL = "('sustained', 'cancelled')"


def upgrade() -> None:
    op.create_table(
        "commitment_activity",
        sa.Column("commitment_id", UUID(as_uuid=True), nullable=False),
        sa.Column("active_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["commitment_id"],
            ["commitments.id"],
            name=op.f("fk_commitment_activity_commitment_id_commitments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("commitment_id", name=op.f("pk_commitment_activity")),
    )
    op.execute(
        f"""
        INSERT INTO commitment_activity (commitment_id, active_on)
        SELECT id, greatest(signed_on, last_report_on) FROM commitments
        WHERE status NOT IN {FINAL}
        """
    )
    op.create_index("ix_commitment_activity_active_on", "commitment_activity", ["active_on"])
    op.execute(
        f"""
        CREATE FUNCTION commitments_track_activity() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                INSERT INTO commitment_activity (commitment_id, active_on)
                SELECT n.id, greatest(n.signed_on, n.last_report_on) FROM new_rows n
                WHERE n.status NOT IN {FINAL};
                RETURN NULL;
            END IF;
            WITH changed AS (
                SELECT n.id, n.status IN {FINAL} AS closed,
                       greatest(n.signed_on, n.last_report_on) AS active_on
                FROM new_rows n JOIN old_rows o ON o.id = n.id
                WHERE n.status IS DISTINCT FROM o.status
                   OR greatest(n.signed_on, n.last_report_on)
                      IS DISTINCT FROM greatest(o.signed_on, o.last_report_on)
            ), closed AS (
                DELETE FROM commitment_activity a USING changed c
                WHERE a.commitment_id = c.id AND c.closed
            )
            INSERT INTO commitment_activity (commitment_id, active_on)
            SELECT c.id, c.active_on FROM changed c WHERE NOT c.closed
            ON CONFLICT (commitment_id) DO UPDATE SET active_on = excluded.active_on
            WHERE commitment_activity.active_on IS DISTINCT FROM excluded.active_on;
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER commitments_track_activity_inserted AFTER INSERT ON commitments "
        "REFERENCING NEW TABLE AS new_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION commitments_track_activity()"
    )
    op.execute(
        "CREATE TRIGGER commitments_track_activity_updated AFTER UPDATE ON commitments "
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION commitments_track_activity()"
    )
    op.drop_index("ix_commitments_stale", table_name="commitments")
    op.execute("ALTER TABLE commitments SET (fillfactor = 85)")
    op.execute("ALTER TABLE action_items SET (fillfactor = 90)")


def downgrade() -> None:
    op.execute("ALTER TABLE action_items RESET (fillfactor)")
    op.execute("ALTER TABLE commitments RESET (fillfactor)")
    op.create_index(
        "ix_commitments_stale",
        "commitments",
        [sa.text("coalesce(last_report_on, signed_on)")],
        postgresql_where=sa.text(f"status NOT IN {FINAL}"),
    )
    op.execute("DROP TRIGGER commitments_track_activity_updated ON commitments")
    op.execute("DROP TRIGGER commitments_track_activity_inserted ON commitments")
    op.execute("DROP FUNCTION commitments_track_activity()")
    op.drop_table("commitment_activity")
