"""A province's innovations are read in the default order (`-launched_on`) from an index of
their own, which replaces the index on the province alone.

Lists filtered by province are what provincial dashboards load. With only the province index
and the status-led `-launched_on` one, the planner either walked every province's published
innovations in order and dropped the other provinces' (a page of Jawa Tengah read 270 rows for
its 50), or read all of a province's matches through a bitmap and sorted them. At 100k
innovations, a page of Jawa Timur's education innovations (province 35 and a sector) took
5.7 ms at its start and 12.3 ms at a cursor in its last 10%; with this index, 2.4 ms and
6.4 ms, and a page of Jawa Barat 1.6 ms instead of 3.1 (EXPLAIN ANALYZE, best of five).

The index leads with the province, so it serves the province filter under every other sort
as the single-column index did.

Revision ID: 20261203_1530
Revises: 20261203_0700
Create Date: 2026-12-03 15:30:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261203_1530"
down_revision: str | None = "20261203_0700"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_innovations_province_code_status_launched_on_id",
        "innovations",
        [
            "province_code",
            "status",
            sa.text("coalesce(launched_on, '1900-01-01'::date) DESC"),
            sa.text("id DESC"),
        ],
    )
    op.drop_index("ix_innovations_province_code", table_name="innovations")


def downgrade() -> None:
    op.create_index("ix_innovations_province_code", "innovations", ["province_code"])
    op.drop_index("ix_innovations_province_code_status_launched_on_id", table_name="innovations")
