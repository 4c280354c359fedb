"""Commitments tallied without the programme: figures over every programme read a few thousand
rows at most, whatever the number of programmes.

`commitment_tallies` is keyed by programme, origin province, adopter province and status, so
the overview, the provinces and the unfiltered replication flows summed one row per programme
and province pair: 38 ms at 100k innovations (1,560 programmes), and more as programmes grow.
`commitment_flow_tallies` holds the same counts and progress sums keyed by origin, adopter and
status alone (at most 39 x 39 x 6 keys); `commitment_tallies` stays for the flows of one
programme or fiscal year, now found through an index on the programme.

The commitments' trigger function appends to both (and to the deadline tally, as before), from
the same rows; `compact_tallies()` folds the new table too. The exactness test
(`tests/stats/test_summaries_exact.py`) compares every figure read from it with the
recomputation from the base tables.

Revision ID: 20261206_0300
Revises: 20261205_1340
Create Date: 2026-12-06 03:00:00+00:00
"""

# The statements are built from the constants of this module alone.
# ruff: noqa: S608

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "20261206_0300"
down_revision: str | None = "20261205_1340"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Per tally fed by the commitments: key columns, summed columns, and its rows of `{rows}`.
TALLIES = {
    "commitment_tallies": (
        ("program_id", "origin_province_code", "adopter_province_code", "status"),
        ("n", "progress_sum"),
        "SELECT program_id, origin_province_code, adopter_province_code, status, 1 AS n,"
        " progress AS progress_sum FROM {rows}",
    ),
    "commitment_flow_tallies": (
        ("origin_province_code", "adopter_province_code", "status"),
        ("n", "progress_sum"),
        "SELECT origin_province_code, adopter_province_code, status, 1 AS n,"
        " progress AS progress_sum FROM {rows}",
    ),
    "commitment_deadline_tallies": (
        ("adopter_province_code", "target_launch_on"),
        ("n",),
        "SELECT adopter_province_code, target_launch_on, 1 AS n FROM {rows}"
        " WHERE target_launch_on IS NOT NULL AND status IN ('committed', 'in_progress', 'stalled')",
    ),
}
# Every tally `compact_tallies()` folds: key columns and summed columns.
COMPACTED = {
    "innovation_tallies": (("province_code", "status", "scale"), ("n",)),
    **{table: (keys, sums) for table, (keys, sums, _) in TALLIES.items()},
    "verdict_tallies": (("province_code", "verdict"), ("n",)),
}


def _append(table: str, keys: Sequence[str], sums: Sequence[str], signed_rows: str) -> str:
    """INSERT of the net change per key of `signed_rows` (key..., sums...), zeros left out."""
    totals = ", ".join(f"sum({s})" for s in sums)
    nonzero = " OR ".join(f"sum({s}) <> 0" for s in sums)
    return (
        f"INSERT INTO {table} ({', '.join((*keys, *sums))}) SELECT {', '.join(keys)}, {totals}"
        f" FROM ({signed_rows}) AS d GROUP BY {', '.join(keys)} HAVING {nonzero}"
    )


def _commitments_function(tables: Sequence[str]) -> str:
    """`tally_commitments()`: + the new rows, - the old ones, into each of `tables`."""
    branches: dict[str, list[str]] = {"INSERT": [], "DELETE": [], "UPDATE": []}
    for table in tables:
        keys, sums, select = TALLIES[table]
        plus = select.format(rows="new_rows")
        negated = ", ".join(f"-{s} AS {s}" for s in sums)
        minus = f"SELECT {', '.join(keys)}, {negated} FROM ({select.format(rows='old_rows')}) AS o"
        branches["INSERT"].append(_append(table, keys, sums, plus))
        branches["DELETE"].append(_append(table, keys, sums, minus))
        branches["UPDATE"].append(_append(table, keys, sums, f"{plus} UNION ALL {minus}"))
    body = {op_: ";\n            ".join(statements) for op_, statements in branches.items()}
    return f"""
    CREATE OR REPLACE FUNCTION tally_commitments() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            {body["INSERT"]};
        ELSIF TG_OP = 'DELETE' THEN
            {body["DELETE"]};
        ELSE
            {body["UPDATE"]};
        END IF;
        RETURN NULL;
    END $$
    """


def _compact_function(tables: Sequence[str]) -> str:
    """`compact_tallies()`: each key's deltas folded into one row, one caller at a time."""
    folds = []
    for table in tables:
        keys, sums = COMPACTED[table]
        k = ", ".join(keys)
        folded = _append(table, keys, sums, f"SELECT {k}, {', '.join(sums)} FROM gone")
        folds.append(
            f"WITH gone AS (DELETE FROM {table} WHERE id IN ("
            f" SELECT id FROM (SELECT id, count(*) OVER (PARTITION BY {k}) AS c FROM {table})"
            f" AS x WHERE c > 1) RETURNING {k}, {', '.join(sums)}) {folded};"
        )
    body = "\n    ".join(folds)
    return f"""
    CREATE OR REPLACE FUNCTION compact_tallies() RETURNS void LANGUAGE plpgsql AS $$
    BEGIN
        IF NOT pg_try_advisory_xact_lock(hashtext('compact_tallies')) THEN
            RETURN;
        END IF;
        {body}
    END $$
    """


def upgrade() -> None:
    op.create_table(
        "commitment_flow_tallies",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("origin_province_code", sa.String(2), nullable=True),
        sa.Column("adopter_province_code", sa.String(2), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.Column("progress_sum", sa.Numeric(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_commitment_flow_tallies"),
    )
    op.create_index("ix_commitment_tallies_program_id", "commitment_tallies", ["program_id"])
    # Triggers fire per statement: locking the commitments keeps a write between the backfill
    # and the new function from being counted twice or not at all.
    op.execute("LOCK TABLE commitments IN SHARE ROW EXCLUSIVE MODE")
    op.execute(_commitments_function(list(TALLIES)))
    op.execute(_compact_function(list(COMPACTED)))
    keys, sums, select = TALLIES["commitment_flow_tallies"]
    op.execute(_append("commitment_flow_tallies", keys, sums, select.format(rows="commitments")))


def downgrade() -> None:
    old = [t for t in TALLIES if t != "commitment_flow_tallies"]
    op.execute(_commitments_function(old))
    op.execute(_compact_function([t for t in COMPACTED if t != "commitment_flow_tallies"]))
    op.drop_index("ix_commitment_tallies_program_id", table_name="commitment_tallies")
    op.drop_table("commitment_flow_tallies")
