"""Dashboards at national scale: summaries and indexes.

Revision ID: 20261205_1330
Revises: 20261205_1320
Create Date: 2026-12-05 13:30:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision: str = "20261205_1330"
down_revision: str | None = "20261205_1320"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
