"""Competitions: the KIPP and provincial competitions, from proposal to decree.

Competitions, entries, evaluators' assignments and scores against versioned rubrics (stored as
data, two seeded here), field verifications, the ranking stored when a stage closes,
objections; the institution of submitter keys (and the two new roles); the link of an award to
the competition that created it. pg_trgm, which the near-duplicate title flag uses, was
created by the foundation step.

Revision ID: 20261205_1320
Revises: 20261205_1310
Create Date: 2026-12-05 13:20:00+00:00
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import UUID

revision: str = "20261205_1320"
down_revision: str | None = "20261205_1310"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES_BEFORE = "role IN ('admin', 'reviewer', 'coordinator', 'integration')"
ROLES_AFTER = (
    "role IN ('admin', 'reviewer', 'coordinator', 'integration', 'evaluator', 'submitter')"
)

# The KIPP rubrics, version 1, as data; frozen here: a later rubric is a new version row.
# The five proposal criteria are those of the KIPP guideline (Pedoman KIPP, PermenPANRB
# 3/2018 and its successors): significance, novelty, transferability, resources and
# sustainability, stakeholder involvement. The guideline names the criteria but publishes no
# weights: the weights here are this service's default (equal, 20 each; the presentation
# rubric gives the panel's presentation and interview 25 and the five criteria 15 each), and
# an organiser may add a new version with others.
SOURCE = (
    "Criteria: Pedoman Kompetisi Inovasi Pelayanan Publik (PermenPANRB 3/2018 and later). "
    "Weights: Inovasi Hub default, equal weights (the guideline publishes no weights); "
    "divergence threshold: Inovasi Hub default (20 points of 100)."
)
PROPOSAL_CRITERIA = [
    ("significance", "Signifikansi", 20, "The problem solved and the change for the public."),
    ("novelty", "Kebaruan", 20, "What is new in the approach, in its context."),
    ("transferability", "Dapat direplikasi", 20, "Whether others can adopt it."),
    (
        "resources_sustainability",
        "Sumber daya dan keberlanjutan",
        20,
        "Resources used and how it is kept running.",
    ),
    (
        "stakeholder_involvement",
        "Keterlibatan pemangku kepentingan",
        20,
        "Who took part in designing and running it.",
    ),
]
PRESENTATION_CRITERIA = [
    *[(k, n, 15, d) for k, n, _, d in PROPOSAL_CRITERIA],
    ("presentation", "Presentasi dan wawancara", 25, "Before the Independent Panel (TPI)."),
]
RUBRICS = [
    ("kipp_proposal", "KIPP proposal evaluation (evaluasi proposal)", PROPOSAL_CRITERIA),
    (
        "kipp_presentation",
        "KIPP presentation and interview (presentasi dan wawancara)",
        PRESENTATION_CRITERIA,
    ),
]
RUBRIC_NAMESPACE = uuid.UUID("5b0f3a2e-8c1d-4e6f-9a7b-2c3d4e5f6a7b")


def upgrade() -> None:
    op.create_table(
        "competition_rubrics",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("rubric_version", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("criteria", postgresql.JSONB(astext_type=Text()), nullable=False),
        sa.Column("scale_min", sa.Integer(), nullable=False),
        sa.Column("scale_max", sa.Integer(), nullable=False),
        sa.Column("divergence_threshold", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_competition_rubrics")),
        sa.UniqueConstraint(
            "code", "rubric_version", name=op.f("uq_competition_rubrics_code_rubric_version")
        ),
    )
    op.create_table(
        "competitions",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("organizer_province_code", sa.String(length=5), nullable=True),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("groups", postgresql.ARRAY(Text()), nullable=False),
        sa.Column(
            "categories", postgresql.ARRAY(Text()), server_default=sa.text("'{}'"), nullable=False
        ),
        sa.Column("submission_opens_on", sa.Date(), nullable=False),
        sa.Column("submission_closes_on", sa.Date(), nullable=False),
        sa.Column("group_rules", postgresql.JSONB(astext_type=Text()), nullable=False),
        sa.Column("tiers", postgresql.JSONB(astext_type=Text()), nullable=False),
        sa.Column("objection_days", sa.Integer(), server_default="5", nullable=False),
        sa.Column("objection_closes_on", sa.Date(), nullable=True),
        sa.Column("stages_closed", sa.Integer(), server_default="0", nullable=False),
        sa.Column("status", sa.String(length=16), server_default="planned", nullable=False),
        sa.Column("decree_number", sa.Text(), nullable=True),
        sa.Column("determined_on", sa.Date(), nullable=True),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.CheckConstraint(
            "status IN ('planned', 'open', 'screening', 'evaluation', 'objection', 'determined')",
            name=op.f("ck_competitions_status"),
        ),
        sa.CheckConstraint(
            "objection_days BETWEEN 0 AND 60", name=op.f("ck_competitions_objection_days")
        ),
        sa.CheckConstraint(
            "submission_opens_on <= submission_closes_on", name=op.f("ck_competitions_window")
        ),
        sa.CheckConstraint("year BETWEEN 1990 AND 2100", name=op.f("ck_competitions_year")),
        sa.ForeignKeyConstraint(
            ["organizer_province_code"],
            ["regions.code"],
            name=op.f("fk_competitions_organizer_province_code_regions"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_competitions")),
    )
    op.create_index(
        "ix_competitions_organizer_province_code_year_id",
        "competitions",
        ["organizer_province_code", sa.literal_column("year DESC"), sa.literal_column("id DESC")],
        unique=False,
    )
    op.create_index(
        "ix_competitions_status_year_id",
        "competitions",
        ["status", sa.literal_column("year DESC"), sa.literal_column("id DESC")],
        unique=False,
    )
    op.create_index(
        "ix_competitions_year_id",
        "competitions",
        [sa.literal_column("year DESC"), sa.literal_column("id DESC")],
        unique=False,
    )
    op.create_table(
        "competition_entries",
        sa.Column("competition_id", sa.UUID(), nullable=False),
        sa.Column("innovation_id", sa.UUID(), nullable=False),
        sa.Column("institution_id", sa.UUID(), nullable=False),
        sa.Column("agency_id", sa.UUID(), nullable=False),
        sa.Column("agency_kind", sa.String(length=32), nullable=False),
        sa.Column("province_code", sa.String(length=2), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("group", sa.String(length=16), nullable=False),
        sa.Column("category", sa.Text(), nullable=True),
        sa.Column(
            "answers",
            postgresql.JSONB(astext_type=Text()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("video_url", sa.Text(), nullable=True),
        sa.Column(
            "document_urls",
            postgresql.ARRAY(Text()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("nominated_from_entry_id", sa.UUID(), nullable=True),
        sa.Column("status", sa.String(length=16), server_default="draft", nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "near_duplicates",
            postgresql.JSONB(astext_type=Text()),
            server_default=sa.text("'[]'"),
            nullable=False,
        ),
        sa.Column("screening_result", sa.String(length=8), nullable=True),
        sa.Column(
            "screening_reasons",
            postgresql.ARRAY(Text()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("screening_note", sa.Text(), nullable=True),
        sa.Column("screened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tier_index", sa.Integer(), nullable=True),
        sa.Column("eliminated_at_stage", sa.Integer(), nullable=True),
        sa.Column("created_by_key_id", sa.UUID(), nullable=True),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.CheckConstraint(
            "screening_result IN ('passed', 'failed')",
            name=op.f("ck_competition_entries_screening_result"),
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'submitted', 'screened_out', 'in_evaluation', 'eliminated', 'finalist', 'awarded', 'disqualified')",
            name=op.f("ck_competition_entries_status"),
        ),
        sa.CheckConstraint(
            "\"group\" IN ('general', 'replication', 'special')",
            name=op.f("ck_competition_entries_group"),
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["institutions.id"],
            name=op.f("fk_competition_entries_agency_id_institutions"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["competition_id"],
            ["competitions.id"],
            name=op.f("fk_competition_entries_competition_id_competitions"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["innovation_id"],
            ["innovations.id"],
            name=op.f("fk_competition_entries_innovation_id_innovations"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_competition_entries_institution_id_institutions"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["nominated_from_entry_id"],
            ["competition_entries.id"],
            name="fk_competition_entries_nominated_from_entry_id",
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_competition_entries")),
        sa.UniqueConstraint(
            "competition_id",
            "innovation_id",
            name=op.f("uq_competition_entries_competition_id_innovation_id"),
        ),
    )
    op.create_index(
        "ix_competition_entries_agency_id", "competition_entries", ["agency_id"], unique=False
    )
    op.create_index(
        "ix_competition_entries_competition_id_agency_id_group",
        "competition_entries",
        ["competition_id", "agency_id", "group"],
        unique=False,
    )
    op.create_index(
        "ix_competition_entries_competition_id_created_at_id",
        "competition_entries",
        ["competition_id", "created_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_competition_entries_competition_id_status",
        "competition_entries",
        ["competition_id", "status"],
        unique=False,
    )
    op.create_index(
        "ix_competition_entries_innovation_id",
        "competition_entries",
        ["innovation_id"],
        unique=False,
    )
    op.create_index(
        "ix_competition_entries_institution_id",
        "competition_entries",
        ["institution_id"],
        unique=False,
    )
    op.create_index(
        "ix_competition_entries_nominated_from_entry_id",
        "competition_entries",
        ["nominated_from_entry_id"],
        unique=False,
    )
    op.create_index(
        "ix_competition_entries_title_trgm",
        "competition_entries",
        ["title"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"title": "gin_trgm_ops"},
    )
    op.create_table(
        "competition_objections",
        sa.Column("competition_id", sa.UUID(), nullable=False),
        sa.Column("entry_id", sa.UUID(), nullable=False),
        sa.Column("grounds", sa.Text(), nullable=False),
        sa.Column("filed_by", sa.Text(), nullable=False),
        sa.Column("filed_by_key_id", sa.UUID(), nullable=True),
        sa.Column("status", sa.String(length=16), server_default="open", nullable=False),
        sa.Column("resolution_note", sa.Text(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "promoted_entry_ids",
            postgresql.ARRAY(UUID()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.CheckConstraint(
            "status IN ('open', 'upheld', 'rejected')",
            name=op.f("ck_competition_objections_status"),
        ),
        sa.ForeignKeyConstraint(
            ["competition_id"],
            ["competitions.id"],
            name=op.f("fk_competition_objections_competition_id_competitions"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["competition_entries.id"],
            name=op.f("fk_competition_objections_entry_id_competition_entries"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_competition_objections")),
    )
    op.create_index(
        "ix_competition_objections_competition_id_created_at_id",
        "competition_objections",
        ["competition_id", "created_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_competition_objections_entry_id", "competition_objections", ["entry_id"], unique=False
    )
    op.create_table(
        "entry_assignments",
        sa.Column("competition_id", sa.UUID(), nullable=False),
        sa.Column("entry_id", sa.UUID(), nullable=False),
        sa.Column("stage", sa.Integer(), nullable=False),
        sa.Column("evaluator_key_id", sa.UUID(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.ForeignKeyConstraint(
            ["competition_id"],
            ["competitions.id"],
            name=op.f("fk_entry_assignments_competition_id_competitions"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["competition_entries.id"],
            name=op.f("fk_entry_assignments_entry_id_competition_entries"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["evaluator_key_id"],
            ["api_keys.id"],
            name=op.f("fk_entry_assignments_evaluator_key_id_api_keys"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entry_assignments")),
        sa.UniqueConstraint(
            "entry_id",
            "stage",
            "evaluator_key_id",
            name=op.f("uq_entry_assignments_entry_id_stage_evaluator_key_id"),
        ),
    )
    op.create_index(
        "ix_entry_assignments_competition_id_stage",
        "entry_assignments",
        ["competition_id", "stage"],
        unique=False,
    )
    op.create_index(
        "ix_entry_assignments_evaluator_key_id_competition_id",
        "entry_assignments",
        ["evaluator_key_id", "competition_id"],
        unique=False,
    )
    op.create_table(
        "entry_scores",
        sa.Column("competition_id", sa.UUID(), nullable=False),
        sa.Column("entry_id", sa.UUID(), nullable=False),
        sa.Column("stage", sa.Integer(), nullable=False),
        sa.Column("evaluator_key_id", sa.UUID(), nullable=False),
        sa.Column("rubric_id", sa.UUID(), nullable=False),
        sa.Column("criteria", postgresql.JSONB(astext_type=Text()), nullable=False),
        sa.Column("total", sa.Numeric(precision=6, scale=2), nullable=False),
        sa.Column("comment", sa.Text(), server_default="", nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.CheckConstraint("total BETWEEN 0 AND 100", name=op.f("ck_entry_scores_total")),
        sa.ForeignKeyConstraint(
            ["competition_id"],
            ["competitions.id"],
            name=op.f("fk_entry_scores_competition_id_competitions"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["competition_entries.id"],
            name=op.f("fk_entry_scores_entry_id_competition_entries"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["evaluator_key_id"],
            ["api_keys.id"],
            name=op.f("fk_entry_scores_evaluator_key_id_api_keys"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["rubric_id"],
            ["competition_rubrics.id"],
            name=op.f("fk_entry_scores_rubric_id_competition_rubrics"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entry_scores")),
        sa.UniqueConstraint(
            "entry_id",
            "stage",
            "evaluator_key_id",
            name=op.f("uq_entry_scores_entry_id_stage_evaluator_key_id"),
        ),
    )
    op.create_index(
        "ix_entry_scores_competition_id_stage",
        "entry_scores",
        ["competition_id", "stage"],
        unique=False,
    )
    op.create_index(
        "ix_entry_scores_evaluator_key_id", "entry_scores", ["evaluator_key_id"], unique=False
    )
    op.create_index("ix_entry_scores_rubric_id", "entry_scores", ["rubric_id"], unique=False)
    op.create_table(
        "field_verifications",
        sa.Column("entry_id", sa.UUID(), nullable=False),
        sa.Column("visited_on", sa.Date(), nullable=False),
        sa.Column("team", postgresql.ARRAY(Text()), nullable=False),
        sa.Column("findings", sa.Text(), server_default="", nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column(
            "evidence_urls",
            postgresql.ARRAY(Text()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["competition_entries.id"],
            name=op.f("fk_field_verifications_entry_id_competition_entries"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_field_verifications")),
        sa.UniqueConstraint("entry_id", name=op.f("uq_field_verifications_entry_id")),
    )
    op.create_table(
        "stage_rankings",
        sa.Column("competition_id", sa.UUID(), nullable=False),
        sa.Column("stage", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.UUID(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("score", sa.Numeric(precision=6, scale=2), nullable=False),
        sa.Column("eligible", sa.Boolean(), nullable=False),
        sa.Column("advanced", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["competition_id"],
            ["competitions.id"],
            name=op.f("fk_stage_rankings_competition_id_competitions"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["competition_entries.id"],
            name=op.f("fk_stage_rankings_entry_id_competition_entries"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint(
            "competition_id", "stage", "entry_id", name=op.f("pk_stage_rankings")
        ),
        sa.UniqueConstraint(
            "competition_id",
            "stage",
            "rank",
            name=op.f("uq_stage_rankings_competition_id_stage_rank"),
        ),
    )
    op.create_index("ix_stage_rankings_entry_id", "stage_rankings", ["entry_id"], unique=False)
    op.add_column("api_keys", sa.Column("institution_id", sa.UUID(), nullable=True))
    op.create_index("ix_api_keys_institution_id", "api_keys", ["institution_id"], unique=False)
    op.create_foreign_key(
        op.f("fk_api_keys_institution_id_institutions"),
        "api_keys",
        "institutions",
        ["institution_id"],
        ["id"],
        ondelete="RESTRICT",
    )
    op.add_column("awards", sa.Column("competition_id", sa.UUID(), nullable=True))
    op.create_index("ix_awards_competition_id", "awards", ["competition_id"], unique=False)
    op.create_foreign_key(
        op.f("fk_awards_competition_id_competitions"),
        "awards",
        "competitions",
        ["competition_id"],
        ["id"],
        ondelete="RESTRICT",
    )

    op.drop_constraint(op.f("ck_api_keys_role"), "api_keys", type_="check")
    op.create_check_constraint("role", "api_keys", ROLES_AFTER)
    op.create_check_constraint(
        "institution_scope", "api_keys", "(role = 'submitter') = (institution_id IS NOT NULL)"
    )
    rubrics = sa.table(
        "competition_rubrics",
        sa.column("id", UUID(as_uuid=True)),
        sa.column("code", sa.String),
        sa.column("rubric_version", sa.Integer),
        sa.column("name", sa.Text),
        sa.column("criteria", postgresql.JSONB),
        sa.column("scale_min", sa.Integer),
        sa.column("scale_max", sa.Integer),
        sa.column("divergence_threshold", sa.Numeric),
        sa.column("source", sa.Text),
    )
    op.bulk_insert(
        rubrics,
        [
            {
                "id": uuid.uuid5(RUBRIC_NAMESPACE, f"{code}:1"),
                "code": code,
                "rubric_version": 1,
                "name": name,
                "criteria": [
                    {"key": k, "name": n, "weight": w, "description": d} for k, n, w, d in criteria
                ],
                "scale_min": 1,
                "scale_max": 10,
                "divergence_threshold": 20,
                "source": SOURCE,
            }
            for code, name, criteria in RUBRICS
        ],
    )


def downgrade() -> None:
    op.execute("DELETE FROM api_keys WHERE role IN ('evaluator', 'submitter')")
    op.drop_constraint(op.f("ck_api_keys_institution_scope"), "api_keys", type_="check")
    op.drop_constraint(op.f("ck_api_keys_role"), "api_keys", type_="check")
    op.create_check_constraint("role", "api_keys", ROLES_BEFORE)
    op.drop_constraint(op.f("fk_awards_competition_id_competitions"), "awards", type_="foreignkey")
    op.drop_index("ix_awards_competition_id", table_name="awards")
    op.drop_column("awards", "competition_id")
    op.drop_constraint(
        op.f("fk_api_keys_institution_id_institutions"), "api_keys", type_="foreignkey"
    )
    op.drop_index("ix_api_keys_institution_id", table_name="api_keys")
    op.drop_column("api_keys", "institution_id")
    op.drop_index("ix_stage_rankings_entry_id", table_name="stage_rankings")
    op.drop_table("stage_rankings")
    op.drop_table("field_verifications")
    op.drop_index("ix_entry_scores_rubric_id", table_name="entry_scores")
    op.drop_index("ix_entry_scores_evaluator_key_id", table_name="entry_scores")
    op.drop_index("ix_entry_scores_competition_id_stage", table_name="entry_scores")
    op.drop_table("entry_scores")
    op.drop_index(
        "ix_entry_assignments_evaluator_key_id_competition_id", table_name="entry_assignments"
    )
    op.drop_index("ix_entry_assignments_competition_id_stage", table_name="entry_assignments")
    op.drop_table("entry_assignments")
    op.drop_index("ix_competition_objections_entry_id", table_name="competition_objections")
    op.drop_index(
        "ix_competition_objections_competition_id_created_at_id",
        table_name="competition_objections",
    )
    op.drop_table("competition_objections")
    op.drop_index(
        "ix_competition_entries_title_trgm",
        table_name="competition_entries",
        postgresql_using="gin",
        postgresql_ops={"title": "gin_trgm_ops"},
    )
    op.drop_index(
        "ix_competition_entries_nominated_from_entry_id", table_name="competition_entries"
    )
    op.drop_index("ix_competition_entries_institution_id", table_name="competition_entries")
    op.drop_index("ix_competition_entries_innovation_id", table_name="competition_entries")
    op.drop_index("ix_competition_entries_competition_id_status", table_name="competition_entries")
    op.drop_index(
        "ix_competition_entries_competition_id_created_at_id", table_name="competition_entries"
    )
    op.drop_index(
        "ix_competition_entries_competition_id_agency_id_group", table_name="competition_entries"
    )
    op.drop_index("ix_competition_entries_agency_id", table_name="competition_entries")
    op.drop_table("competition_entries")
    op.drop_index("ix_competitions_year_id", table_name="competitions")
    op.drop_index("ix_competitions_status_year_id", table_name="competitions")
    op.drop_index("ix_competitions_organizer_province_code_year_id", table_name="competitions")
    op.drop_table("competitions")
    op.drop_table("competition_rubrics")
