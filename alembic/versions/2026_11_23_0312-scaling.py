"""Scaling up (glokalisasi): proposals with their evidence snapshot and the reviewers' decision.

One open proposal per (innovation, target) is a partial unique index; a trigger keeps the
evidence snapshot and the proposal's subject as they were when proposed.

Revision ID: 20261123_0006
Revises: 20261123_0005
Create Date: 2026-11-23 03:14:19.582989+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '20261123_0006'
down_revision: str | None = '20261123_0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('scaling_proposals',
    sa.Column('innovation_id', sa.UUID(), nullable=False),
    sa.Column('province_code', sa.String(length=2), nullable=True),
    sa.Column('target_scale', sa.String(length=16), nullable=False),
    sa.Column('target_province_code', sa.String(length=5), nullable=True),
    sa.Column('rationale', sa.Text(), nullable=False),
    sa.Column('evidence', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('status', sa.String(length=16), server_default='submitted', nullable=False),
    sa.Column('proposed_by', sa.Text(), nullable=False),
    sa.Column('proposed_by_key_id', sa.UUID(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('conditions', sa.Text(), nullable=True),
    sa.Column('decided_by', sa.Text(), nullable=True),
    sa.Column('decided_by_key_id', sa.UUID(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.CheckConstraint("(target_scale = 'provincial') = (target_province_code IS NOT NULL)", name=op.f('ck_scaling_proposals_target_province')),
    sa.CheckConstraint("outcome IN ('approved', 'rejected', 'deferred')", name=op.f('ck_scaling_proposals_outcome')),
    sa.CheckConstraint("status IN ('submitted', 'under_review', 'approved', 'rejected', 'deferred')", name=op.f('ck_scaling_proposals_status')),
    sa.CheckConstraint("target_scale IN ('provincial', 'national')", name=op.f('ck_scaling_proposals_target_scale')),
    sa.ForeignKeyConstraint(['innovation_id'], ['innovations.id'], name=op.f('fk_scaling_proposals_innovation_id_innovations'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['target_province_code'], ['regions.code'], name=op.f('fk_scaling_proposals_target_province_code_regions'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scaling_proposals'))
    )
    op.create_index('ix_scaling_proposals_created_at_id', 'scaling_proposals', [sa.literal_column('created_at DESC'), sa.literal_column('id DESC')], unique=False)
    op.create_index('ix_scaling_proposals_innovation_id_created_at_id', 'scaling_proposals', ['innovation_id', sa.literal_column('created_at DESC'), sa.literal_column('id DESC')], unique=False)
    op.create_index('ix_scaling_proposals_province_code_created_at_id', 'scaling_proposals', ['province_code', sa.literal_column('created_at DESC'), sa.literal_column('id DESC')], unique=False)
    op.create_index('ix_scaling_proposals_status_created_at_id', 'scaling_proposals', ['status', sa.literal_column('created_at DESC'), sa.literal_column('id DESC')], unique=False)
    op.create_index('ix_scaling_proposals_target_province_code', 'scaling_proposals', ['target_province_code'], unique=False)
    op.create_index('ix_scaling_proposals_target_scale_created_at_id', 'scaling_proposals', ['target_scale', sa.literal_column('created_at DESC'), sa.literal_column('id DESC')], unique=False)
    op.create_index('ux_scaling_proposals_open_target', 'scaling_proposals', ['innovation_id', 'target_scale', sa.literal_column("coalesce(target_province_code, '')")], unique=True, postgresql_where=sa.text("status IN ('submitted', 'under_review', 'deferred')"))
    op.execute(
        """
        CREATE FUNCTION scaling_proposals_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.evidence IS DISTINCT FROM OLD.evidence
               OR NEW.innovation_id IS DISTINCT FROM OLD.innovation_id
               OR NEW.target_scale IS DISTINCT FROM OLD.target_scale
               OR NEW.target_province_code IS DISTINCT FROM OLD.target_province_code THEN
                RAISE EXCEPTION 'a scaling proposal keeps its evidence and target as proposed'
                    USING ERRCODE = 'insufficient_privilege';
            END IF;
            RETURN NEW;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER scaling_proposals_keep_evidence BEFORE UPDATE ON scaling_proposals "
        "FOR EACH ROW EXECUTE FUNCTION scaling_proposals_frozen()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER scaling_proposals_keep_evidence ON scaling_proposals")
    op.execute("DROP FUNCTION scaling_proposals_frozen()")
    op.drop_index('ux_scaling_proposals_open_target', table_name='scaling_proposals', postgresql_where=sa.text("status IN ('submitted', 'under_review', 'deferred')"))
    op.drop_index('ix_scaling_proposals_target_scale_created_at_id', table_name='scaling_proposals')
    op.drop_index('ix_scaling_proposals_target_province_code', table_name='scaling_proposals')
    op.drop_index('ix_scaling_proposals_status_created_at_id', table_name='scaling_proposals')
    op.drop_index('ix_scaling_proposals_province_code_created_at_id', table_name='scaling_proposals')
    op.drop_index('ix_scaling_proposals_innovation_id_created_at_id', table_name='scaling_proposals')
    op.drop_index('ix_scaling_proposals_created_at_id', table_name='scaling_proposals')
    op.drop_table('scaling_proposals')
