"""The kept rows of the dashboard lists against a recomputation from the base tables.

`mismatches(conn)` recomputes every row of `innovation_figures` and `due_subjects` with
queries of its own (aggregates over whole tables, as the lists computed them before the rows
were kept, not the migration's SQL functions) and returns one line per difference: a row
kept but not expected, expected but not kept, or kept with other values. An empty list means
the kept rows are exact. The criteria met (`met`) is checked against the default thresholds
of `app.scaling.repository`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.scaling.repository import DEFAULT_THRESHOLDS, LIVE_STATUSES
from app.sustainability.repository import DUE_COMMITMENT_STATUSES

FIGURES = text(
    """
    WITH live AS (
        SELECT c.innovation_id, count(*) AS replicas,
               count(DISTINCT c.adopter_province_code) FILTER (
                   WHERE c.adopter_province_code IS DISTINCT FROM i.province_code
               ) AS other_provinces
        FROM commitments c JOIN innovations i ON i.id = c.innovation_id
        WHERE c.status = ANY (:live)
        GROUP BY c.innovation_id
    ), latest AS (
        SELECT DISTINCT ON (innovation_id) innovation_id, verdict, score, period
        FROM sustainability_assessments WHERE innovation_id IS NOT NULL
        ORDER BY innovation_id, period DESC
    ), won AS (
        SELECT innovation_id, count(*) AS awards FROM awards GROUP BY innovation_id
    ), by_status AS (
        SELECT innovation_id, jsonb_object_agg(status, n) AS replications_by_status
        FROM (SELECT innovation_id, status, count(*) AS n FROM commitments
              GROUP BY innovation_id, status) s
        GROUP BY innovation_id
    ), reached AS (
        SELECT innovation_id, count(DISTINCT adopter_province_code) AS provinces_reached
        FROM commitments WHERE status <> 'cancelled' GROUP BY innovation_id
    )
    SELECT i.id AS innovation_id, i.province_code, i.status, i.scale,
           coalesce(live.replicas, 0) AS replicas,
           coalesce(live.other_provinces, 0) AS other_provinces,
           latest.verdict, latest.score, latest.period,
           coalesce(won.awards, 0) AS awards,
           coalesce(by_status.replications_by_status, '{}') AS replications_by_status,
           coalesce(reached.provinces_reached, 0) AS provinces_reached
    FROM innovations i
    LEFT JOIN live ON live.innovation_id = i.id
    LEFT JOIN latest ON latest.innovation_id = i.id
    LEFT JOIN won ON won.innovation_id = i.id
    LEFT JOIN by_status ON by_status.innovation_id = i.id
    LEFT JOIN reached ON reached.innovation_id = i.id
    """
)

KEPT_FIGURES = text(
    "SELECT innovation_id, province_code, status, scale, replicas, other_provinces, verdict,"
    " score, period, awards, replications_by_status, provinces_reached, met"
    " FROM innovation_figures"
)

DUE = text(
    """
    WITH last_of_innovation AS (
        SELECT innovation_id, max(assessed_on) AS assessed_on, max(period) AS period
        FROM sustainability_assessments WHERE innovation_id IS NOT NULL GROUP BY innovation_id
    ), last_of_commitment AS (
        SELECT commitment_id, max(assessed_on) AS assessed_on, max(period) AS period
        FROM sustainability_assessments WHERE commitment_id IS NOT NULL GROUP BY commitment_id
    )
    SELECT i.id AS subject_id, i.id AS innovation_id, NULL::uuid AS commitment_id,
           i.province_code, i.status = 'published' AS in_scope,
           coalesce(i.launched_on, (i.created_at AT TIME ZONE 'UTC')::date) AS eligible_on,
           l.assessed_on AS last_assessed_on, l.period AS last_period
    FROM innovations i LEFT JOIN last_of_innovation l ON l.innovation_id = i.id
    UNION ALL
    SELECT c.id, NULL, c.id, c.adopter_province_code, c.status = ANY (:due_statuses), NULL,
           l.assessed_on, l.period
    FROM commitments c LEFT JOIN last_of_commitment l ON l.commitment_id = c.id
    """
)

# The due list's key of a subject never assessed (sorts first).
NEVER = date(1900, 1, 1)

KEPT_DUE = text(
    "SELECT subject_id, innovation_id, commitment_id, province_code, in_scope, eligible_on,"
    " last_assessed_on, last_period, assessed_key FROM due_subjects"
)


def _met(row: dict[str, Any]) -> int:
    t = DEFAULT_THRESHOLDS
    return (
        int(row["replicas"] >= t.min_replicas)
        + int(row["other_provinces"] >= t.min_other_provinces)
        + int(row["verdict"] == "sustained" or not t.require_sustained)
        + int(row["awards"] >= t.min_awards)
    )


def _compare(table: str, kept: dict[Any, Any], expected: dict[Any, Any]) -> list[str]:
    out: list[str] = []
    for key in sorted(kept.keys() | expected.keys(), key=str):
        if key not in expected:
            out.append(f"{table} {key}: kept {kept[key]} but no such subject")
        elif key not in kept:
            out.append(f"{table} {key}: missing, expected {expected[key]}")
        elif kept[key] != expected[key]:
            out.append(f"{table} {key}: kept {kept[key]}, recomputed {expected[key]}")
    return out


async def _rows(conn: AsyncConnection, stmt: Any, key: str, **params: Any) -> dict[Any, Any]:
    result = await conn.execute(stmt, params)
    return {row[key]: dict(row) for row in result.mappings()}


async def mismatches(conn: AsyncConnection) -> list[str]:
    """Every difference between the kept rows and a recomputation (empty: exact)."""
    kept = await _rows(conn, KEPT_FIGURES, "innovation_id")
    expected = await _rows(conn, FIGURES, "innovation_id", live=list(LIVE_STATUSES))
    for row in expected.values():
        row["met"] = _met(row)
    out = _compare("innovation_figures", kept, expected)

    kept = await _rows(conn, KEPT_DUE, "subject_id")
    expected = await _rows(conn, DUE, "subject_id", due_statuses=list(DUE_COMMITMENT_STATUSES))
    for row in expected.values():
        row["assessed_key"] = row["last_assessed_on"] or NEVER
    return out + _compare("due_subjects", kept, expected)
