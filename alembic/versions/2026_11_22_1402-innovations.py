"""Innovations registry: innovations (inovasi) and awards, with search and region copies.

Revision ID: 20261122_0003
Revises: 20261122_0002
Create Date: 2026-11-22 13:54:24.925537+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261122_0003"
down_revision: str | None = '20261122_0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('innovations',
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('summary', sa.Text(), server_default='', nullable=False),
    sa.Column('problem', sa.Text(), server_default='', nullable=False),
    sa.Column('approach', sa.Text(), server_default='', nullable=False),
    sa.Column('outcomes', sa.Text(), server_default='', nullable=False),
    sa.Column('sector', sa.String(length=32), nullable=False),
    sa.Column('form', sa.String(length=16), nullable=False),
    sa.Column('digital', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('initiator', sa.String(length=16), nullable=False),
    sa.Column('stage', sa.String(length=16), nullable=False),
    sa.Column('launched_on', sa.Date(), nullable=True),
    sa.Column('institution_id', sa.UUID(), nullable=False),
    sa.Column('region_code', sa.String(length=5), nullable=True),
    sa.Column('province_code', sa.String(length=2), nullable=True),
    sa.Column('replica_of_id', sa.UUID(), nullable=True),
    sa.Column('status', sa.String(length=16), server_default='draft', nullable=False),
    sa.Column('scale', sa.String(length=16), server_default='local', nullable=False),
    sa.Column('tags', postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('evidence_urls', postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('replication_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('search_vector', postgresql.TSVECTOR(), sa.Computed("setweight(to_tsvector('indonesian'::regconfig, coalesce(title, '')), 'A') || setweight(to_tsvector('indonesian'::regconfig, coalesce(summary, '')), 'B') || setweight(to_tsvector('indonesian'::regconfig, coalesce(problem, '') || ' ' || coalesce(approach, '')), 'C')", persisted=True), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.CheckConstraint("form IN ('public_service', 'governance', 'other')", name=op.f('ck_innovations_form')),
    sa.CheckConstraint("initiator IN ('regional_head', 'parliament', 'agency', 'civil_servant', 'community')", name=op.f('ck_innovations_initiator')),
    sa.CheckConstraint("scale IN ('local', 'provincial', 'national')", name=op.f('ck_innovations_scale')),
    sa.CheckConstraint("sector IN ('education', 'health', 'population_administration', 'licensing', 'social_protection', 'economy', 'environment', 'governance', 'public_order', 'agriculture_food', 'infrastructure', 'disaster_response', 'data_information', 'other')", name=op.f('ck_innovations_sector')),
    sa.CheckConstraint("stage IN ('initiative', 'trial', 'implementation')", name=op.f('ck_innovations_stage')),
    sa.CheckConstraint("status IN ('draft', 'published', 'withdrawn')", name=op.f('ck_innovations_status')),
    sa.CheckConstraint('replica_of_id IS NULL OR replica_of_id <> id', name=op.f('ck_innovations_not_own_replica')),
    sa.CheckConstraint("launched_on > '1900-01-01'", name=op.f('ck_innovations_launched_on')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_innovations_institution_id_institutions'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['replica_of_id'], ['innovations.id'], name=op.f('fk_innovations_replica_of_id_innovations'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_innovations'))
    )
    op.create_index('ix_innovations_digital', 'innovations', ['digital'], unique=False)
    op.create_index('ix_innovations_form', 'innovations', ['form'], unique=False)
    op.create_index('ix_innovations_institution_id', 'innovations', ['institution_id'], unique=False)
    op.create_index('ix_innovations_launched_on_id', 'innovations', [sa.literal_column("coalesce(launched_on, '1900-01-01'::date) DESC"), sa.literal_column('id DESC')], unique=False)
    op.create_index('ix_innovations_province_code', 'innovations', ['province_code'], unique=False)
    op.create_index('ix_innovations_region_code', 'innovations', ['region_code'], unique=False)
    op.create_index('ix_innovations_replica_of_id', 'innovations', ['replica_of_id'], unique=False)
    op.create_index('ix_innovations_replication_count_id', 'innovations', [sa.literal_column('replication_count DESC'), sa.literal_column('id DESC')], unique=False)
    op.create_index('ix_innovations_scale', 'innovations', ['scale'], unique=False)
    op.create_index('ix_innovations_search_vector', 'innovations', ['search_vector'], unique=False, postgresql_using='gin')
    op.create_index('ix_innovations_sector', 'innovations', ['sector'], unique=False)
    op.create_index('ix_innovations_stage', 'innovations', ['stage'], unique=False)
    op.create_index('ix_innovations_status_launched_on_id', 'innovations', ['status', sa.literal_column("coalesce(launched_on, '1900-01-01'::date) DESC"), sa.literal_column('id DESC')], unique=False)
    op.create_index('ix_innovations_status_replication_count_id', 'innovations', ['status', sa.literal_column('replication_count DESC'), sa.literal_column('id DESC')], unique=False)
    op.create_index('ix_innovations_status_title_id', 'innovations', ['status', 'title', 'id'], unique=False)
    op.create_index('ix_innovations_status_updated_at_id', 'innovations', ['status', sa.literal_column('updated_at DESC'), sa.literal_column('id DESC')], unique=False)
    op.create_index('ix_innovations_title_id', 'innovations', ['title', 'id'], unique=False)
    op.create_index('ix_innovations_title_trgm', 'innovations', ['title'], unique=False, postgresql_using='gin', postgresql_ops={'title': 'gin_trgm_ops'})
    op.create_index('ix_innovations_updated_at_id', 'innovations', [sa.literal_column('updated_at DESC'), sa.literal_column('id DESC')], unique=False)
    op.create_table('awards',
    sa.Column('innovation_id', sa.UUID(), nullable=False),
    sa.Column('competition', sa.String(length=16), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('tier', sa.String(length=16), nullable=False),
    sa.Column('decree_number', sa.Text(), nullable=True),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.CheckConstraint("competition IN ('KIPP', 'IGA', 'other')", name=op.f('ck_awards_competition')),
    sa.CheckConstraint("tier IN ('top_99', 'top_45', 'top_5', 'outstanding', 'winner', 'finalist', 'nominee', 'other')", name=op.f('ck_awards_tier')),
    sa.CheckConstraint('year BETWEEN 1990 AND 2100', name=op.f('ck_awards_year')),
    sa.ForeignKeyConstraint(['innovation_id'], ['innovations.id'], name=op.f('fk_awards_innovation_id_innovations'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_awards')),
    sa.UniqueConstraint('innovation_id', 'competition', 'year', 'tier', name=op.f('uq_awards_innovation_id_competition_year_tier'))
    )
    op.create_index('ix_awards_competition_tier_year_innovation_id', 'awards', ['competition', 'tier', 'year', 'innovation_id'], unique=False)
    op.create_index('ix_awards_tier_innovation_id', 'awards', ['tier', 'innovation_id'], unique=False)
    op.create_index('ix_awards_year_innovation_id', 'awards', ['year', 'innovation_id'], unique=False)
    # An innovation's region and province are its institution's, copied so that the region
    # and province filters are indexed columns; they follow the institution when it moves
    # (a change of the innovation's record: a new version, so its ETag changes too).
    op.execute(
        """
        CREATE FUNCTION innovations_copy_region() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            SELECT region_code, province_code INTO NEW.region_code, NEW.province_code
            FROM institutions WHERE id = NEW.institution_id;
            RETURN NEW;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER innovations_copy_region BEFORE INSERT OR UPDATE OF institution_id "
        "ON innovations FOR EACH ROW EXECUTE FUNCTION innovations_copy_region()"
    )
    op.execute(
        """
        CREATE FUNCTION institutions_move_innovations() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE innovations
            SET region_code = NEW.region_code, province_code = NEW.province_code,
                version = version + 1, updated_at = now()
            WHERE institution_id = NEW.id;
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER institutions_move_innovations AFTER UPDATE OF region_code "
        "ON institutions FOR EACH ROW WHEN (OLD.region_code IS DISTINCT FROM NEW.region_code) "
        "EXECUTE FUNCTION institutions_move_innovations()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER institutions_move_innovations ON institutions")
    op.execute("DROP FUNCTION institutions_move_innovations()")
    op.execute("DROP TRIGGER innovations_copy_region ON innovations")
    op.execute("DROP FUNCTION innovations_copy_region()")
    op.drop_index('ix_awards_year_innovation_id', table_name='awards')
    op.drop_index('ix_awards_tier_innovation_id', table_name='awards')
    op.drop_index('ix_awards_competition_tier_year_innovation_id', table_name='awards')
    op.drop_table('awards')
    op.drop_index('ix_innovations_updated_at_id', table_name='innovations')
    op.drop_index('ix_innovations_title_trgm', table_name='innovations', postgresql_using='gin', postgresql_ops={'title': 'gin_trgm_ops'})
    op.drop_index('ix_innovations_title_id', table_name='innovations')
    op.drop_index('ix_innovations_status_updated_at_id', table_name='innovations')
    op.drop_index('ix_innovations_status_title_id', table_name='innovations')
    op.drop_index('ix_innovations_status_replication_count_id', table_name='innovations')
    op.drop_index('ix_innovations_status_launched_on_id', table_name='innovations')
    op.drop_index('ix_innovations_stage', table_name='innovations')
    op.drop_index('ix_innovations_sector', table_name='innovations')
    op.drop_index('ix_innovations_search_vector', table_name='innovations', postgresql_using='gin')
    op.drop_index('ix_innovations_scale', table_name='innovations')
    op.drop_index('ix_innovations_replication_count_id', table_name='innovations')
    op.drop_index('ix_innovations_replica_of_id', table_name='innovations')
    op.drop_index('ix_innovations_region_code', table_name='innovations')
    op.drop_index('ix_innovations_province_code', table_name='innovations')
    op.drop_index('ix_innovations_launched_on_id', table_name='innovations')
    op.drop_index('ix_innovations_institution_id', table_name='innovations')
    op.drop_index('ix_innovations_form', table_name='innovations')
    op.drop_index('ix_innovations_digital', table_name='innovations')
    op.drop_table('innovations')
