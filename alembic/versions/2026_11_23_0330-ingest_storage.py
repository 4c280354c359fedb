"""Storage for steady progress reporting: room for HOT updates, lz4 for stored responses.

Every progress report updates its commitment and the items it names. With 20% of each page
left free, those updates stay on the page (HOT) and skip the indexes; the commitments table
has eight. Idempotent replays keep whole batch responses (a few hundred kB); lz4 compresses
them several times faster than the default pglz, where the server supports it.

Revision ID: 20261123_0007
Revises: 20261123_0006
Create Date: 2026-11-23 03:30:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "20261123_0007"
down_revision: str | None = "20261123_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("ALTER TABLE commitments SET (fillfactor = 80)")
    op.execute("ALTER TABLE action_items SET (fillfactor = 80)")
    op.execute(
        """
        DO $$ BEGIN
            ALTER TABLE idempotency_keys ALTER COLUMN response_body SET COMPRESSION lz4;
        EXCEPTION WHEN feature_not_supported THEN
            RAISE NOTICE 'lz4 is not available: stored responses use the default compression';
        END $$
        """
    )


def downgrade() -> None:
    op.execute("ALTER TABLE idempotency_keys ALTER COLUMN response_body SET COMPRESSION default")
    op.execute("ALTER TABLE action_items RESET (fillfactor)")
    op.execute("ALTER TABLE commitments RESET (fillfactor)")
