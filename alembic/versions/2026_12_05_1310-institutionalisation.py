"""Institutionalisation: regulations, incentives and JIPP hubs.

Regulations on innovation (national or of a region), incentive funds (DID) per region and
year, JIPP hubs with their member institutions, and the hub that mentors a replication
programme. The compliance view ("one OPD, one innovation") reads the institutions by the
existing `ix_institutions_province_code_name_id` and `ix_institutions_region_code_name_id`,
and asks `opd_has_innovation` (the one definition of an OPD with an innovation in a year)
of each OPD it counts or lists.

Revision ID: 20261205_1310
Revises: 20261205_1300
Create Date: 2026-12-05 13:10:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "20261205_1310"
down_revision: str | None = "20261205_1300"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _record_columns() -> list[sa.Column[object]]:
    return [
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
    ]


# An OPD has an innovation in a year when it, or a unit under it at any depth (a UPTD, a
# puskesmas), owns an innovation that is not withdrawn and was registered (created) or
# launched in that year; the year runs in Western Indonesia Time (WIB). The units are
# gathered first (`ix_institutions_parent_id`), then their innovations are looked up as one
# array (`ix_innovations_institution_id`): a call costs a few index probes, never a scan.
OPD_HAS_INNOVATION = """
CREATE FUNCTION opd_has_innovation(p_opd uuid, p_year integer) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT EXISTS (
        SELECT 1 FROM innovations n
        WHERE n.institution_id = ANY (ARRAY(
                  WITH RECURSIVE unit(id) AS (
                      SELECT p_opd
                      UNION
                      SELECT i.id FROM institutions i JOIN unit ON i.parent_id = unit.id
                  )
                  SELECT id FROM unit))
          AND n.status <> 'withdrawn'
          AND (n.launched_on BETWEEN make_date(p_year, 1, 1) AND make_date(p_year, 12, 31)
               OR (n.created_at >= make_timestamptz(p_year, 1, 1, 0, 0, 0, 'Asia/Jakarta')
                   AND n.created_at
                       < make_timestamptz(p_year + 1, 1, 1, 0, 0, 0, 'Asia/Jakarta')))
    )
$$
"""
# Whether an institution is a regional government (pemprov, pemkab, pemkot): an OPD is an
# institution directly under one. A function rather than a join in the compliance page, so
# that the planner does not read "under a government" as rare (few institutions are
# governments, but most OPDs are under one) and sort every OPD instead of walking the index.
IS_GOVERNMENT = """
CREATE FUNCTION is_government(p_institution uuid) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT EXISTS (
        SELECT 1 FROM institutions
        WHERE id = p_institution
          AND kind IN ('provincial_government', 'regency_government', 'city_government')
    )
