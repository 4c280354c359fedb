"""Sustainability monitoring: the versioned rubric and assessments of innovations and replicas.

Revision ID: 20261123_0005
Revises: 20261122_0004
Create Date: 2026-11-23 03:11:25.991650+00:00
"""

from collections.abc import Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261123_0005"
down_revision: str | None = "20261122_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Rubric version 1, as data. Frozen here: a later rubric is a new row (version 2, …), never an
# edit of this one, so assessments scored with version 1 keep explaining themselves.
# Grounds: PermenPANRB 91/2021 (an innovation is sustainable when it keeps being applied with
# the community's support) and the Kemendagri regional innovation index indicators (regulation
# SK → Perkada → Perda, budget, place in the regional plan, performance indicators, SOP, staff,
# beneficiaries, monitoring and evaluation, complaint handling).
RUBRIC_V1: dict[str, Any] = {
    "indicators": [
        {
            "key": "legal_basis",
            "label": "Legal basis",
            "term": "Dasar hukum (SK → Perkada → Perda)",
            "weight": 20,
            "description": "The strongest regulation behind the innovation: a decree (SK of the "
            "agency head or regional head), a regional head regulation (Perkada: Pergub, Perbup, "
            "Perwali) or a regional bylaw (Perda). The higher the level, the more it outlasts a "
            "change of leadership.",
            "levels": {"none": 0, "decree": 0.4, "head_regulation": 0.75, "bylaw": 1},
        },
        {
            "key": "budget_years",
            "label": "Budget continuity",
            "term": "Dukungan anggaran (APBD)",
            "weight": 15,
            "description": "Years of the last three with a budget line for the innovation.",
            "levels": {"0": 0, "1": 0.3, "2": 0.6, "3": 1},
        },
        {
            "key": "in_regional_plan",
            "label": "In the regional development plan",
            "term": "Masuk RKPD / RPJMD",
            "weight": 10,
            "description": "The innovation is a programme or activity of the regional plan.",
            "levels": {"false": 0, "true": 1},
        },
        {
            "key": "in_performance_indicators",
            "label": "In performance indicators",
            "term": "Indikator kinerja (IKU / IKD)",
            "weight": 10,
            "description": "Its results are measured by the institution's performance indicators.",
            "levels": {"false": 0, "true": 1},
        },
        {
            "key": "survived_leadership_change",
            "label": "Survived a change of leadership",
            "term": "Bertahan setelah pergantian pimpinan",
            "weight": 10,
            "description": "It kept running after the regional or agency head changed; "
            "`not_applicable` (no change yet) earns half.",
            "levels": {"no": 0, "not_applicable": 0.5, "yes": 1},
        },
        {
            "key": "has_sop",
            "label": "Standard operating procedure",
            "term": "SOP / pedoman teknis",
            "weight": 5,
            "description": "A written SOP or technical guideline governs the service.",
            "levels": {"false": 0, "true": 1},
        },
        {
            "key": "staff_count",
            "label": "Assigned staff",
            "term": "SDM pelaksana",
            "weight": 5,
            "description": "Staff assigned to run it (a band applies from its `min`).",
            "bands": [
                {"min": 0, "fraction": 0},
                {"min": 1, "fraction": 0.5},
                {"min": 3, "fraction": 1},
            ],
        },
        {
            "key": "beneficiaries_count",
            "label": "Beneficiaries in the period",
            "term": "Penerima manfaat",
            "weight": 10,
            "description": "People (or households, businesses) served in the period.",
            "bands": [
                {"min": 0, "fraction": 0},
                {"min": 1, "fraction": 0.25},
                {"min": 100, "fraction": 0.5},
                {"min": 1000, "fraction": 0.75},
                {"min": 10000, "fraction": 1},
            ],
        },
        {
            "key": "monitoring",
            "label": "Monitoring and evaluation",
            "term": "Monitoring dan evaluasi (survei kepuasan masyarakat)",
            "weight": 10,
            "description": "None, internal monitoring, or a public satisfaction survey (SKM).",
            "levels": {"none": 0, "internal": 0.5, "public_survey": 1},
        },
        {
            "key": "complaint_resolution_pct",
            "label": "Complaints resolved",
            "term": "Penyelesaian pengaduan",
            "weight": 5,
            "description": "Share of complaints resolved in the period. Null means there is no "
            "complaint channel (no points); with a channel and no complaints, send 100.",
            "missing": 0,
            "bands": [
                {"min": 0, "fraction": 0.25},
                {"min": 50, "fraction": 0.5},
                {"min": 80, "fraction": 0.75},
                {"min": 90, "fraction": 1},
            ],
        },
    ],
    "thresholds": {"sustained": 70, "at_risk": 35},
    "not_operating_verdict": "discontinued",
    "sources": [
        "PermenPANRB 91/2021 (Pembinaan Inovasi Pelayanan Publik): keberlanjutan",
        "Kemendagri, Indeks Inovasi Daerah: indikator regulasi, anggaran, RKPD, SDM, SOP, "
        "monev, pengaduan, kemanfaatan",
    ],
}


