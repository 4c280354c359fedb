"""A search walks its candidates without reading rows: the (status, replication_count, id)
index also carries the title and the search vector.

A search sorted by relevance takes the most replicated matches of its words, walking this
index in order and testing each entry against the query (full text or the title pattern),
then ranks them by relevance (`ts_rank_cd` on the vector, `word_similarity` on the title).
With both columns in the index, the walk and the ranking are an index-only scan instead of
a row read for every entry tested (about 1.7 times faster for a word in one row in ten).

Revision ID: 20261202_1730
Revises: 20261123_0009
Create Date: 2026-12-02 17:30:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261202_1730"
down_revision: str | None = "20261123_0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = ["status", sa.text("replication_count DESC"), sa.text("id DESC")]


def upgrade() -> None:
    op.drop_index("ix_innovations_status_replication_count_id", table_name="innovations")
    op.create_index(
        "ix_innovations_status_replication_count_id",
        "innovations",
        _COLUMNS,
        postgresql_include=["title", "search_vector"],
    )


def downgrade() -> None:
    op.drop_index("ix_innovations_status_replication_count_id", table_name="innovations")
    op.create_index("ix_innovations_status_replication_count_id", "innovations", _COLUMNS)
