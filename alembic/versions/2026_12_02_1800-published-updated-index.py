"""Published innovations by last change have an index of their own.

Rows are stored about in the order they were last changed, so for a published-only list
sorted by `-updated_at` the planner preferred `ix_innovations_updated_at_id` (whose order
follows the table's) to the status-led index, and then read past every recently edited draft
or withdrawn innovation to fill a page: at 1M innovations, 12,000 rows for a page of 50
(9 ms instead of 1). The partial index holds published rows only.

Revision ID: 20261202_1800
Revises: 20261202_1730
Create Date: 2026-12-02 18:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261202_1800"
down_revision: str | None = "20261202_1730"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_innovations_published_updated_at_id",
        "innovations",
        [sa.text("updated_at DESC"), sa.text("id DESC")],
        postgresql_where=sa.text("status = 'published'"),
    )


def downgrade() -> None:
    op.drop_index("ix_innovations_published_updated_at_id", table_name="innovations")
