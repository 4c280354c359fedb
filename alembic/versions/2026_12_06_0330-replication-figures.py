"""An innovation's replications by status and provinces reached are kept figures too.

Every innovation page (a read by id, a list, a search) showed `replications_by_status` and
`provinces_reached` from subqueries over the innovation's commitments. For the most replicated
innovations that is a few hundred commitments per row: `/innovations?q=stunting` at 1M
innovations read 4,500 buffers when the commitments' visibility map was fresh and 14,500
(10 ms) once writes had cleared it, so the page slowed as the bench's writes went on. The two
figures now live in `innovation_figures` beside the live replicas, computed by the same
definition (`innovation_figures_of`), and a page reads one kept row per innovation.

The commitments' trigger refreshes an innovation's row on any change of a commitment's status,
adopter or innovation (before, only on a change into or out of the live statuses); a progress
report that changes none of them still costs nothing. The exactness tests
(`tests/dashboards/figures.py`) compare the new columns with a recomputation.

Revision ID: 20261206_0330
Revises: 20261206_0320
Create Date: 2026-12-06 03:30:00+00:00
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "20261206_0330"
down_revision: str | None = "20261206_0320"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = "('launched', 'sustained')"
# The kept columns, in the order `innovation_figures_of` returns them.
COLUMNS = (
    "innovation_id, province_code, status, scale, replicas, other_provinces, verdict, score,"
    " period, awards, replications_by_status, provinces_reached"
)

FIGURES_OF = f"""
    CREATE FUNCTION innovation_figures_of(ids uuid[])
    RETURNS TABLE (
        innovation_id uuid, province_code varchar(2), status varchar(16), scale varchar(16),
        replicas integer, other_provinces integer, verdict varchar(16), score numeric(5, 2),
        period integer, awards integer, replications_by_status jsonb, provinces_reached integer
    ) LANGUAGE sql STABLE AS $$
        SELECT i.id, i.province_code, i.status, i.scale,
               adopted.replicas::integer, adopted.other_provinces::integer,
               latest.verdict, latest.score, latest.period, won.awards::integer,
               by_status.counts, adopted.provinces_reached::integer
        FROM innovations i
        CROSS JOIN LATERAL (
            SELECT count(*) FILTER (WHERE c.status IN {LIVE}) AS replicas,
                   count(DISTINCT c.adopter_province_code) FILTER (
                       WHERE c.status IN {LIVE}
                         AND c.adopter_province_code IS DISTINCT FROM i.province_code
                   ) AS other_provinces,
                   count(DISTINCT c.adopter_province_code) FILTER (
                       WHERE c.status <> 'cancelled'
                   ) AS provinces_reached
            FROM commitments c
            WHERE c.innovation_id = i.id
        ) adopted
        CROSS JOIN LATERAL (
            SELECT coalesce(jsonb_object_agg(s.status, s.n), '{{}}'::jsonb) AS counts
            FROM (
                SELECT c.status, count(*) AS n FROM commitments c
                WHERE c.innovation_id = i.id GROUP BY c.status
            ) s
        ) by_status
        LEFT JOIN LATERAL (
            SELECT s.verdict, s.score, s.period FROM sustainability_assessments s
            WHERE s.innovation_id = i.id ORDER BY s.period DESC LIMIT 1
        ) latest ON true
        CROSS JOIN LATERAL (
            SELECT count(*) AS awards FROM awards a WHERE a.innovation_id = i.id
        ) won
        WHERE i.id = ANY (ids)
    $$
"""

REFRESH = """
    CREATE OR REPLACE FUNCTION refresh_innovation_figures(ids uuid[]) RETURNS void
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
            score = r.score, period = r.period, awards = r.awards,
            replications_by_status = r.replications_by_status,
            provinces_reached = r.provinces_reached
        FROM innovation_figures_of(ids) r
        WHERE f.innovation_id = r.innovation_id
          AND (f.province_code, f.status, f.scale, f.replicas, f.other_provinces, f.verdict,
               f.score, f.period, f.awards, f.replications_by_status, f.provinces_reached)
              IS DISTINCT FROM
              (r.province_code, r.status, r.scale, r.replicas, r.other_provinces, r.verdict,
               r.score, r.period, r.awards, r.replications_by_status, r.provinces_reached);
    END $$
