"""Dashboards at national scale: tallies kept by statement triggers.

Each tally table (see `app/models/summaries.py`) receives signed deltas from AFTER ... FOR EACH
STATEMENT triggers on the table it summarises: one row per key a statement changed, with the
change of the count (and of the progress sum). The transition tables give the rows a statement
inserted, changed or deleted, so a statement of 500 reports appends at most a few rows, and a
statement that changes no summarised column (a progress report leaves status and provinces
alone) appends nothing for the counts. `compact_tallies()` folds each key's deltas into one row.

The commitments still under way are `committed`, `in_progress` and `stalled`
(`OVERDUE_STATUSES` in `app/replication/repository.py`); a subject's latest assessment is its
highest period (`latest_assessments()` in `app/stats/repository.py`). The exactness test
(`tests/stats/test_summaries_exact.py`) compares every figure with those definitions.

Revision ID: 20261205_1330
Revises: 20261205_1320
Create Date: 2026-12-05 13:30:00+00:00
"""

# The statements are built from the constants of this module alone.
# ruff: noqa: S608

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "20261205_1330"
down_revision: str | None = "20261205_1320"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _delta_id() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False)


TABLES = {
    "innovation_tallies": [
        sa.Column("province_code", sa.String(2), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("scale", sa.String(16), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
    ],
    "commitment_tallies": [
        sa.Column("program_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("origin_province_code", sa.String(2), nullable=True),
        sa.Column("adopter_province_code", sa.String(2), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.Column("progress_sum", sa.Numeric(), nullable=False),
    ],
    "commitment_deadline_tallies": [
        sa.Column("adopter_province_code", sa.String(2), nullable=True),
        sa.Column("target_launch_on", sa.Date(), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
    ],
    "verdict_tallies": [
        sa.Column("province_code", sa.String(2), nullable=True),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
    ],
}

# Per tally table: its key columns, its summed columns, the rows of `{rows}` (a transition table
# or the base table) it counts as (key..., n, sums...), and the base table with its triggers.
# The commitments' deadline tally counts only those still under way with a target date.
INNOVATIONS = "SELECT province_code, status, scale, 1 AS n FROM {rows}"
COMMITMENTS = (
    "SELECT program_id, origin_province_code, adopter_province_code, status, 1 AS n,"
    " progress AS progress_sum FROM {rows}"
)
DEADLINES = (
    "SELECT adopter_province_code, target_launch_on, 1 AS n FROM {rows}"
    " WHERE target_launch_on IS NOT NULL AND status IN ('committed', 'in_progress', 'stalled')"
)
TALLIES = {
    "innovation_tallies": (("province_code", "status", "scale"), ("n",), INNOVATIONS),
    "commitment_tallies": (
        ("program_id", "origin_province_code", "adopter_province_code", "status"),
        ("n", "progress_sum"),
        COMMITMENTS,
    ),
    "commitment_deadline_tallies": (
        ("adopter_province_code", "target_launch_on"),
        ("n",),
        DEADLINES,
    ),
    "verdict_tallies": (("province_code", "verdict"), ("n",), ""),
}


def _append(table: str, signed_rows: str) -> str:
    """INSERT of the net change per key of `signed_rows` (key..., sums...), zeros left out."""
    keys, sums, _ = TALLIES[table]
    columns = ", ".join((*keys, *sums))
    totals = ", ".join(f"sum({s})" for s in sums)
    nonzero = " OR ".join(f"sum({s}) <> 0" for s in sums)
    return (
        f"INSERT INTO {table} ({columns}) SELECT {', '.join(keys)}, {totals}"
        f" FROM ({signed_rows}) AS d GROUP BY {', '.join(keys)} HAVING {nonzero}"
    )


def _negated(table: str, rows: str) -> str:
    keys, sums, select = TALLIES[table]
    inner = select.format(rows=rows)
    return (
        f"SELECT {', '.join(keys)}, {', '.join(f'-{s} AS {s}' for s in sums)} FROM ({inner}) AS o"
    )


def _row_trigger_function(table: str, base: str) -> str:
    """The trigger function of a plain tally: + the new rows, - the old ones."""
    select = TALLIES[table][2]
    plus, minus = select.format(rows="new_rows"), _negated(table, "old_rows")
    return f"""
    CREATE FUNCTION tally_{base}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            {_append(table, plus)};
        ELSIF TG_OP = 'DELETE' THEN
            {_append(table, minus)};
        ELSE
            {_append(table, f"{plus} UNION ALL {minus}")};
        END IF;
        RETURN NULL;
    END $$
    """


def _commitments_trigger_function() -> str:
    functions = []
    for table in ("commitment_tallies", "commitment_deadline_tallies"):
        select = TALLIES[table][2]
        plus, minus = select.format(rows="new_rows"), _negated(table, "old_rows")
        functions.append(
            (
                _append(table, plus),
                _append(table, minus),
                _append(table, f"{plus} UNION ALL {minus}"),
            )
        )
    inserted = ";\n".join(f[0] for f in functions)
    deleted = ";\n".join(f[1] for f in functions)
    updated = ";\n".join(f[2] for f in functions)
    return f"""
    CREATE FUNCTION tally_commitments() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            {inserted};
        ELSIF TG_OP = 'DELETE' THEN
            {deleted};
        ELSE
            {updated};
        END IF;
        RETURN NULL;
    END $$
    """


# The latest assessment (highest period) of each subject among `{rows}`, restricted to the
# subjects of `changed`: its province and verdict. Innovations and commitments apart, so that
# each walks its own column of `ix_sustainability_assessments_latest`.
LATEST = """
    SELECT DISTINCT ON (a.innovation_id, a.commitment_id) a.province_code, a.verdict
    FROM ({rows}) AS a
    WHERE a.innovation_id IN (SELECT innovation_id FROM changed)
       OR a.commitment_id IN (SELECT commitment_id FROM changed)
    ORDER BY a.innovation_id, a.commitment_id, a.period DESC
"""
SIGNED_VERDICTS = (
    "SELECT province_code, verdict, 1 AS n FROM after"
    " UNION ALL SELECT province_code, verdict, -1 FROM before"
)


def _verdict_branch(changed: str, before_rows: str) -> str:
    """The change of the verdict tally for the subjects of `changed`: + their latest
    assessment now, - their latest among `before_rows` (the table as it was)."""
    return (
        f"WITH changed AS ({changed}),"
        f" after AS ({LATEST.format(rows='SELECT * FROM sustainability_assessments')}),"
        f" before AS ({LATEST.format(rows=before_rows)})"
        f" {_append('verdict_tallies', SIGNED_VERDICTS)}"
    )


# Before the statement, the table held its rows less the new ones plus the old ones.
VERDICTS_FUNCTION = f"""
CREATE FUNCTION tally_sustainability_assessments() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {
    _verdict_branch(
        "SELECT innovation_id, commitment_id FROM new_rows",
        "SELECT * FROM sustainability_assessments WHERE id NOT IN (SELECT id FROM new_rows)",
    )
};
    ELSIF TG_OP = 'DELETE' THEN
        {
    _verdict_branch(
        "SELECT innovation_id, commitment_id FROM old_rows",
        "SELECT * FROM sustainability_assessments UNION ALL SELECT * FROM old_rows",
    )
};
    ELSE
        {
    _verdict_branch(
        "SELECT innovation_id, commitment_id FROM new_rows"
        " UNION SELECT innovation_id, commitment_id FROM old_rows",
        "SELECT * FROM sustainability_assessments WHERE id NOT IN (SELECT id FROM new_rows)"
        " UNION ALL SELECT * FROM old_rows",
    )
};
    END IF;
    RETURN NULL;
END $$
"""

# Folds each key's deltas into one row (keys with one row are left alone), one caller at a
# time; the sums per key do not change.
COMPACT_FUNCTION = """
CREATE FUNCTION compact_tallies() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtext('compact_tallies')) THEN
        RETURN;
    END IF;
    {body}
END $$
"""


def _compact(table: str) -> str:
    keys, sums, _ = TALLIES[table]
    k = ", ".join(keys)
    folded = _append(table, f"SELECT {k}, {', '.join(sums)} FROM gone")
    return (
        f"WITH gone AS (DELETE FROM {table} WHERE id IN ("
        f" SELECT id FROM (SELECT id, count(*) OVER (PARTITION BY {k}) AS c FROM {table}) AS x"
        f" WHERE c > 1) RETURNING {k}, {', '.join(sums)})"
        f" {folded};"
    )


def _backfill(table: str) -> str:
    if table == "verdict_tallies":
        latest = (
            "SELECT DISTINCT ON (innovation_id, commitment_id) province_code, verdict"
            " FROM sustainability_assessments ORDER BY innovation_id, commitment_id, period DESC"
        )
        return _append(table, f"SELECT province_code, verdict, 1 AS n FROM ({latest}) AS l")
    base = {"innovation_tallies": "innovations"}.get(table, "commitments")
    return _append(table, TALLIES[table][2].format(rows=base))


TRIGGERED = {
    "innovations": "tally_innovations",
    "commitments": "tally_commitments",
    "sustainability_assessments": "tally_sustainability_assessments",
}


def upgrade() -> None:
    for table, columns in TABLES.items():
        op.create_table(
            table,
            _delta_id(),
            *columns,
            sa.PrimaryKeyConstraint("id", name=f"pk_{table}"),
        )
    op.execute(_row_trigger_function("innovation_tallies", "innovations"))
    op.execute(_commitments_trigger_function())
    op.execute(VERDICTS_FUNCTION)
    op.execute(COMPACT_FUNCTION.replace("{body}", "\n    ".join(_compact(t) for t in TALLIES)))
    for base, function in TRIGGERED.items():
        for event, transition in (
            ("INSERT", "NEW TABLE AS new_rows"),
            ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
            ("DELETE", "OLD TABLE AS old_rows"),
        ):
            op.execute(
                f"CREATE TRIGGER {base}_tally_{event.lower()} AFTER {event} ON {base}"
                f" REFERENCING {transition} FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
            )
    for table in TALLIES:
        op.execute(_backfill(table))


def downgrade() -> None:
    for base, function in TRIGGERED.items():
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER {base}_tally_{event} ON {base}")
        op.execute(f"DROP FUNCTION {function}()")
    op.execute("DROP FUNCTION compact_tallies()")
    for table in reversed(TABLES):
        op.drop_table(table)
