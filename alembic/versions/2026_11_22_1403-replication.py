"""Replication: programmes, commitments, action plans and append-only progress reports.

Revision ID: 20261122_0004
Revises: 20261122_0003
Create Date: 2026-11-22 13:56:59.777951+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261122_0004"
down_revision: str | None = "20261122_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('replication_programs',
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('province_code', sa.String(length=5), nullable=True),
    sa.Column('fiscal_year', sa.Integer(), nullable=False),
    sa.Column('signed_on', sa.Date(), nullable=True),
    sa.Column('coordinator', sa.Text(), server_default='', nullable=False),
    sa.Column('mentor_team', sa.Text(), server_default='', nullable=False),
    sa.Column('description', sa.Text(), server_default='', nullable=False),
    sa.Column('status', sa.String(length=16), server_default='planned', nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.CheckConstraint("status IN ('planned', 'active', 'closed')", name=op.f('ck_replication_programs_status')),
    sa.CheckConstraint('fiscal_year BETWEEN 2000 AND 2100', name=op.f('ck_replication_programs_fiscal_year')),
    sa.ForeignKeyConstraint(['province_code'], ['regions.code'], name=op.f('fk_replication_programs_province_code_regions'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_replication_programs'))
    )
    op.create_index('ix_replication_programs_fiscal_year_id', 'replication_programs', [sa.literal_column('fiscal_year DESC'), sa.literal_column('id DESC')], unique=False)
    op.create_index('ix_replication_programs_province_code_fiscal_year', 'replication_programs', ['province_code', 'fiscal_year'], unique=False)
    op.create_index('ix_replication_programs_status', 'replication_programs', ['status'], unique=False)
    op.create_table('commitments',
    sa.Column('program_id', sa.UUID(), nullable=False),
    sa.Column('innovation_id', sa.UUID(), nullable=False),
    sa.Column('adopter_institution_id', sa.UUID(), nullable=False),
    sa.Column('adopter_region_code', sa.String(length=5), nullable=True),
    sa.Column('adopter_province_code', sa.String(length=2), nullable=True),
    sa.Column('origin_province_code', sa.String(length=2), nullable=True),
    sa.Column('signed_on', sa.Date(), nullable=False),
    sa.Column('target_launch_on', sa.Date(), nullable=True),
    sa.Column('planned_modifications', sa.Text(), server_default='', nullable=False),
    sa.Column('budget_idr', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('mentors', sa.Text(), server_default='', nullable=False),
    sa.Column('status', sa.String(length=16), server_default='committed', nullable=False),
    sa.Column('status_reason', sa.Text(), nullable=True),
    sa.Column('progress', sa.Numeric(precision=5, scale=2), server_default='0', nullable=False),
    sa.Column('latest_percent', sa.Integer(), nullable=True),
    sa.Column('latest_as_of', sa.Date(), nullable=True),
    sa.Column('last_report_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_report_on', sa.Date(), nullable=True),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.CheckConstraint("status IN ('committed', 'in_progress', 'stalled', 'launched', 'sustained', 'cancelled')", name=op.f('ck_commitments_status')),
    sa.CheckConstraint('budget_idr >= 0', name=op.f('ck_commitments_budget_idr')),
    sa.CheckConstraint('progress BETWEEN 0 AND 100', name=op.f('ck_commitments_progress')),
    sa.ForeignKeyConstraint(['adopter_institution_id'], ['institutions.id'], name=op.f('fk_commitments_adopter_institution_id_institutions'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['innovation_id'], ['innovations.id'], name=op.f('fk_commitments_innovation_id_innovations'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['program_id'], ['replication_programs.id'], name=op.f('fk_commitments_program_id_replication_programs'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_commitments')),
    sa.UniqueConstraint('program_id', 'innovation_id', 'adopter_institution_id', name=op.f('uq_commitments_program_id_innovation_id_adopter_institution_id'))
    )
    op.create_index('ix_commitments_adopter_institution_id', 'commitments', ['adopter_institution_id'], unique=False)
    op.create_index('ix_commitments_adopter_province_code_signed_on_id', 'commitments', ['adopter_province_code', sa.literal_column('signed_on DESC'), sa.literal_column('id DESC')], unique=False)
    op.create_index('ix_commitments_innovation_id_status', 'commitments', ['innovation_id', 'status'], unique=False)
    op.create_index('ix_commitments_overdue', 'commitments', ['target_launch_on'], unique=False, postgresql_where=sa.text("status IN ('committed', 'in_progress', 'stalled')"))
    op.create_index('ix_commitments_signed_on_id', 'commitments', [sa.literal_column('signed_on DESC'), sa.literal_column('id DESC')], unique=False)
    op.create_index('ix_commitments_stale', 'commitments', [sa.literal_column('coalesce(last_report_on, signed_on)')], unique=False, postgresql_where=sa.text("status NOT IN ('sustained', 'cancelled')"))
    op.create_index('ix_commitments_status_signed_on_id', 'commitments', ['status', sa.literal_column('signed_on DESC'), sa.literal_column('id DESC')], unique=False)
    op.create_table('action_items',
    sa.Column('commitment_id', sa.UUID(), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('weight', sa.Numeric(precision=8, scale=2), server_default='1', nullable=False),
    sa.Column('status', sa.String(length=16), server_default='todo', nullable=False),
    sa.Column('progress', sa.Integer(), server_default='0', nullable=False),
    sa.Column('completed_on', sa.Date(), nullable=True),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.CheckConstraint("status IN ('todo', 'doing', 'done', 'blocked')", name=op.f('ck_action_items_status')),
    sa.CheckConstraint('progress BETWEEN 0 AND 100', name=op.f('ck_action_items_progress')),
    sa.CheckConstraint('weight > 0', name=op.f('ck_action_items_weight')),
    sa.ForeignKeyConstraint(['commitment_id'], ['commitments.id'], name=op.f('fk_action_items_commitment_id_commitments'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_action_items'))
    )
    op.create_index('ix_action_items_commitment_id_due_on', 'action_items', ['commitment_id', 'due_on', 'id'], unique=False)
    op.create_table('progress_reports',
    sa.Column('commitment_id', sa.UUID(), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('percent_complete', sa.Integer(), nullable=False),
    sa.Column('item_updates', postgresql.JSONB(astext_type=sa.Text()), server_default='[]', nullable=False),
    sa.Column('narrative', sa.Text(), server_default='', nullable=False),
    sa.Column('obstacles', sa.Text(), server_default='', nullable=False),
    sa.Column('evidence_urls', postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('reported_by', sa.Text(), server_default='', nullable=False),
    sa.Column('reporter_key_id', sa.UUID(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.CheckConstraint('percent_complete BETWEEN 0 AND 100', name=op.f('ck_progress_reports_percent_complete')),
    sa.ForeignKeyConstraint(['commitment_id'], ['commitments.id'], name=op.f('fk_progress_reports_commitment_id_commitments'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_progress_reports'))
    )
    op.create_index('ix_progress_reports_commitment_id_created_at', 'progress_reports', ['commitment_id', sa.literal_column('created_at DESC'), sa.literal_column('id DESC')], unique=False)
    # Progress reports are append-only, like the event log.
    op.execute(
        """
        CREATE FUNCTION progress_reports_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'progress reports are append-only: % is not allowed', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER progress_reports_no_update_delete BEFORE UPDATE OR DELETE "
        "ON progress_reports FOR EACH ROW EXECUTE FUNCTION progress_reports_append_only()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER progress_reports_no_update_delete ON progress_reports")
    op.execute("DROP FUNCTION progress_reports_append_only()")
    op.drop_index('ix_progress_reports_commitment_id_created_at', table_name='progress_reports')
    op.drop_table('progress_reports')
    op.drop_index('ix_action_items_commitment_id_due_on', table_name='action_items')
    op.drop_table('action_items')
    op.drop_index('ix_commitments_status_signed_on_id', table_name='commitments')
    op.drop_index('ix_commitments_stale', table_name='commitments', postgresql_where=sa.text("status NOT IN ('sustained', 'cancelled')"))
    op.drop_index('ix_commitments_signed_on_id', table_name='commitments')
    op.drop_index('ix_commitments_overdue', table_name='commitments', postgresql_where=sa.text("status IN ('committed', 'in_progress', 'stalled')"))
    op.drop_index('ix_commitments_innovation_id_status', table_name='commitments')
    op.drop_index('ix_commitments_adopter_province_code_signed_on_id', table_name='commitments')
    op.drop_index('ix_commitments_adopter_institution_id', table_name='commitments')
    op.drop_table('commitments')
    op.drop_index('ix_replication_programs_status', table_name='replication_programs')
    op.drop_index('ix_replication_programs_province_code_fiscal_year', table_name='replication_programs')
    op.drop_index('ix_replication_programs_fiscal_year_id', table_name='replication_programs')
    op.drop_table('replication_programs')
