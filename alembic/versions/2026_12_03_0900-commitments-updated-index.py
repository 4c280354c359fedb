"""Commitments listed by last change have an index of their own.

`GET /commitments?sort=-updated_at` had no index in its order: every page sorted all the
commitments that matched (2.7M at 1M innovations) to return 50. The new index serves the
sort, its cursors and, walked with a filter, the province and status filters that match many
commitments; a filter that matches few keeps its own index and sorts its few rows.

Revision ID: 20261203_0900
Revises: 20261203_0700
Create Date: 2026-12-03 09:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261203_0900"
down_revision: str | None = "20261203_0700"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_commitments_updated_at_id",
        "commitments",
        [sa.text("updated_at DESC"), sa.text("id DESC")],
    )


def downgrade() -> None:
    op.drop_index("ix_commitments_updated_at_id", table_name="commitments")