"""

INNOVATIONS_TRIGGER = f"""
    CREATE OR REPLACE FUNCTION innovations_keep_figures() RETURNS trigger
    LANGUAGE plpgsql AS $$
    DECLARE
        figures uuid[];
        due uuid[];
    BEGIN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO innovation_figures ({COLUMNS})
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
"""

COMMITMENTS_TRIGGER = f"""
    CREATE OR REPLACE FUNCTION commitments_keep_figures() RETURNS trigger
    LANGUAGE plpgsql AS $$
    DECLARE
        figures uuid[];
        due uuid[];
    BEGIN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO due_subjects (subject_id, innovation_id, commitment_id, province_code,
                in_scope, eligible_on, last_assessed_on, last_period)
            SELECT * FROM commitment_due_of(ARRAY(SELECT n.id FROM new_rows n));
            PERFORM refresh_innovation_figures(ARRAY(
                SELECT DISTINCT n.innovation_id FROM new_rows n));
            RETURN NULL;
        END IF;
        IF TG_OP = 'DELETE' THEN
            -- The subject's kept row goes with it (foreign key, cascade).
            PERFORM refresh_innovation_figures(ARRAY(
                SELECT DISTINCT o.innovation_id FROM old_rows o));
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
        )
        SELECT ARRAY(
                   SELECT c.new_innovation FROM changed c
                   UNION SELECT c.old_innovation FROM changed c),
               ARRAY(SELECT c.id FROM changed c WHERE c.new_live <> c.old_live OR c.moved)
        INTO figures, due;
        PERFORM refresh_innovation_figures(figures);
        PERFORM refresh_due_subjects(NULL, due);
        RETURN NULL;
    END $$
"""

# Replaced by this revision (the trigger functions in place, the figures' definition dropped
# and created again: its result has new columns).
REPLACED = ("refresh_innovation_figures", "innovations_keep_figures", "commitments_keep_figures")


def _dashboard_lists() -> ModuleType:
    """Revision 20261205_1340, whose definitions a downgrade restores."""
    path = Path(__file__).with_name("2026_12_05_1340-dashboard-lists.py")
    spec = importlib.util.spec_from_file_location("dashboard_lists_1340", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def upgrade() -> None:
    # No write may land between the backfill and the new triggers.
    op.execute("LOCK TABLE innovations, commitments IN SHARE ROW EXCLUSIVE MODE")
    op.add_column(
        "innovation_figures",
        sa.Column(
            "replications_by_status",
            JSONB(),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
    )
    op.add_column(
        "innovation_figures",
        sa.Column("provinces_reached", sa.Integer(), server_default="0", nullable=False),
    )
    op.execute("DROP FUNCTION innovation_figures_of(uuid[])")
    for statement in (FIGURES_OF, REFRESH, INNOVATIONS_TRIGGER, COMMITMENTS_TRIGGER):
        op.execute(statement)
    # The kept rows of the innovations that have commitments (the others keep the defaults).
    op.execute(
        "SELECT refresh_innovation_figures(ARRAY(SELECT DISTINCT innovation_id FROM commitments))"
    )


def downgrade() -> None:
    previous = _dashboard_lists()
    op.execute("DROP FUNCTION innovation_figures_of(uuid[])")
    for statement in previous.FUNCTIONS:
        name = statement.split("CREATE FUNCTION ", 1)[1].split("(", 1)[0]
        if name == "innovation_figures_of":
            op.execute(statement)
        elif name in REPLACED:
            op.execute(statement.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))
    op.drop_column("innovation_figures", "provinces_reached")
    op.drop_column("innovation_figures", "replications_by_status")
