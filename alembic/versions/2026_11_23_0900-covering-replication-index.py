"""Replication figures from the index alone: the commitments' (innovation_id, status) index
also carries the adopter's province.

An innovation's read model counts its replications by status and the provinces they reached;
with the province in the index both come from index-only scans instead of a heap row per
commitment (the most replicated innovations have hundreds).

Revision ID: 20261123_0009
Revises: 20261123_0008
Create Date: 2026-11-23 09:00:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "20261123_0009"
down_revision: str | None = "20261123_0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_commitments_innovation_id_status", table_name="commitments")
    op.create_index(
        "ix_commitments_innovation_id_status",
        "commitments",
        ["innovation_id", "status"],
        unique=False,
        postgresql_include=["adopter_province_code"],
    )


def downgrade() -> None:
    op.drop_index("ix_commitments_innovation_id_status", table_name="commitments")
    op.create_index(
        "ix_commitments_innovation_id_status", "commitments", ["innovation_id", "status"]
    )