$$
"""


def upgrade() -> None:
    op.create_table(
        "regulations",
        sa.Column("region_code", sa.String(length=5), nullable=True),
        sa.Column(
            "province_code",
            sa.String(length=2),
            sa.Computed("substr(region_code, 1, 2)", persisted=True),
            nullable=True,
        ),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("number", sa.Text(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("repealed_on", sa.Date(), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column(
            "mandates_yearly_innovation", sa.Boolean(), server_default="false", nullable=False
        ),
        sa.Column("notes", sa.Text(), server_default="", nullable=False),
        *_record_columns(),
        sa.CheckConstraint(
            "kind IN ('bylaw', 'head_regulation', 'decree', 'ministerial_regulation')",
            name=op.f("ck_regulations_kind"),
        ),
        sa.CheckConstraint("year BETWEEN 1945 AND 2100", name=op.f("ck_regulations_year")),
        sa.CheckConstraint(
            "repealed_on IS NULL OR repealed_on > effective_on",
            name=op.f("ck_regulations_repealed_on"),
        ),
        sa.ForeignKeyConstraint(
            ["region_code"],
            ["regions.code"],
            name=op.f("fk_regulations_region_code_regions"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_regulations")),
        sa.UniqueConstraint(
            "region_code",
            "kind",
            "number",
            "year",
            name=op.f("uq_regulations_region_code_kind_number_year"),
            postgresql_nulls_not_distinct=True,
        ),
    )
    desc = [sa.literal_column("year DESC"), sa.literal_column("id DESC")]
    op.create_index("ix_regulations_year_id", "regulations", desc)
    op.create_index("ix_regulations_province_code_year_id", "regulations", ["province_code", *desc])
    op.create_index("ix_regulations_region_code_year_id", "regulations", ["region_code", *desc])
    op.create_index("ix_regulations_kind_year_id", "regulations", ["kind", *desc])
    op.create_index(
        "ix_regulations_mandating_region_code",
        "regulations",
        ["region_code"],
        postgresql_where=sa.text("mandates_yearly_innovation"),
    )

    op.create_table(
        "incentives",
        sa.Column("region_code", sa.String(length=5), nullable=False),
        sa.Column(
            "province_code",
            sa.String(length=2),
            sa.Computed("substr(region_code, 1, 2)", persisted=True),
            nullable=True,
        ),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("amount_idr", sa.BigInteger(), nullable=False),
        sa.Column("basis", sa.Text(), nullable=False),
        sa.Column("innovation_id", sa.UUID(), nullable=True),
        sa.Column("notes", sa.Text(), server_default="", nullable=False),
        *_record_columns(),
        sa.CheckConstraint("year BETWEEN 2000 AND 2100", name=op.f("ck_incentives_year")),
        sa.CheckConstraint("amount_idr >= 0", name=op.f("ck_incentives_amount_idr")),
        sa.ForeignKeyConstraint(
            ["region_code"],
            ["regions.code"],
            name=op.f("fk_incentives_region_code_regions"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["innovation_id"],
            ["innovations.id"],
            name=op.f("fk_incentives_innovation_id_innovations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incentives")),
    )
    op.create_index("ix_incentives_year_id", "incentives", desc)
    op.create_index("ix_incentives_province_code_year_id", "incentives", ["province_code", *desc])
    op.create_index("ix_incentives_region_code_year_id", "incentives", ["region_code", *desc])
    op.create_index("ix_incentives_innovation_id", "incentives", ["innovation_id"])

    op.create_table(
        "jipp_hubs",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("province_code", sa.String(length=5), nullable=False),
        sa.Column("host_institution_id", sa.UUID(), nullable=False),
        sa.Column("established_on", sa.Date(), nullable=True),
        sa.Column("decree_number", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("mentors", sa.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False),
        *_record_columns(),
        sa.ForeignKeyConstraint(
            ["province_code"],
            ["regions.code"],
            name=op.f("fk_jipp_hubs_province_code_regions"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["host_institution_id"],
            ["institutions.id"],
            name=op.f("fk_jipp_hubs_host_institution_id_institutions"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jipp_hubs")),
        sa.UniqueConstraint("name", name=op.f("uq_jipp_hubs_name")),
    )
    op.create_index("ix_jipp_hubs_name_id", "jipp_hubs", ["name", "id"])
    op.create_index(
        "ix_jipp_hubs_province_code_name_id", "jipp_hubs", ["province_code", "name", "id"]
    )
    op.create_index("ix_jipp_hubs_host_institution_id", "jipp_hubs", ["host_institution_id"])

    op.create_table(
        "jipp_hub_members",
        sa.Column("hub_id", sa.UUID(), nullable=False),
        sa.Column("institution_id", sa.UUID(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["hub_id"],
            ["jipp_hubs.id"],
            name=op.f("fk_jipp_hub_members_hub_id_jipp_hubs"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_jipp_hub_members_institution_id_institutions"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("hub_id", "institution_id", name=op.f("pk_jipp_hub_members")),
    )
    op.create_index("ix_jipp_hub_members_institution_id", "jipp_hub_members", ["institution_id"])

    op.add_column("replication_programs", sa.Column("mentor_hub_id", sa.UUID(), nullable=True))
    op.create_foreign_key(
        op.f("fk_replication_programs_mentor_hub_id_jipp_hubs"),
        "replication_programs",
        "jipp_hubs",
        ["mentor_hub_id"],
        ["id"],
        ondelete="RESTRICT",
    )
    op.create_index(
        "ix_replication_programs_mentor_hub_id", "replication_programs", ["mentor_hub_id"]
    )
    op.execute(OPD_HAS_INNOVATION)
    op.execute(IS_GOVERNMENT)


def downgrade() -> None:
    op.execute("DROP FUNCTION is_government(uuid)")
    op.execute("DROP FUNCTION opd_has_innovation(uuid, integer)")
    op.drop_index("ix_replication_programs_mentor_hub_id", table_name="replication_programs")
    op.drop_constraint(
        op.f("fk_replication_programs_mentor_hub_id_jipp_hubs"),
        "replication_programs",
        type_="foreignkey",
    )
    op.drop_column("replication_programs", "mentor_hub_id")
    op.drop_table("jipp_hub_members")
    op.drop_table("jipp_hubs")
    op.drop_table("incentives")
    op.drop_table("regulations")
