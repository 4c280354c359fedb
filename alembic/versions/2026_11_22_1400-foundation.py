"""Foundation: regions (wilayah) and institutions (instansi).

Revision ID: 20261122_0001
Revises: 
Create Date: 2026-11-22 14:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261122_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table('regions',
    sa.Column('code', sa.String(length=5), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('level', sa.String(length=10), nullable=False),
    sa.Column('parent_code', sa.String(length=5), nullable=True),
    sa.CheckConstraint("level IN ('province', 'regency', 'city')", name=op.f('ck_regions_level')),
    sa.ForeignKeyConstraint(['parent_code'], ['regions.code'], name=op.f('fk_regions_parent_code_regions'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_regions'))
    )
    op.create_index('ix_regions_level_code', 'regions', ['level', 'code'], unique=False)
    op.create_index('ix_regions_name_trgm', 'regions', ['name'], unique=False, postgresql_using='gin', postgresql_ops={'name': 'gin_trgm_ops'})
    op.create_index('ix_regions_parent_code_code', 'regions', ['parent_code', 'code'], unique=False)
    op.create_table('institutions',
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('region_code', sa.String(length=5), nullable=True),
    sa.Column('province_code', sa.String(length=2), sa.Computed('substr(region_code, 1, 2)', persisted=True), nullable=True),
    sa.Column('parent_id', sa.UUID(), nullable=True),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.CheckConstraint("kind IN ('ministry', 'agency', 'provincial_government', 'regency_government', 'city_government', 'regional_agency', 'hospital', 'university', 'state_enterprise', 'regional_enterprise', 'other')", name=op.f('ck_institutions_kind')),
    sa.CheckConstraint('parent_id IS NULL OR parent_id <> id', name=op.f('ck_institutions_not_own_parent')),
    sa.ForeignKeyConstraint(['parent_id'], ['institutions.id'], name=op.f('fk_institutions_parent_id_institutions'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['region_code'], ['regions.code'], name=op.f('fk_institutions_region_code_regions'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_institutions')),
    sa.UniqueConstraint('name', 'region_code', name=op.f('uq_institutions_name_region_code'), postgresql_nulls_not_distinct=True)
    )
    op.create_index('ix_institutions_kind_name_id', 'institutions', ['kind', 'name', 'id'], unique=False)
    op.create_index('ix_institutions_name_id', 'institutions', ['name', 'id'], unique=False)
    op.create_index('ix_institutions_name_trgm', 'institutions', ['name'], unique=False, postgresql_using='gin', postgresql_ops={'name': 'gin_trgm_ops'})
    op.create_index('ix_institutions_parent_id', 'institutions', ['parent_id'], unique=False)
    op.create_index('ix_institutions_province_code_name_id', 'institutions', ['province_code', 'name', 'id'], unique=False)
    op.create_index('ix_institutions_region_code_name_id', 'institutions', ['region_code', 'name', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_institutions_region_code_name_id', table_name='institutions')
    op.drop_index('ix_institutions_province_code_name_id', table_name='institutions')
    op.drop_index('ix_institutions_parent_id', table_name='institutions')
    op.drop_index('ix_institutions_name_trgm', table_name='institutions', postgresql_using='gin', postgresql_ops={'name': 'gin_trgm_ops'})
    op.drop_index('ix_institutions_name_id', table_name='institutions')
    op.drop_index('ix_institutions_kind_name_id', table_name='institutions')
    op.drop_table('institutions')
    op.drop_index('ix_regions_parent_code_code', table_name='regions')
    op.drop_index('ix_regions_name_trgm', table_name='regions', postgresql_using='gin', postgresql_ops={'name': 'gin_trgm_ops'})
    op.drop_index('ix_regions_level_code', table_name='regions')
    op.drop_table('regions')
