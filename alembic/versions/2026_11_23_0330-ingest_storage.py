"""Storage for steady progress reporting: room for HOT updates, compressed stored responses.

Every progress report updates its commitment and the items it names. With 20% of each page
left free, those updates stay on the page (HOT) and skip the indexes; the commitments table
has eight. Idempotent replays keep whole batch responses (a few hundred kB): the service
stores large ones zlib-compressed (flagged in `response_compressed`), so PostgreSQL keeps them
out of line as they are instead of compressing them again.

Revision ID: 20261123_0007
Revises: 20261123_0006
Create Date: 2026-11-23 03:30:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261123_0007"
down_revision: str | None = "20261123_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("ALTER TABLE commitments SET (fillfactor = 80)")
    op.execute("ALTER TABLE action_items SET (fillfactor = 80)")
    op.add_column(
        "idempotency_keys",
        sa.Column("response_compressed", sa.Boolean(), server_default="false", nullable=False),
    )
    op.execute("ALTER TABLE idempotency_keys ALTER COLUMN response_body SET STORAGE EXTERNAL")


def downgrade() -> None:
    op.execute("ALTER TABLE idempotency_keys ALTER COLUMN response_body SET STORAGE EXTENDED")
    op.drop_column("idempotency_keys", "response_compressed")
    op.execute("ALTER TABLE action_items RESET (fillfactor)")
    op.execute("ALTER TABLE commitments RESET (fillfactor)")
