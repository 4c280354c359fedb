"""Dashboard lists at national scale: the scaling candidates and the sustainability due list
read kept figures through an index, in the order of the page.

- `innovation_figures`: one row per innovation with what the candidates ranking needs (live
  replicas, other provinces reached, the latest verdict at the origin, awards) and `met`, the
  criteria met under the default thresholds (a generated column). Partial indexes on
  (met, replicas, innovation_id), alone and behind the province, hold the candidates (published,
  not national): a page is a walk of one of them.
- `ix_commitments_overdue_walk`: the open commitments with a target date, in 30-day buckets of
  that date, each bucket by signing date: the overdue list by signing date is a merge of one
  short walk per bucket up to today's (see `app.replication.repository.OVERDUE_WALK`), not a
  walk of every commitment signed since.
- `due_subjects`: one row per subject of an assessment (every innovation and every
  commitment) with its latest `assessed_on` and highest period, whether it is in the due list's
  scope (a published innovation, a launched or sustained commitment) and, for an innovation, the
  day its year counts from. Partial indexes on (assessed_key, subject_id), alone, behind the
  province and behind the subject kind, serve the due page.

One definition each: `innovation_figures_of(ids)`, `innovation_due_of(ids)` and
`commitment_due_of(ids)` compute the rows of the given subjects from the base tables; the
statement-level triggers on innovations, commitments, awards and sustainability assessments
call them for the subjects a statement touched (and only when a column they read changed), and
the backfill below calls them for every subject. A trigger first locks the kept rows it will
rewrite (in key order), then recomputes in a new snapshot, so two writers of the same subject
never overwrite each other's figures.

Revision ID: 20261205_1340
Revises: 20261205_1330
Create Date: 2026-12-05 13:40:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision: str = "20261205_1340"
down_revision: str | None = "20261205_1330"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = "('launched', 'sustained')"
CANDIDATE = "status = 'published' AND scale <> 'national'"
MET = (
    "(replicas >= 3)::integer + (other_provinces >= 2)::integer"
    " + (coalesce(verdict = 'sustained', false))::integer + (awards >= 1)::integer"
)
NEVER = "'1900-01-01'::date"

FUNCTIONS = [
    # --- The definitions -------------------------------------------------------------------
    f"""
    CREATE FUNCTION innovation_figures_of(ids uuid[])
    RETURNS TABLE (
        innovation_id uuid, province_code varchar(2), status varchar(16), scale varchar(16),
        replicas integer, other_provinces integer, verdict varchar(16), score numeric(5, 2),
        period integer, awards integer
    ) LANGUAGE sql STABLE AS $$
        SELECT i.id, i.province_code, i.status, i.scale,
               live.replicas::integer, live.other_provinces::integer,
               latest.verdict, latest.score, latest.period, won.awards::integer
        FROM innovations i
        CROSS JOIN LATERAL (
            SELECT count(*) AS replicas,
                   count(DISTINCT c.adopter_province_code) FILTER (
                       WHERE c.adopter_province_code IS DISTINCT FROM i.province_code
                   ) AS other_provinces
            FROM commitments c
            WHERE c.innovation_id = i.id AND c.status IN {LIVE}
        ) live
        LEFT JOIN LATERAL (
            SELECT s.verdict, s.score, s.period FROM sustainability_assessments s
            WHERE s.innovation_id = i.id ORDER BY s.period DESC LIMIT 1
        ) latest ON true
        CROSS JOIN LATERAL (
            SELECT count(*) AS awards FROM awards a WHERE a.innovation_id = i.id
        ) won
        WHERE i.id = ANY (ids)
    $$
    """,
    """
    CREATE FUNCTION innovation_due_of(ids uuid[])
    RETURNS TABLE (
        subject_id uuid, innovation_id uuid, commitment_id uuid, province_code varchar(2),
        in_scope boolean, eligible_on date, last_assessed_on date, last_period integer
    ) LANGUAGE sql STABLE AS $$
        SELECT i.id, i.id, NULL::uuid, i.province_code, i.status = 'published',
               coalesce(i.launched_on, (i.created_at AT TIME ZONE 'UTC')::date),
               last.assessed_on, last.period
        FROM innovations i
        CROSS JOIN LATERAL (
            SELECT max(s.assessed_on) AS assessed_on, max(s.period) AS period
            FROM sustainability_assessments s WHERE s.innovation_id = i.id
        ) last
        WHERE i.id = ANY (ids)
    $$
    """,
    f"""
    CREATE FUNCTION commitment_due_of(ids uuid[])
    RETURNS TABLE (
        subject_id uuid, innovation_id uuid, commitment_id uuid, province_code varchar(2),
        in_scope boolean, eligible_on date, last_assessed_on date, last_period integer
    ) LANGUAGE sql STABLE AS $$
        SELECT c.id, NULL::uuid, c.id, c.adopter_province_code, c.status IN {LIVE},
               NULL::date, last.assessed_on, last.period
        FROM commitments c
        CROSS JOIN LATERAL (
            SELECT max(s.assessed_on) AS assessed_on, max(s.period) AS period
            FROM sustainability_assessments s WHERE s.commitment_id = c.id
        ) last
        WHERE c.id = ANY (ids)
    $$
    """,
    # --- Rewriting the kept rows of some subjects -------------------------------------------
    """
    CREATE FUNCTION refresh_innovation_figures(ids uuid[]) RETURNS void
    LANGUAGE plpgsql AS $$
    BEGIN
        IF ids IS NULL OR cardinality(ids) = 0 THEN
            RETURN;
        END IF;
        -- Lock first, then recompute in this statement's new snapshot: a concurrent writer of
        -- the same innovation has committed by then, and its rows are counted.
        PERFORM 1 FROM innovation_figures f WHERE f.innovation_id = ANY (ids)
        ORDER BY f.innovation_id FOR UPDATE;
        UPDATE innovation_figures f
        SET province_code = r.province_code, status = r.status, scale = r.scale,
            replicas = r.replicas, other_provinces = r.other_provinces, verdict = r.verdict,
            score = r.score, period = r.period, awards = r.awards
        FROM innovation_figures_of(ids) r
        WHERE f.innovation_id = r.innovation_id
          AND (f.province_code, f.status, f.scale, f.replicas, f.other_provinces, f.verdict,
               f.score, f.period, f.awards)
              IS DISTINCT FROM
              (r.province_code, r.status, r.scale, r.replicas, r.other_provinces, r.verdict,
               r.score, r.period, r.awards);
    END $$
    """,
    """
    CREATE FUNCTION refresh_due_subjects(innovation_ids uuid[], commitment_ids uuid[])
    RETURNS void LANGUAGE plpgsql AS $$
    BEGIN
        IF coalesce(cardinality(innovation_ids), 0) + coalesce(cardinality(commitment_ids), 0)
           = 0 THEN
            RETURN;
        END IF;
        PERFORM 1 FROM due_subjects d
        WHERE d.subject_id = ANY (coalesce(innovation_ids, '{}') || coalesce(commitment_ids, '{}'))
        ORDER BY d.subject_id FOR UPDATE;
        UPDATE due_subjects d
        SET province_code = r.province_code, in_scope = r.in_scope, eligible_on = r.eligible_on,
            last_assessed_on = r.last_assessed_on, last_period = r.last_period
        FROM (
            SELECT * FROM innovation_due_of(coalesce(innovation_ids, '{}'))
            UNION ALL
            SELECT * FROM commitment_due_of(coalesce(commitment_ids, '{}'))
        ) r
        WHERE d.subject_id = r.subject_id
          AND (d.province_code, d.in_scope, d.eligible_on, d.last_assessed_on, d.last_period)
              IS DISTINCT FROM
              (r.province_code, r.in_scope, r.eligible_on, r.last_assessed_on, r.last_period);
    END $$
    """,
    # --- Triggers ----------------------------------------------------------------------------
    """
    CREATE FUNCTION innovations_keep_figures() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        figures uuid[];
        due uuid[];
    BEGIN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO innovation_figures (innovation_id, province_code, status, scale,
                replicas, other_provinces, verdict, score, period, awards)
            SELECT * FROM innovation_figures_of(ARRAY(SELECT n.id FROM new_rows n));
            INSERT INTO due_subjects (subject_id, innovation_id, commitment_id, province_code,
                in_scope, eligible_on, last_assessed_on, last_period)
            SELECT * FROM innovation_due_of(ARRAY(SELECT n.id FROM new_rows n));
            RETURN NULL;
        END IF;
        -- An update: only the columns the kept rows read matter (a title, a counter do not).
        SELECT array_agg(n.id) FILTER (
                   WHERE (n.province_code, n.status, n.scale)
                         IS DISTINCT FROM (o.province_code, o.status, o.scale)),
               array_agg(n.id) FILTER (
                   WHERE (n.province_code, n.status, n.launched_on, n.created_at)
                         IS DISTINCT FROM (o.province_code, o.status, o.launched_on, o.created_at))
        INTO figures, due
        FROM new_rows n JOIN old_rows o ON o.id = n.id;
        PERFORM refresh_innovation_figures(figures);
        PERFORM refresh_due_subjects(due, NULL);
        RETURN NULL;
    END $$
    """,
    f"""
    CREATE FUNCTION commitments_keep_figures() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        figures uuid[];
        due uuid[];
    BEGIN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO due_subjects (subject_id, innovation_id, commitment_id, province_code,
                in_scope, eligible_on, last_assessed_on, last_period)
            SELECT * FROM commitment_due_of(ARRAY(SELECT n.id FROM new_rows n));
            PERFORM refresh_innovation_figures(ARRAY(
                SELECT DISTINCT n.innovation_id FROM new_rows n WHERE n.status IN {LIVE}));
            RETURN NULL;
        END IF;
        IF TG_OP = 'DELETE' THEN
            -- The subject's kept row goes with it (foreign key, cascade).
            PERFORM refresh_innovation_figures(ARRAY(
                SELECT DISTINCT o.innovation_id FROM old_rows o WHERE o.status IN {LIVE}));
            RETURN NULL;
        END IF;
        -- An update: a progress report changes neither the status nor the adopter, and so
        -- costs one join of the statement's rows here.
        WITH changed AS (
            SELECT n.id, n.innovation_id AS new_innovation, o.innovation_id AS old_innovation,
                   n.status IN {LIVE} AS new_live, o.status IN {LIVE} AS old_live,
                   n.adopter_province_code IS DISTINCT FROM o.adopter_province_code AS moved
            FROM new_rows n JOIN old_rows o ON o.id = n.id
            WHERE (n.status, n.adopter_province_code, n.innovation_id)
                  IS DISTINCT FROM (o.status, o.adopter_province_code, o.innovation_id)
        ), touched AS (
            SELECT * FROM changed
            WHERE new_live <> old_live OR ((new_live OR old_live)
                  AND (moved OR new_innovation <> old_innovation))
        )
        SELECT ARRAY(
                   SELECT t.new_innovation FROM touched t
                   UNION SELECT t.old_innovation FROM touched t),
               ARRAY(SELECT c.id FROM changed c WHERE c.new_live <> c.old_live OR c.moved)
        INTO figures, due;
        PERFORM refresh_innovation_figures(figures);
        PERFORM refresh_due_subjects(NULL, due);
        RETURN NULL;
    END $$
    """,
    """
    CREATE FUNCTION awards_keep_figures() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            PERFORM refresh_innovation_figures(ARRAY(SELECT DISTINCT innovation_id FROM new_rows));
        ELSIF TG_OP = 'DELETE' THEN
            PERFORM refresh_innovation_figures(ARRAY(SELECT DISTINCT innovation_id FROM old_rows));
        ELSE
            PERFORM refresh_innovation_figures(ARRAY(
                SELECT n.innovation_id FROM new_rows n JOIN old_rows o ON o.id = n.id
                WHERE n.innovation_id <> o.innovation_id
                UNION
                SELECT o.innovation_id FROM new_rows n JOIN old_rows o ON o.id = n.id
                WHERE n.innovation_id <> o.innovation_id));
        END IF;
        RETURN NULL;
    END $$
    """,
    """
    CREATE FUNCTION assessments_keep_figures() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        figures uuid[];
        due_innovations uuid[];
        due_commitments uuid[];
    BEGIN
        IF TG_OP = 'INSERT' THEN
            SELECT ARRAY(SELECT DISTINCT innovation_id FROM new_rows
                         WHERE innovation_id IS NOT NULL),
                   ARRAY(SELECT DISTINCT commitment_id FROM new_rows
                         WHERE commitment_id IS NOT NULL)
            INTO due_innovations, due_commitments;
            figures := due_innovations;
        ELSIF TG_OP = 'DELETE' THEN
            SELECT ARRAY(SELECT DISTINCT innovation_id FROM old_rows
                         WHERE innovation_id IS NOT NULL),
                   ARRAY(SELECT DISTINCT commitment_id FROM old_rows
                         WHERE commitment_id IS NOT NULL)
            INTO due_innovations, due_commitments;
            figures := due_innovations;
        ELSE
            WITH pairs AS (
                SELECT n.innovation_id AS ni, o.innovation_id AS oi,
                       n.commitment_id AS nc, o.commitment_id AS oc,
                       (n.innovation_id, n.commitment_id, n.period, n.assessed_on)
                       IS DISTINCT FROM
                       (o.innovation_id, o.commitment_id, o.period, o.assessed_on) AS due_changed,
                       (n.innovation_id, n.period, n.verdict, n.score)
                       IS DISTINCT FROM
                       (o.innovation_id, o.period, o.verdict, o.score) AS figures_changed
                FROM new_rows n JOIN old_rows o ON o.id = n.id
            )
            SELECT ARRAY(SELECT ni FROM pairs WHERE figures_changed AND ni IS NOT NULL
                         UNION SELECT oi FROM pairs WHERE figures_changed AND oi IS NOT NULL),
                   ARRAY(SELECT ni FROM pairs WHERE due_changed AND ni IS NOT NULL
                         UNION SELECT oi FROM pairs WHERE due_changed AND oi IS NOT NULL),
                   ARRAY(SELECT nc FROM pairs WHERE due_changed AND nc IS NOT NULL
                         UNION SELECT oc FROM pairs WHERE due_changed AND oc IS NOT NULL)
            INTO figures, due_innovations, due_commitments;
        END IF;
        PERFORM refresh_innovation_figures(figures);
        PERFORM refresh_due_subjects(due_innovations, due_commitments);
        RETURN NULL;
    END $$
    """,
]

NEW = "NEW TABLE AS new_rows"
OLD = "OLD TABLE AS old_rows"
BOTH = f"{OLD} {NEW}"
# (table, function, event, transition tables)
TRIGGERS = [
    ("innovations", "innovations_keep_figures", "INSERT", NEW),
    ("innovations", "innovations_keep_figures", "UPDATE", BOTH),
    ("commitments", "commitments_keep_figures", "INSERT", NEW),
    ("commitments", "commitments_keep_figures", "UPDATE", BOTH),
    ("commitments", "commitments_keep_figures", "DELETE", OLD),
    ("awards", "awards_keep_figures", "INSERT", NEW),
    ("awards", "awards_keep_figures", "UPDATE", BOTH),
    ("awards", "awards_keep_figures", "DELETE", OLD),
    ("sustainability_assessments", "assessments_keep_figures", "INSERT", NEW),
    ("sustainability_assessments", "assessments_keep_figures", "UPDATE", BOTH),
    ("sustainability_assessments", "assessments_keep_figures", "DELETE", OLD),
]
FUNCTION_NAMES = (
    "assessments_keep_figures()",
    "awards_keep_figures()",
    "commitments_keep_figures()",
    "innovations_keep_figures()",
    "refresh_due_subjects(uuid[], uuid[])",
    "refresh_innovation_figures(uuid[])",
    "commitment_due_of(uuid[])",
    "innovation_due_of(uuid[])",
    "innovation_figures_of(uuid[])",
)


def _trigger_name(table: str, event: str) -> str:
    return f"{table}_keep_figures_{event.lower()}"


def upgrade() -> None:
    op.create_table(
        "innovation_figures",
        sa.Column("innovation_id", UUID(as_uuid=True), nullable=False),
        sa.Column("province_code", sa.String(2)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("scale", sa.String(16), nullable=False),
        sa.Column("replicas", sa.Integer(), nullable=False),
        sa.Column("other_provinces", sa.Integer(), nullable=False),
        sa.Column("verdict", sa.String(16)),
        sa.Column("score", sa.Numeric(5, 2)),
        sa.Column("period", sa.Integer()),
        sa.Column("awards", sa.Integer(), nullable=False),
        sa.Column("met", sa.Integer(), sa.Computed(MET, persisted=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["innovation_id"],
            ["innovations.id"],
            name=op.f("fk_innovation_figures_innovation_id_innovations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("innovation_id", name=op.f("pk_innovation_figures")),
    )
    op.create_table(
        "due_subjects",
        sa.Column("subject_id", UUID(as_uuid=True), nullable=False),
        sa.Column("innovation_id", UUID(as_uuid=True)),
        sa.Column("commitment_id", UUID(as_uuid=True)),
        sa.Column("province_code", sa.String(2)),
        sa.Column("in_scope", sa.Boolean(), nullable=False),
        sa.Column("eligible_on", sa.Date()),
        sa.Column("last_assessed_on", sa.Date()),
        sa.Column("last_period", sa.Integer()),
        sa.Column(
            "assessed_key",
            sa.Date(),
            sa.Computed(f"coalesce(last_assessed_on, {NEVER})", persisted=True),
            nullable=False,
        ),
        sa.CheckConstraint(
            "num_nonnulls(innovation_id, commitment_id) = 1",
            name=op.f("ck_due_subjects_one_subject"),
        ),
        sa.CheckConstraint(
            "subject_id = coalesce(innovation_id, commitment_id)",
            name=op.f("ck_due_subjects_subject_id"),
        ),
        sa.ForeignKeyConstraint(
            ["innovation_id"],
            ["innovations.id"],
            name=op.f("fk_due_subjects_innovation_id_innovations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["commitment_id"],
            ["commitments.id"],
            name=op.f("fk_due_subjects_commitment_id_commitments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("subject_id", name=op.f("pk_due_subjects")),
    )
    for statement in FUNCTIONS:
        op.execute(statement)
    # The kept rows of what is already there, from the same definitions.
    op.execute(
        "INSERT INTO innovation_figures (innovation_id, province_code, status, scale, replicas,"
        " other_provinces, verdict, score, period, awards)"
        " SELECT * FROM innovation_figures_of(ARRAY(SELECT id FROM innovations))"
    )
    op.execute(
        "INSERT INTO due_subjects (subject_id, innovation_id, commitment_id, province_code,"
        " in_scope, eligible_on, last_assessed_on, last_period)"
        " SELECT * FROM innovation_due_of(ARRAY(SELECT id FROM innovations))"
        " UNION ALL SELECT * FROM commitment_due_of(ARRAY(SELECT id FROM commitments))"
    )
    for table, function, event, transitions in TRIGGERS:
        op.execute(
            f"CREATE TRIGGER {_trigger_name(table, event)} AFTER {event} ON {table}"
            f" REFERENCING {transitions} FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
        )
    # The candidates ranking (criteria met, replicas, id; read backwards), all and by province.
    op.create_index(
        "ix_innovation_figures_candidates",
        "innovation_figures",
        ["met", "replicas", "innovation_id"],
        postgresql_where=sa.text(CANDIDATE),
    )
    op.create_index(
        "ix_innovation_figures_province_candidates",
        "innovation_figures",
        ["province_code", "met", "replicas", "innovation_id"],
        postgresql_where=sa.text(CANDIDATE),
    )
    # The due list: never assessed first, then the longest since; all, by province, by kind.
    op.create_index(
        "ix_due_subjects_due",
        "due_subjects",
        ["assessed_key", "subject_id"],
        postgresql_where=sa.text("in_scope"),
    )
    op.create_index(
        "ix_due_subjects_province_due",
        "due_subjects",
        ["province_code", "assessed_key", "subject_id"],
        postgresql_where=sa.text("in_scope"),
    )
    op.create_index(
        "ix_due_subjects_commitments_due",
        "due_subjects",
        ["assessed_key", "subject_id"],
        postgresql_where=sa.text("in_scope AND commitment_id IS NOT NULL"),
    )
    op.create_index(
        "ix_due_subjects_innovations_due",
        "due_subjects",
        ["assessed_key", "subject_id"],
        postgresql_where=sa.text("in_scope AND innovation_id IS NOT NULL"),
    )
    # The overdue commitments by signing date: a walk of each 30-day bucket of target dates.
    op.create_index(
        "ix_commitments_overdue_walk",
        "commitments",
        [
            sa.text("((target_launch_on - '2000-01-01'::date) / 30)"),
            sa.text("signed_on DESC"),
            sa.text("id DESC"),
        ],
        postgresql_where=sa.text(
            "status IN ('committed', 'in_progress', 'stalled') AND target_launch_on IS NOT NULL"
        ),
    )
    # The foreign keys' cascades find a subject's row through these.
    op.create_index(
        "ix_due_subjects_commitment_id",
        "due_subjects",
        ["commitment_id"],
        postgresql_where=sa.text("commitment_id IS NOT NULL"),
    )
    op.create_index(
        "ix_due_subjects_innovation_id",
        "due_subjects",
        ["innovation_id"],
        postgresql_where=sa.text("innovation_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_commitments_overdue_walk", table_name="commitments")
    for table, _, event, _ in reversed(TRIGGERS):
        op.execute(f"DROP TRIGGER {_trigger_name(table, event)} ON {table}")
    for name in FUNCTION_NAMES:
        op.execute(f"DROP FUNCTION {name}")
    op.drop_table("due_subjects")
    op.drop_table("innovation_figures")