def upgrade() -> None:
    op.create_table('sustainability_rubrics',
    sa.Column('version', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('definition', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('effective_on', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('version >= 1', name=op.f('ck_sustainability_rubrics_version')),
    sa.PrimaryKeyConstraint('version', name=op.f('pk_sustainability_rubrics'))
    )
    op.create_table('sustainability_assessments',
    sa.Column('innovation_id', sa.UUID(), nullable=True),
    sa.Column('commitment_id', sa.UUID(), nullable=True),
    sa.Column('source_innovation_id', sa.UUID(), nullable=False),
    sa.Column('province_code', sa.String(length=2), nullable=True),
    sa.Column('period', sa.Integer(), nullable=False),
    sa.Column('operating', sa.Boolean(), nullable=False),
    sa.Column('survived_leadership_change', sa.String(length=16), nullable=False),
    sa.Column('legal_basis', sa.String(length=16), nullable=False),
    sa.Column('budget_years', sa.Integer(), nullable=False),
    sa.Column('in_regional_plan', sa.Boolean(), nullable=False),
    sa.Column('in_performance_indicators', sa.Boolean(), nullable=False),
    sa.Column('has_sop', sa.Boolean(), nullable=False),
    sa.Column('staff_count', sa.Integer(), nullable=False),
    sa.Column('beneficiaries_count', sa.BigInteger(), nullable=False),
    sa.Column('monitoring', sa.String(length=16), nullable=False),
    sa.Column('complaint_resolution_pct', sa.Integer(), nullable=True),
    sa.Column('incentive_idr', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('notes', sa.Text(), server_default='', nullable=False),
    sa.Column('evidence_urls', postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('assessed_on', sa.Date(), nullable=False),
    sa.Column('score', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('verdict', sa.String(length=16), nullable=False),
    sa.Column('breakdown', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"), nullable=False),
    sa.Column('rubric_version', sa.Integer(), nullable=False),
    sa.Column('assessed_by_key_id', sa.UUID(), nullable=True),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.CheckConstraint('assessed_on >= make_date(period, 1, 1)', name=op.f('ck_sustainability_assessments_assessed_on')),
    sa.CheckConstraint("legal_basis IN ('none', 'decree', 'head_regulation', 'bylaw')", name=op.f('ck_sustainability_assessments_legal_basis')),
    sa.CheckConstraint("monitoring IN ('none', 'internal', 'public_survey')", name=op.f('ck_sustainability_assessments_monitoring')),
    sa.CheckConstraint("survived_leadership_change IN ('yes', 'no', 'not_applicable')", name=op.f('ck_sustainability_assessments_leadership')),
    sa.CheckConstraint("verdict IN ('sustained', 'at_risk', 'discontinued')", name=op.f('ck_sustainability_assessments_verdict')),
    sa.CheckConstraint('beneficiaries_count >= 0', name=op.f('ck_sustainability_assessments_beneficiaries_count')),
    sa.CheckConstraint('budget_years BETWEEN 0 AND 3', name=op.f('ck_sustainability_assessments_budget_years')),
    sa.CheckConstraint('complaint_resolution_pct BETWEEN 0 AND 100', name=op.f('ck_sustainability_assessments_complaint_resolution_pct')),
    sa.CheckConstraint('incentive_idr >= 0', name=op.f('ck_sustainability_assessments_incentive_idr')),
    sa.CheckConstraint('num_nonnulls(innovation_id, commitment_id) = 1', name=op.f('ck_sustainability_assessments_one_subject')),
    sa.CheckConstraint('period BETWEEN 2000 AND 2100', name=op.f('ck_sustainability_assessments_period')),
    sa.CheckConstraint('score BETWEEN 0 AND 100', name=op.f('ck_sustainability_assessments_score')),
    sa.CheckConstraint('staff_count >= 0', name=op.f('ck_sustainability_assessments_staff_count')),
    sa.ForeignKeyConstraint(['commitment_id'], ['commitments.id'], name=op.f('fk_sustainability_assessments_commitment_id_commitments'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['innovation_id'], ['innovations.id'], name=op.f('fk_sustainability_assessments_innovation_id_innovations'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['rubric_version'], ['sustainability_rubrics.version'], name=op.f('fk_sustainability_assessments_rubric_version_sustainability_rubrics'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['source_innovation_id'], ['innovations.id'], name=op.f('fk_sustainability_assessments_source_innovation_id_innovations'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sustainability_assessments')),
    sa.UniqueConstraint('commitment_id', 'period', name=op.f('uq_sustainability_assessments_commitment_id_period')),
    sa.UniqueConstraint('innovation_id', 'period', name=op.f('uq_sustainability_assessments_innovation_id_period'))
    )
    op.create_index('ix_sustainability_assessments_source_innovation_id_period', 'sustainability_assessments', ['source_innovation_id', 'period'], unique=False)
    op.create_index('ix_sustainability_assessments_period_id', 'sustainability_assessments', [sa.literal_column('period DESC'), sa.literal_column('id DESC')], unique=False)
    op.create_index('ix_sustainability_assessments_assessed_on_id', 'sustainability_assessments', [sa.literal_column('assessed_on DESC'), sa.literal_column('id DESC')], unique=False)
    op.create_index('ix_sustainability_assessments_province_code_period_id', 'sustainability_assessments', ['province_code', sa.literal_column('period DESC'), sa.literal_column('id DESC')], unique=False)
    op.create_index('ix_sustainability_assessments_verdict_period_id', 'sustainability_assessments', ['verdict', sa.literal_column('period DESC'), sa.literal_column('id DESC')], unique=False)
    rubrics = sa.table(
        'sustainability_rubrics',
        sa.column('version', sa.Integer()),
        sa.column('title', sa.Text()),
        sa.column('definition', postgresql.JSONB()),
        sa.column('effective_on', sa.Date()),
    )
    op.bulk_insert(
        rubrics,
        [
            {
                'version': 1,
                'title': 'Sustainability rubric 1 (PermenPANRB 91/2021, Kemendagri innovation index)',
                'definition': RUBRIC_V1,
                'effective_on': date(2026, 11, 23),
            }
        ],
    )


def downgrade() -> None:
    op.drop_index('ix_sustainability_assessments_verdict_period_id', table_name='sustainability_assessments')
    op.drop_index('ix_sustainability_assessments_province_code_period_id', table_name='sustainability_assessments')
    op.drop_index('ix_sustainability_assessments_assessed_on_id', table_name='sustainability_assessments')
    op.drop_index('ix_sustainability_assessments_period_id', table_name='sustainability_assessments')
    op.drop_index('ix_sustainability_assessments_source_innovation_id_period', table_name='sustainability_assessments')
    op.drop_table('sustainability_assessments')
    op.drop_table('sustainability_rubrics')
