"""Statistics: an index for each subject's latest sustainability assessment.

Revision ID: 20261123_0008
Revises: 20261123_0007
Create Date: 2026-11-23 04:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261123_0008"
down_revision: str | None = "20261123_0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_sustainability_assessments_latest",
        "sustainability_assessments",
        ["innovation_id", "commitment_id", sa.literal_column("period DESC")],
        unique=False,
        postgresql_include=["verdict", "province_code"],
    )


def downgrade() -> None:
    op.drop_index("ix_sustainability_assessments_latest", table_name="sustainability_assessments")
