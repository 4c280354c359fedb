"""A subject's last assessment date is read from an index of its own entries.

`innovation_due_of` and `commitment_due_of` (the due list's kept rows) take each subject's
`max(assessed_on)`. PostgreSQL answers a lone max with the newest entry of an index on the
column, and the only one was `ix_sustainability_assessments_assessed_on_id` (every assessment by
date): it walked it from the newest until it met the subject's, 0.6 ms a subject at 30k
innovations and more as assessments grow, so that a statement touching every subject took time
in the square of the assessments (5 s at 30k innovations, 60 s at 100k; the 1M bench seed did
not finish). With an index on (subject, assessed_on) the max is one step back in the subject's
own entries.

Revision ID: 20261206_0320
Revises: 20261206_0310
Create Date: 2026-12-06 03:20:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "20261206_0320"
down_revision: str | None = "20261206_0310"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SUBJECTS = ("innovation_id", "commitment_id")


def upgrade() -> None:
    for subject in SUBJECTS:
        op.create_index(
            f"ix_sustainability_assessments_{subject}_assessed_on",
            "sustainability_assessments",
            [subject, "assessed_on"],
            postgresql_where=sa.text(f"{subject} IS NOT NULL"),
        )


def downgrade() -> None:
    for subject in SUBJECTS:
        op.drop_index(
            f"ix_sustainability_assessments_{subject}_assessed_on",
            table_name="sustainability_assessments",
        )
