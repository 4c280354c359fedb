"""A realistic national data set for the benchmarks, loaded with set-based SQL.

`python -m bench.seed --innovations N [--database-url URL]`

`seed(url, innovations)` fills a freshly migrated database (regions loaded) in one transaction
with the data set the README describes: institutions, innovations, awards, programmes,
commitments with their plans and reports, assessments, proposals and the event log (one event
per change, not per report). Every row comes from `INSERT ... SELECT` over `generate_series`,
and every random choice is a hash of the row's number, not `random()`: two runs give the same
data, ids included. Derived columns and statuses are what the service would have left (its
state machine, each change with its event), and rows go in in order of creation time.

For speed the load skips row triggers and foreign-key checks and rebuilds the indexes no trigger
reads (`LOAD_MODE`), then checks the catalog is as it was; with `wal_level = minimal` it writes
almost no WAL.
"""

# The SQL is assembled from this module's constants and integers, never from outside input.
# ruff: noqa: S608

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import asyncpg
from sqlalchemy.engine import URL

from app.core.embedded import start_embedded, to_async_url
from app.models.summaries import SUMMARY_TABLES
from app.replication.service import FIRST_REPORT
from app.scaling.repository import DEFAULT_THRESHOLDS, LIVE_STATUSES
from app.scaling.schemas import CRITERIA_TOTAL
from bench.common import ROOT, connect
from tests.harness import fresh_database

# The data set's "today": every date lies on or before it, whatever day it is loaded.
SNAPSHOT = date(2026, 11, 20)
SNAP = f"DATE '{SNAPSHOT.isoformat()}'"
# Nothing happens after midday UTC of the snapshot day (in ms since 1970).
CAP_MS = str(((SNAPSHOT - date(1970, 1, 1)).days * 86400 + 43200) * 1000)
FISCAL_YEARS = (2023, 2024, 2025, 2026)
# Commitments per replication programme at most roughly this many innovations per batch:
# larger data sets get more programmes (batches, "angkatan") per province and year.
INNOVATIONS_PER_BATCH = 25_000
# The tables the seed loads: they must be empty; it truncates them (and the dashboards'
# summaries, which its inserts' statement triggers fill).
LOADED = (
    "institutions", "innovations", "awards", "replication_programs", "commitments",
    "commitment_activity", "action_items", "progress_reports", "sustainability_assessments",
    "scaling_proposals", "events",
)  # fmt: skip
# The loaded tables no statement trigger reads: their indexes are dropped for the load and
# built after it. The others keep theirs: the summaries' triggers look rows up through them
# (without, a 20k seed took six times as long, and a 1M one would not end).
UNREAD = ("action_items", "progress_reports", "events")
# The load's session: no row triggers or foreign-key checks, memory for 1M innovations.
LOAD_SETTINGS = {
    "session_replication_role": "replica", "synchronous_commit": "off", "work_mem": "2GB",
    "maintenance_work_mem": "4GB", "max_parallel_maintenance_workers": "2", "timezone": "UTC",
    "jit": "off",
}  # fmt: skip
# The tables the summary counts: the loaded ones and the API keys the seed adds (the actors of
# its events), next to any a caller made before.
TABLES = ("api_keys", *LOADED)
# The data set's words, names and weights, from bench/seed_data.json: per province its innovation
# activity (population in millions, 2020 census, the six Papua provinces damped to a long tail);
# the agencies of every regional government ("gov": the government itself) and the ministries;
# the sectors (see `Sector`); the texts, each with its weight; award kinds (KIPP tiers as the
# service allows them, IGA and others); the acronyms and the search terms (below).
DATA: dict[str, Any] = json.loads((ROOT / "bench" / "seed_data.json").read_text("utf-8"))
PROVINCE_WEIGHTS: dict[str, float] = DATA["province_weights"]


@dataclass(frozen=True)
class Sector:
    key: str
    weight: float  # share of innovations
    owners: dict[str, float]  # agency key → share of the sector's innovations it owns
    ministry: str
    digital: float  # share of digital innovations
    topics: Sequence[str]  # by popularity, Zipf-weighted
    problems: Sequence[str]
    beneficiaries: Sequence[str]
    tags: Sequence[str]


SECTORS: tuple[Sector, ...] = tuple(Sector(**s) for s in DATA["sectors"])
SUSTAIN_REASON = "Penilaian keberlanjutan: layanan berjalan dengan anggaran dan regulasi."
LAUNCH_REASON = "Layanan hasil replikasi resmi diluncurkan."
# Scaling proposals by status, who decides them, and their texts.
REVIEWER = "Tim Penilai Glokalisasi Nasional (seed)"
PROPOSALS = {"submitted": 20, "under_review": 20, "approved": 25, "rejected": 15, "deferred": 20}
# Sustainability assessments: the share of subjects monitored, the share of the periods after
# their start each is assessed in, and the shares of the three profiles whose indicators are
# drawn (the rubric then gives the verdict): strong ones score 75 or more, weak ones under 60.
MONITORED = {"innovation": 0.3, "commitment": 0.6}
ASSESSED_PERIOD = 0.75
PROFILES = {"innovation": (0.55, 0.85), "commitment": (0.5, 0.8)}  # below: strong, middle
# Each indicator's value in the strong, middle and weak profile: weights, or SQL of a draw `{d}`
# (a null complaint_resolution_pct: no complaint channel).
INDICATOR_DRAWS = {k: tuple(v) for k, v in DATA["indicator_draws"].items()}
# Search terms for the load generator (`q` of the innovations list), by the share of innovations
# they find at 100,000 innovations: broad over half, common 5-10%, medium 0.5-2%, rare under
# 0.1% (a few dozen); partial: beginnings of words in titles (trigram search), 1.5-6%.
# tests/bench/test_seed.py checks the shares.
SEARCH_TERMS: dict[str, tuple[str, ...]] = {k: tuple(v) for k, v in DATA["search_terms"].items()}
# Acronyms that open many titles: a Zipf distribution over the named ones (the first are common
# in titles, the last rare), then 600 generated ones for the long tail.
NAMED_ACRONYMS: tuple[str, ...] = tuple(DATA["named_acronyms"])
RARE_ACRONYMS: tuple[str, ...] = tuple(DATA["rare_acronyms"])


def _acronym_weights() -> dict[str, float]:
    weights = {a: 1 / (rank + 1) ** 1.05 for rank, a in enumerate(NAMED_ACRONYMS)}
    rng = random.Random(20261123)
    while len(weights) < len(NAMED_ACRONYMS) + 600:
        word = rng.choice(("SI", "E-", "GE", "SA", "PI")) + "".join(
            rng.choice(DATA["syllables"]) for _ in range(rng.choice((1, 2, 2)))
        )
        if word not in weights and word not in RARE_ACRONYMS:
            weights[word] = 1 / (len(weights) + 1) ** 1.05
    for a in RARE_ACRONYMS:  # about 1 in 5,000 titles each
        weights[a] = sum(weights.values()) * 0.0004
    return weights


ACRONYMS = _acronym_weights()
ACRONYM_SHARE = 0.45


def lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def value_rows(rows: Sequence[Sequence[str]]) -> str:
    """The rows of text literals of a VALUES list."""
    return ", ".join(f"({', '.join(map(lit, row))})" for row in rows)


def text_array(values: Sequence[str]) -> str:
    return "ARRAY[" + ", ".join(lit(v) for v in values) + "]::text[]"


def float_array(values: Sequence[float]) -> str:
    return "ARRAY[" + ", ".join(repr(float(v)) for v in values) + "]::float8[]"


def u(key: str, salt: int) -> str:
    """A uniform draw in [0, 1) from the integer SQL expression `key` and `salt`."""
    return f"((hashint8extended(({key})::bigint, {salt}) & {2**53 - 1})::float8 / {2**53}.0)"


def lower_bounds(weights: Sequence[float]) -> list[float]:
    total = float(sum(weights))
    return [acc / total for acc in itertools.accumulate(weights[:-1], initial=0.0)]


def pick(draw: str, weighted: Mapping[str, float]) -> str:
    """One of the keys of `weighted`, with those weights, chosen by `draw` (`width_bucket`)."""
    keys = list(weighted)
    bounds = lower_bounds([weighted[k] for k in keys])
    return f"({text_array(keys)})[width_bucket({draw}, {float_array(bounds)})]"


def hash64(key: str, salt: int, sub: str | None = None) -> str:
    """64 hash bits of the integer SQL expression `key` (below 2**32: PostgreSQL folds larger
    integers to 32 bits before hashing), XORed with a small integer `sub` (a row's number within
    its key) if given: distinct (key, sub) pairs give distinct hashes."""
    h = f"hashint8extended(({key})::bigint, {salt})"
    return h if sub is None else f"({h} # ({sub})::bigint)"


def uuid_sql(high: str, low: str, version4: bool = True) -> str:
    """A UUID of two 64-bit SQL integers (hashes): `low` with the RFC 4122 variant bits,
    `high` with version 4's bits unless it has a version of its own."""
    if version4:
        high = f"(({high} & -61441) | 16384)"
    low = f"(({low} & 4611686018427387903) | -9223372036854775808)"
    return f"encode(int8send({high}) || int8send({low}), 'hex')::uuid"


def uid(key: str, salt: int, sub: str | None = None) -> str:
    """A version-4-shaped UUID from hashing `key` (and `sub`, see `hash64`)."""
    return uuid_sql(hash64(key, salt, sub), hash64(key, salt + 1, sub))


def text_uid(text_sql: str) -> str:
    """A version-4-shaped UUID from hashing a text SQL expression (natural keys)."""
    return uuid_sql(f"hashtextextended({text_sql}, 7)", f"hashtextextended({text_sql}, 8)")


def institution_id(region_sql: str, agency_sql: str) -> str:
    return text_uid(f"'institution:' || coalesce({region_sql}, '-') || ':' || {agency_sql}")


def program_id(province_sql: str, year_sql: str, batch_sql: str) -> str:
    return text_uid(
        f"'program:' || coalesce({province_sql}, '00') || ':' || {year_sql} || ':' || {batch_sql}"
    )


def key_id(kind: str, province_sql: str | None = None) -> str:
    if province_sql is None:
        return text_uid(f"'apikey:{kind}'")
    return text_uid(f"'apikey:{kind}:' || {province_sql}")


def epoch(date_sql: str) -> str:
    """Seconds since 1970 of a date's midnight UTC, as bigint."""
    return f"(({date_sql}) - DATE '1970-01-01')::bigint * 86400"


def ts(ms_sql: str) -> str:
    """The timestamp of milliseconds since 1970."""
    return f"to_timestamp(({ms_sql})::float8 / 1000)"


def _prepare_sql() -> str:
    """Empty the loaded tables, and create the load's lookup tables."""
    sectors = [
        (
            lit(s.key),
            text_array(list(s.owners)),
            float_array(lower_bounds(list(s.owners.values()))),
            lit(next(iter(s.owners))),  # the agency that adopts its innovations
            lit(s.ministry),
            repr(s.digital),
            text_array(s.topics),
            float_array(lower_bounds([1 / (rank + 1) ** 0.9 for rank in range(len(s.topics))])),
            text_array(s.problems),
            text_array(s.beneficiaries),
            text_array(s.tags),
        )
        for s in SECTORS
    ]
    return f"""
    -- Truncated in the load's transaction: with wal_level = minimal nothing is WAL-logged.
    -- CASCADE empties the API keys too (a submitter's key references its institution): kept.
    CREATE TEMP TABLE kept_keys ON COMMIT DROP AS TABLE api_keys;
    TRUNCATE {", ".join(LOADED + SUMMARY_TABLES)} RESTART IDENTITY CASCADE;
    INSERT INTO api_keys TABLE kept_keys;
    CREATE TEMP TABLE seed_agency (key, kind, prefix) AS VALUES {value_rows(DATA["agencies"])};
    CREATE TEMP TABLE seed_sector (sector, owners, owner_bounds, adopter, ministry, digital,
        topics, topic_bounds, problems, beneficiaries, tags) AS
    VALUES {", ".join(f"({', '.join(row)})" for row in sectors)};
    -- Every region with the label used in names and texts.
    CREATE TEMP TABLE seed_region AS
    SELECT code, level, coalesce(parent_code, code) AS province,
           CASE WHEN level = 'province' THEN 'Provinsi ' || name ELSE name END AS label
    FROM regions;
    -- Per province: its regencies and cities in a fixed, shuffled order (the first ones are
    -- the most active, see the skewed draws), and its keys.
    CREATE TEMP TABLE seed_province AS
    SELECT p.code, p.name, array_agg(r.code ORDER BY hashtext(r.code), r.code) AS locals,
           count(*)::int AS n, {key_id("coordinator", "p.code")} AS coordinator_key,
           {key_id("integration", "p.code")} AS integration_key
    FROM regions p JOIN regions r ON r.parent_code = p.code
    WHERE p.level = 'province'
    GROUP BY p.code, p.name"""


def _api_keys_sql() -> str:
    # Keys the seeded events and reports name as their actors. Their hashes are of no key
    # anyone holds (not of the `ih_` form), so nobody can authenticate with them.
    created = "TIMESTAMPTZ '2022-01-03 02:00:00+00'"
    return f"""
    INSERT INTO api_keys (id, name, role, province_code, prefix, key_hash, created_at)
    SELECT {key_id("admin")}, 'Admin nasional (seed)', 'admin', NULL, 'ih_seedadm',
           encode(sha256(convert_to('seed:admin', 'UTF8')), 'hex'), {created}
    UNION ALL
    SELECT {key_id("reviewer")}, {lit(REVIEWER)}, 'reviewer', NULL, 'ih_seedrev',
           encode(sha256(convert_to('seed:reviewer', 'UTF8')), 'hex'), {created}
    UNION ALL
    SELECT {key_id("coordinator", "p.code")}, 'Koordinator ' || p.name, 'coordinator', p.code,
           'ih_seedc' || p.code,
           encode(sha256(convert_to('seed:coordinator:' || p.code, 'UTF8')), 'hex'), {created}
    FROM seed_province p
    UNION ALL
    SELECT {key_id("integration", "p.code")}, 'e-Monev ' || p.name, 'integration', p.code,
           'ih_seedi' || p.code,
           encode(sha256(convert_to('seed:integration:' || p.code, 'UTF8')), 'hex'), {created}
    FROM seed_province p"""


def _institutions_sql() -> str:
    created = (
        f"to_timestamp(EXTRACT(epoch FROM TIMESTAMPTZ '2022-01-03 01:00:00+00') "
        f"+ floor({u('hashtextextended(i.key, 0)', 11)} * 60 * 86400))"
    )
    return f"""
    INSERT INTO institutions (id, name, kind, region_code, parent_id, created_at, updated_at)
    SELECT i.id, i.name, i.kind, i.region_code, i.parent_id, {created}, {created}
    FROM (
        SELECT {institution_id("r.code", "a.key")} AS id,
               CASE WHEN a.key = 'gov' THEN 'Pemerintah ' || r.label
                    ELSE a.prefix || ' ' || r.label END AS name,
               CASE WHEN a.key <> 'gov' THEN a.kind
                    WHEN r.level = 'province' THEN 'provincial_government'
                    WHEN r.level = 'regency' THEN 'regency_government'
                    ELSE 'city_government' END AS kind,
               r.code AS region_code,
               CASE WHEN a.key = 'gov' THEN NULL
                    ELSE {institution_id("r.code", "'gov'")} END AS parent_id,
               r.code || ':' || a.key AS key
        FROM seed_region r CROSS JOIN seed_agency a
        UNION ALL
        SELECT {institution_id("NULL", "m.key")}, m.name, m.kind, NULL, NULL, '-:' || m.key
        FROM (VALUES {value_rows(DATA["ministries"])}) AS m (key, kind, name)
    ) i
    ORDER BY 6, i.key"""


def _innovations_stage_sql(innovations: int) -> str:
    """Every innovation's choices (owner, sector, status, dates, popularity), no texts."""
    n = "d.n"
    years = {str(y): (y - 2008) ** 1.3 for y in range(2010, 2026)}
    statuses = {"published": 85, "draft": 10, "withdrawn": 5}
    initiators = {
        "agency": 55, "regional_head": 20, "civil_servant": 15, "community": 7, "parliament": 3,
    }  # fmt: skip
    day = 86400
    first = f"{epoch('DATE ' + lit('2022-01-03'))}"
    span = (date(2026, 9, 30) - date(2022, 1, 3)).days
    return f"""
    CREATE TEMP TABLE seed_inn AS
    WITH d AS (
        SELECT n, {pick(u("n", 101), PROVINCE_WEIGHTS)} AS prov,
               {pick(u("n", 102), {s.key: s.weight for s in SECTORS})} AS sector,
               {pick(u("n", 103), statuses)} AS status,
               {u("n", 104)} AS u_level
        FROM generate_series(1, {innovations}) n
    ), b AS (
        SELECT d.*,
               CASE WHEN d.u_level < 0.01 THEN NULL
                    WHEN d.u_level < 0.09 THEN d.prov
                    ELSE p.locals[1 + floor(p.n * {u(n, 105)} ^ 1.6)::int] END AS region_code,
               CASE WHEN d.u_level < 0.01 THEN s.ministry
                    ELSE s.owners[width_bucket({u(n, 106)}, s.owner_bounds)] END AS agency,
               {u(n, 107)} < s.digital AS digital,
               ({first} + floor({span} * {u(n, 108)} ^ 0.75)::bigint * {day}
                + 3600 + floor({u(n, 109)} * 32400)::bigint) * 1000
                + floor({u(n, 110)} * 1000)::bigint AS created_ms
        FROM d
        JOIN seed_province p ON p.code = d.prov
        JOIN seed_sector s ON s.sector = d.sector
    ), s AS (
    SELECT n, {uid("n", 1000)} AS id,
           {institution_id("region_code", "agency")} AS institution_id,
           region_code, CASE WHEN u_level < 0.01 THEN NULL ELSE prov END AS province_code,
           sector, status, digital, created_ms,
           CASE WHEN status = 'withdrawn'
                THEN least({CAP_MS}, created_ms + (30 + floor({u("n", 111)} * 600))::bigint
                                                  * {day} * 1000)
                ELSE created_ms END AS updated_ms,
           CASE WHEN {u("n", 112)} < CASE WHEN status = 'draft' THEN 0.35 ELSE 0.04 END THEN NULL
                ELSE make_date({pick(u("n", 113), years)}::int, 1, 1)
                     + floor({u("n", 114)} * 365)::int END AS launched_on,
           CASE WHEN status = 'draft'
                THEN {pick(u("n", 115), {"initiative": 40, "trial": 35, "implementation": 25})}
                ELSE {pick(u("n", 115), {"implementation": 80, "trial": 13, "initiative": 7})}
                END AS stage,
           CASE WHEN sector IN ('governance', 'data_information')
                THEN {pick(u("n", 116), {"governance": 60, "public_service": 35, "other": 5})}
                ELSE {pick(u("n", 116), {"public_service": 85, "governance": 10, "other": 5})}
                END AS form,
           {pick(u("n", 117), initiators)} AS initiator,
           CASE WHEN u_level < 0.01 THEN 'national'
                WHEN u_level < 0.09 THEN 'provincial'
                WHEN {u("n", 118)} < 0.04 THEN 'provincial'
                ELSE 'local' END AS scale,
           status = 'published' AND {u("n", 119)} < 0.059 AS awarded,
           CASE WHEN status = 'published'
                THEN least(300, greatest(0, floor(
                    1.2 * CASE WHEN {u("n", 119)} < 0.059 THEN 4 ELSE 1 END
                        * (1 - {u("n", 120)}) ^ (-0.7) - 0.6)))::int
                ELSE 0 END AS k,
           CASE WHEN n > 50 AND {u("n", 121)} < 0.03
                THEN {uid(f"1 + floor({u('n', 122)} * (n - 1))::bigint", 1000)} END
               AS replica_of_id
    FROM b
    ), p AS (
        -- A few scaling proposals (one an innovation at most, the more replicated the more
        -- likely), made 90 to 390 days before the snapshot, reviewed and decided days later
        -- as their status says.
        SELECT s.*, CASE WHEN s.status = 'published' AND s.scale <> 'national'
                          AND {u("n", 701)} < 0.0015 * (1 + k)
                    THEN {pick(u("n", 702), PROPOSALS)} END AS drawn,
               CASE WHEN s.scale = 'local' AND {u("n", 703)} < 0.7 THEN 'provincial'
                    ELSE 'national' END AS target_scale,
               {CAP_MS} - (90 + floor({u("n", 704)} * 300))::bigint * {day} * 1000
                   - floor({u("n", 707)} * 32400000)::bigint AS p_ms
        FROM s
    )
    SELECT p.*, CASE WHEN p.created_ms < p.p_ms - 30::bigint * {day} * 1000 THEN p.drawn END
               AS proposal,
           p.p_ms + (2 + floor({u("n", 705)} * 20))::bigint * {day} * 1000 AS r_ms,
           p.p_ms + (25 + floor({u("n", 706)} * 30))::bigint * {day} * 1000 AS d_ms
    FROM p"""


def _commitments_stage_sql(innovations: int) -> str:
    """Every commitment with its dates, status, reports and items decided (no texts)."""
    batches = max(1, innovations // INNOVATIONS_PER_BATCH)
    c = "c.cn"
    day_ms = 86400 * 1000
    statuses = ("committed", "in_progress", "stalled", "launched", "sustained", "cancelled")
    years_by_status = {
        2023: dict(zip(statuses, (1, 8, 10, 40, 30, 11), strict=True)),
        2024: dict(zip(statuses, (2, 18, 12, 40, 18, 10), strict=True)),
        2025: dict(zip(statuses, (8, 40, 12, 30, 3, 7), strict=True)),
        2026: {"committed": 25, "in_progress": 55, "stalled": 8, "launched": 8, "cancelled": 4},
    }
    whens = [f"WHEN {y} THEN {pick(u('p.cn', 210), w)}" for y, w in years_by_status.items()]
    raw_status = f"CASE p.fiscal_year {' '.join(whens)} END"
    weights = {"1": 4, "1.5": 2, "2": 3, "3": 1}
    n_items = pick(u("r.cn", 230), {"0": 5, "2": 55, "3": 40})
    return f"""
    CREATE TEMP TABLE seed_com AS
    WITH cand AS (
        SELECT i.n::bigint * 1024 + j AS cn, i.id AS innovation_id,
               i.region_code AS origin_region, i.province_code AS origin_prov, i.sector,
               i.created_ms AS inn_created_ms
        FROM seed_inn i CROSS JOIN LATERAL generate_series(1, i.k) j
        WHERE i.k > 0
    ), placed AS (
        SELECT c.*,
               CASE WHEN {u(c, 201)} < 0.08 THEN NULL
                    WHEN c.origin_prov IS NOT NULL AND {u(c, 202)} < 0.35 THEN c.origin_prov
                    ELSE {pick(u(c, 203), PROVINCE_WEIGHTS)} END AS program_prov,
               {pick(u(c, 204), PROVINCE_WEIGHTS)} AS any_prov,
               greatest({pick(u(c, 205), {"2023": 18, "2024": 24, "2025": 28, "2026": 30})}::int,
                        -- not before the innovation is registered (with time to sign)
                        extract(year FROM ({ts("c.inn_created_ms")} AT TIME ZONE 'UTC')
                                          + interval '26 days')::int)
                   AS fiscal_year,
               1 + floor({u(c, 206)} * {batches})::int AS batch
        FROM cand c
    ), adopter AS (
        SELECT p.*, coalesce(p.program_prov, p.any_prov) AS adopter_prov, sp.coordinator_key,
               CASE WHEN {u("p.cn", 225)} < 0.5 THEN sp.coordinator_key
                    ELSE sp.integration_key END AS reporter_key,
               CASE WHEN {u("p.cn", 225)} < 0.5 THEN 'coordinator' ELSE 'integration' END
                   AS reporter_role,
               CASE WHEN sp.locals[r.idx] IS DISTINCT FROM p.origin_region THEN sp.locals[r.idx]
                    ELSE sp.locals[r.idx % sp.n + 1] END AS adopter_region,
               CASE WHEN {u("p.cn", 208)} < 0.65 THEN s.adopter ELSE 'gov' END AS agency
        FROM placed p
        JOIN seed_province sp ON sp.code = coalesce(p.program_prov, p.any_prov)
        JOIN seed_sector s ON s.sector = p.sector
        CROSS JOIN LATERAL (SELECT 1 + floor(sp.n * {u("p.cn", 207)} ^ 1.3)::int AS idx) r
    ), keyed AS (
        SELECT a.*,
               {program_id("a.program_prov", "a.fiscal_year", "a.batch")} AS program_id,
               {institution_id("a.adopter_region", "a.agency")} AS adopter_id
        FROM adopter a
    ), unique_ AS MATERIALIZED (
        SELECT DISTINCT ON (innovation_id, program_id, adopter_id) *
        FROM keyed
        ORDER BY innovation_id, program_id, adopter_id, cn
    ), signed AS MATERIALIZED (
        SELECT q.*, q.lo + floor({u("q.cn", 209)} * (q.hi - q.lo + 1))::int AS signed_on
        FROM (
            SELECT k.*,
                   greatest(make_date(k.fiscal_year, 1, 10),
                            ({ts("k.inn_created_ms")} AT TIME ZONE 'UTC')::date + 1) AS lo,
                   least(make_date(k.fiscal_year, 12, 15), {SNAP} - 10) AS hi
            FROM unique_ k
        ) q
    ), statused AS MATERIALIZED (
        SELECT p.*,
               CASE WHEN {SNAP} - p.signed_on < 45 THEN 'committed'
                    WHEN s.raw IN ('stalled', 'launched', 'sustained')
                         AND {SNAP} - p.signed_on < 150 THEN 'in_progress'
                    WHEN s.raw = 'sustained' AND {SNAP} - p.signed_on < 420 THEN 'launched'
                    ELSE s.raw END AS status,
               p.signed_on + 15 + floor({u("p.cn", 211)} * 30)::int AS first_as_of
        FROM signed p CROSS JOIN LATERAL (SELECT {raw_status} AS raw) s
    ), ended AS MATERIALIZED (
        SELECT s.*,
               CASE s.status
                   WHEN 'in_progress' THEN {SNAP} - floor({u("s.cn", 212)} * 40)::int
                   WHEN 'launched' THEN {SNAP} - floor({u("s.cn", 212)} * 60)::int
                   WHEN 'stalled' THEN {SNAP} - 95 - floor({u("s.cn", 212)} * 150)::int
                   WHEN 'sustained' THEN {SNAP} - 130 - floor({u("s.cn", 212)} * 250)::int
                   WHEN 'cancelled' THEN s.first_as_of + floor({u("s.cn", 212)}
                       * greatest(0, {SNAP} - 60 - s.first_as_of))::int
               END AS end_raw
        FROM statused s
    ), reported AS MATERIALIZED (
        SELECT e.*, greatest(e.end_raw, e.first_as_of) AS end_as_of,
               CASE WHEN e.status = 'committed'
                         OR (e.status = 'stalled'
                             AND ({u("e.cn", 213)} < 0.2 OR e.end_raw < e.first_as_of))
                         OR (e.status = 'cancelled' AND {u("e.cn", 213)} < 0.3) THEN 0
                    ELSE greatest(1, least(
                        1 + (greatest(e.end_raw, e.first_as_of) - e.first_as_of) / 14,
                        1 + round((greatest(e.end_raw, e.first_as_of) - e.first_as_of) / 30.0
                                  * (0.45 + 0.9 * {u("e.cn", 214)}))::int))
               END AS r
        FROM ended e
    ), finals AS MATERIALIZED (
        SELECT r.*,
               CASE WHEN r.r = 0 THEN NULL
                    WHEN r.status IN ('launched', 'sustained') THEN 100
                    WHEN r.status = 'in_progress' THEN least(95, 5
                        + floor({u("r.cn", 215)} * 50)::int + (r.end_as_of - r.first_as_of) / 15)
                    WHEN r.status = 'stalled' THEN least(80, 5
                        + floor({u("r.cn", 215)} * 40)::int + (r.end_as_of - r.first_as_of) / 25)
                    ELSE least(70, floor({u("r.cn", 215)} * 40)::int
                        + (r.end_as_of - r.first_as_of) / 30)
               END AS p_final,
               ({epoch("r.signed_on")} + (1 + floor({u("r.cn", 216)} * 9)::bigint) * 86400
                + 3600 + floor({u("r.cn", 217)} * 32400)::bigint) * 1000
                + floor({u("r.cn", 218)} * 1000)::bigint AS created_ms,
               {n_items}::int AS n_items,
               ARRAY[{pick(u("r.cn", 231), weights)}, {pick(u("r.cn", 232), weights)},
                     {pick(u("r.cn", 233), weights)}]::numeric[] AS w
        FROM reported r
    ), timed AS MATERIALIZED (
        SELECT f.*,
               CASE WHEN f.r > 0 THEN {report_ms("f", "1")} END AS first_ms,
               CASE WHEN f.r > 0 THEN {report_ms("f", "f.r")} END AS last_ms,
               ARRAY[{item_progress("f", 1)}, {item_progress("f", 2)},
                     {item_progress("f", 3)}] AS ip
        FROM finals f
    )
    SELECT t.cn, {uid("t.cn", 2000)} AS id, t.program_id, t.innovation_id, t.adopter_id,
           t.adopter_region, t.adopter_prov, t.origin_prov, t.sector, t.fiscal_year, t.signed_on,
           CASE WHEN {u("t.cn", 219)} < 0.1 THEN NULL
                ELSE t.signed_on + 180 + floor({u("t.cn", 220)} * 360)::int END
               AS target_launch_on,
           CASE WHEN {u("t.cn", 221)} < 0.1 THEN 0
                ELSE (50 + floor({u("t.cn", 222)} ^ 2 * 950)::bigint) * 1000000 END
               AS budget_idr,
           t.status, t.r, t.first_as_of, t.end_as_of, t.p_final, t.n_items, t.w,
           t.created_ms, t.first_ms, t.last_ms,
           CASE WHEN t.status = 'stalled' THEN least({CAP_MS}, coalesce(t.last_ms, t.created_ms)
                    + (60 + floor({u("t.cn", 223)} * 40)::bigint) * {day_ms})
                WHEN t.status IN ('launched', 'sustained') THEN least({CAP_MS}, t.last_ms
                    + (1 + floor({u("t.cn", 223)} * 3)::bigint) * {day_ms})
                WHEN t.status = 'cancelled' THEN least({CAP_MS}, coalesce(t.last_ms, t.created_ms)
                    + (20 + floor({u("t.cn", 223)} * 120)::bigint) * {day_ms})
           END AS t1_ms,
           CASE WHEN t.status = 'sustained' THEN least({CAP_MS}, t.last_ms
               + (181 + floor({u("t.cn", 224)} * 180)::bigint) * {day_ms}) END AS t2_ms,
           t.coordinator_key, t.reporter_key, t.reporter_role, t.ip,
           CASE t.status
               WHEN 'stalled' THEN {pick(u("t.cn", 243), DATA["stall_reasons"])}
               WHEN 'cancelled' THEN {pick(u("t.cn", 243), DATA["cancel_reasons"])}
               WHEN 'launched' THEN {lit(LAUNCH_REASON)}
               WHEN 'sustained' THEN {lit(SUSTAIN_REASON)}
           END AS status_reason,
           CASE WHEN t.n_items = 0 THEN coalesce(t.p_final, 0)::numeric
                WHEN t.n_items = 2
                    THEN round((t.w[1] * t.ip[1] + t.w[2] * t.ip[2]) / (t.w[1] + t.w[2]), 2)
                ELSE round((t.w[1] * t.ip[1] + t.w[2] * t.ip[2] + t.w[3] * t.ip[3])
                           / (t.w[1] + t.w[2] + t.w[3]), 2)
           END AS progress
    FROM timed t"""


def report_ms(alias: str, k: str) -> str:
    """When report `k` of commitment `alias` came in (ms since 1970): a few days after its
    `as_of`, in office hours (WIB), never after the snapshot."""
    key = f"{alias}.cn * 128 + {k}"
    return (
        f"least({CAP_MS}, ({epoch(report_as_of(alias, k))}"
        f" + floor({u(key, 301)} * 4)::bigint * 86400"
        f" + 3600 + floor({u(key, 302)} * 32400)::bigint) * 1000"
        f" + floor({u(key, 303)} * 1000)::bigint)"
    )


def report_as_of(a: str, k: str) -> str:
    """Report `k` (1..r) of commitment `a`: spread evenly from its first to its last `as_of`
    (a single report is on the last)."""
    span = f"({a}.end_as_of - {a}.first_as_of)"
    return f"({a}.end_as_of - ({span} * ({a}.r - {k})) / greatest({a}.r - 1, 1))"


def item_progress(a: str, i: int) -> str:
    """Item `i` (1-based) when commitment `a` stands at `p_final`: the items fill in their
    order, each by its weight (so their weighted mean is the commitment's percentage)."""
    before = " + ".join(f"{a}.w[{j}]" for j in range(1, i)) or "0"
    total = (
        f"(CASE {a}.n_items WHEN 2 THEN {a}.w[1] + {a}.w[2] "
        f"ELSE {a}.w[1] + {a}.w[2] + {a}.w[3] END)"
    )
    return (
        f"least(100, greatest(0, round((coalesce({a}.p_final, 0) * {total} / 100.0"
        f" - ({before})) * 100.0 / {a}.w[{i}])))::int"
    )


def item_status(ip: str, commitment_status: str) -> str:
    return (
        f"CASE WHEN {ip} >= 100 THEN 'done' WHEN {ip} = 0 THEN 'todo' "
        f"WHEN {commitment_status} = 'stalled' THEN 'blocked' ELSE 'doing' END"
    )


def _innovations_sql() -> str:
    n = "i.n"
    acronym = pick(u(n, 132), ACRONYMS)
    title_acronym = f"CASE WHEN {u(n, 131)} < {ACRONYM_SHARE} THEN {acronym} || ' - ' ELSE '' END"
    head = pick(u(n, 133), DATA["heads"])
    generic_problem = pick(u(n, 140), DATA["generic_problems"])
    qualifier = (
        f"CASE WHEN {u(n, 134)} < 0.45 THEN '' WHEN i.digital "
        f"THEN ' ' || {pick(u(n, 135), DATA['digital_qualifiers'])} "
        f"ELSE ' ' || {pick(u(n, 135), DATA['qualifiers'])} END"
    )
    outcomes = f"""CASE WHEN i.status = 'draft' THEN ''
        ELSE CASE floor({u(n, 141)} * 4)::int
            WHEN 0 THEN 'Waktu layanan turun dari ' || (3 + floor({u(n, 142)} * 12)::int)
                        || ' hari menjadi ' || (1 + floor({u(n, 143)} * 2)::int) || ' hari.'
            WHEN 1 THEN 'Cakupan layanan naik menjadi ' || (70 + floor({u(n, 142)} * 29)::int)
                        || '%.'
            WHEN 2 THEN (500 + floor({u(n, 142)} * 9500)::int) || ' warga terlayani setiap bulan.'
            ELSE 'Kepuasan masyarakat mencapai ' || (80 + floor({u(n, 142)} * 19)::int) || '%.'
        END END"""
    return f"""
    INSERT INTO innovations (id, title, summary, problem, approach, outcomes, sector, form,
        digital, initiator, stage, launched_on, institution_id, region_code, province_code,
        replica_of_id, status, scale, tags, evidence_urls, replication_count, created_at,
        updated_at, version)
    SELECT i.id, t.acronym || t.head || ' ' || t.topic || t.qualifier,
           t.head || ' ' || lower(t.topic) || lower(t.qualifier) || ' untuk '
               || s.beneficiaries[1 + floor({u(n, 136)} * cardinality(s.beneficiaries))::int]
               || ' di ' || coalesce(r.label, 'seluruh Indonesia') || '. '
               || {pick(u(n, 137), DATA["summary_tails"])},
           s.problems[1 + floor({u(n, 138)} * cardinality(s.problems))::int]
               || CASE WHEN {u(n, 139)} < 0.4 THEN ' ' || {generic_problem} ELSE '' END,
           rtrim(CASE WHEN i.digital THEN {pick(u(n, 144), DATA["digital_approaches"])}
                      ELSE {pick(u(n, 144), DATA["manual_approaches"])} END
                 || ' ' || {pick(u(n, 145), DATA["support"])}),
           {outcomes},
           i.sector, i.form, i.digital, i.initiator, i.stage, i.launched_on, i.institution_id,
           i.region_code, i.province_code, i.replica_of_id, i.status,
           CASE WHEN i.proposal = 'approved' THEN i.target_scale ELSE i.scale END,
           ARRAY[s.tags[1 + floor({u(n, 146)} * cardinality(s.tags))::int]]
               || CASE WHEN i.digital THEN ARRAY['digital'] ELSE '{{}}'::text[] END
               || CASE WHEN {u(n, 147)} < 0.15 THEN ARRAY['sdgs'] ELSE '{{}}'::text[] END,
           CASE WHEN {u(n, 148)} < 0.5
                THEN ARRAY['https://jippnas.menpan.go.id/inovasi/' || i.n]
                ELSE '{{}}'::text[] END,
           coalesce(rc.replications, 0), {ts("i.created_ms")},
           {ts("CASE WHEN i.proposal = 'approved' THEN i.d_ms ELSE i.updated_ms END")},
           CASE WHEN i.status = 'withdrawn' OR i.proposal = 'approved' THEN 2 ELSE 1 END
    FROM seed_inn i
    JOIN seed_sector s ON s.sector = i.sector
    LEFT JOIN seed_region r ON r.code = i.region_code
    LEFT JOIN (
        SELECT innovation_id, count(*) FILTER (WHERE status <> 'cancelled') AS replications
        FROM seed_com GROUP BY innovation_id
    ) rc ON rc.innovation_id = i.id
    CROSS JOIN LATERAL (
        SELECT {title_acronym} AS acronym, {head} AS head,
               s.topics[width_bucket({u(n, 149)}, s.topic_bounds)] AS topic,
               {qualifier} AS qualifier
    ) t
    ORDER BY i.created_ms, i.n"""


def _awards_sql() -> str:
    kinds = {f"{c}:{t}": w for c, t, w in DATA["award_kinds"]}
    award_kind = pick(u("i.n::bigint * 4 + j", 313), kinds)
    return f"""
    INSERT INTO awards (id, innovation_id, competition, year, tier, decree_number,
                        created_at, updated_at)
    SELECT {uid("a.key", 3000)}, a.innovation_id, a.competition, a.year, a.tier,
           CASE a.competition
               WHEN 'KIPP' THEN 'Keputusan Menteri PANRB Nomor ' || (100 + a.key % 900)
                                || ' Tahun ' || a.year
               WHEN 'IGA' THEN 'Keputusan Menteri Dalam Negeri Nomor 100.4.4-'
                               || (1000 + a.key % 9000) || ' Tahun ' || a.year
           END,
           a.at, a.at
    FROM (
        SELECT DISTINCT ON (x.innovation_id, x.competition, x.year, x.tier) x.*
        FROM (
            SELECT i.n::bigint * 4 + j AS key, i.id AS innovation_id, k.competition, k.tier,
                   y.year,
                   greatest({ts("i.created_ms")},
                            make_timestamptz(y.year, 11, 20, 3, 0, 0, 'UTC')
                            + floor({u("i.n::bigint * 4 + j", 311)} * 20) * interval '1 day')
                       AS at
            FROM seed_inn i
            CROSS JOIN LATERAL generate_series(1, CASE WHEN {u("i.n", 312)} < 0.3 THEN 2
                                                       ELSE 1 END) j
            CROSS JOIN LATERAL (
                SELECT split_part(x, ':', 1) AS competition, split_part(x, ':', 2) AS tier
                FROM (SELECT {award_kind} AS x) q
            ) k
            CROSS JOIN LATERAL (
                SELECT b.base + floor({u("i.n::bigint * 4 + j", 314)} * (2026 - b.base))::int
                       AS year
                FROM (SELECT least(2025, greatest(2014, coalesce(
                          extract(year FROM i.launched_on)::int + 1, 2018))) AS base) b
            ) y
            WHERE i.awarded
        ) x
        ORDER BY x.innovation_id, x.competition, x.year, x.tier, x.key
    ) a
    ORDER BY a.at, a.key"""


def _programs_sql(innovations: int) -> str:
    batches = max(1, innovations // INNOVATIONS_PER_BATCH)
    return f"""
    INSERT INTO replication_programs (id, name, province_code, fiscal_year, signed_on,
        coordinator, mentor_team, description, status, created_at, updated_at, version)
    SELECT {program_id("p.code", "y", "b")},
           'Replikasi Inovasi ' || coalesce('Provinsi ' || p.name, 'Nasional') || ' ' || y
               || CASE WHEN {batches} > 1 THEN ' Angkatan ' || b ELSE '' END,
           p.code, y, make_date(y, 2, 1) + (b * 7) % 60,
           CASE WHEN p.code IS NULL THEN 'Deputi Bidang Pelayanan Publik KemenPANRB'
                ELSE 'Biro Organisasi Setda Provinsi ' || p.name END,
           'Tim pendamping JIPP dan daerah asal inovasi',
           'Program replikasi inovasi pelayanan publik tahun anggaran ' || y || '.',
           CASE WHEN y <= 2024 THEN 'closed' ELSE 'active' END,
           make_timestamptz(y - 1, 12, 1, 2, 0, 0, 'UTC') + b * interval '1 hour',
           CASE WHEN y <= 2024 THEN make_timestamptz(y + 1, 1, 20, 2, 0, 0, 'UTC')
                ELSE make_timestamptz(y - 1, 12, 1, 2, 0, 0, 'UTC') + b * interval '1 hour'
           END,
           CASE WHEN y <= 2024 THEN 2 ELSE 1 END
    FROM (SELECT code, name FROM seed_province UNION ALL SELECT NULL, NULL) p,
         generate_series({FISCAL_YEARS[0]}, {FISCAL_YEARS[-1]}) y,
         generate_series(1, {batches}) b
    ORDER BY y, b, p.code"""


def _commitments_sql() -> str:
    t = "c.cn"
    return f"""
    INSERT INTO commitments (id, program_id, innovation_id, adopter_institution_id,
        adopter_region_code, adopter_province_code, origin_province_code, signed_on,
        target_launch_on, planned_modifications, budget_idr, mentors, status, status_reason,
        progress, latest_percent, latest_as_of, last_report_at, last_report_on, created_at,
        updated_at, version)
    SELECT c.id, c.program_id, c.innovation_id, c.adopter_id, c.adopter_region,
           c.adopter_prov, c.origin_prov, c.signed_on, c.target_launch_on,
           {pick(u(t, 241), DATA["modifications"])}, c.budget_idr,
           CASE WHEN {u(t, 242)} < 0.5 THEN '' ELSE 'Tim pendamping dari daerah asal inovasi' END,
           c.status, c.status_reason, c.progress,
           CASE WHEN c.r > 0 THEN c.p_final END, CASE WHEN c.r > 0 THEN c.end_as_of END,
           {ts("c.last_ms")}, ({ts("c.last_ms")} AT TIME ZONE 'UTC')::date, {ts("c.created_ms")},
           {ts("greatest(c.created_ms + c.n_items * 60000, c.last_ms, c.t1_ms, c.t2_ms)")},
           1 + c.n_items + c.r
             + CASE c.status WHEN 'sustained' THEN 2
                             WHEN 'committed' THEN 0 WHEN 'in_progress' THEN 0 ELSE 1 END
    FROM seed_com c
    ORDER BY c.created_ms, c.cn"""


def _items_sql() -> str:
    """Item `i` of commitment `c`: id, title, due date, weight and creation time, then its
    state as of the commitment's last report."""
    titles = ", ".join(f"{text_array(list(pair))}" for pair in DATA["item_titles"])
    return f"""
    INSERT INTO action_items (id, title, due_on, weight, created_at, commitment_id, status,
                              progress, completed_on, updated_at, version)
    SELECT {uid("c.cn", 4000, "i")},
           (ARRAY[{titles}])[i + CASE WHEN c.n_items = 2 AND i = 2 THEN 1 ELSE 0 END]
               [1 + floor({u("c.cn * 4 + i", 401)} * 2)::int],
           c.signed_on + (coalesce(c.target_launch_on, c.signed_on + 360) - c.signed_on) * i
               / c.n_items,
           c.w[i], {ts("c.created_ms + i * 60000")}, c.id,
           {item_status("c.ip[i]", "c.status")}, c.ip[i],
           CASE WHEN c.ip[i] >= 100 THEN c.end_as_of END,
           CASE WHEN c.r > 0 THEN {ts("c.last_ms")} ELSE {ts("c.created_ms + i * 60000")} END,
           CASE WHEN c.r > 0 THEN 2 ELSE 1 END
    FROM seed_com c CROSS JOIN LATERAL generate_series(1, c.n_items) i
    ORDER BY c.created_ms, c.cn, i"""


def _item_updates_json(a: str) -> str:
    entries = [
        f"jsonb_build_object('item_id', {uid(f'{a}.cn', 4000, str(i))}, "
        f"'progress', {a}.ip[{i}], 'status', {item_status(f'{a}.ip[{i}]', f'{a}.status')})"
        for i in (1, 2, 3)
    ]
    return (
        f"CASE {a}.n_items WHEN 0 THEN '[]'::jsonb "
        f"WHEN 2 THEN jsonb_build_array({entries[0]}, {entries[1]}) "
        f"ELSE jsonb_build_array({entries[0]}, {entries[1]}, {entries[2]}) END"
    )


def _reports_sql() -> str:
    key = "o.cn * 128 + o.k"  # for draws only (see `hash64`)
    # Time-ordered like the service's: 48 bits of milliseconds, version 7 (and 12 zero bits,
    # where the service puts the report's place in its batch), then hash bits.
    report_id = uuid_sql("((o.ms << 16) | 28672)", hash64("o.cn", 501, "o.k"), version4=False)
    return f"""
    INSERT INTO progress_reports (id, commitment_id, as_of, percent_complete, item_updates,
        narrative, obstacles, evidence_urls, reported_by, reporter_key_id, created_at)
    SELECT {report_id}, c.id, {report_as_of("c", "o.k")}, o.percent,
           CASE WHEN o.k = c.r THEN {_item_updates_json("c")} ELSE '[]'::jsonb END,
           'Kemajuan ' || o.percent || '%. ' || {pick(u(key, 502), DATA["narratives"])},
           {pick(u(key, 503), DATA["obstacles"])},
           CASE WHEN {u(key, 504)} < 0.2
                THEN ARRAY['https://e-monev.go.id/bukti/' || to_hex(o.cn) || '-' || o.k]
                ELSE '{{}}'::text[] END,
           {pick(u(key, 505), DATA["reporters"])}, c.reporter_key, {ts("o.ms")}
    FROM (
        -- the percentage rising to the commitment's final one at its last report
        SELECT c.cn, k, {report_ms("c", "k")} AS ms,
               floor(c.p_final * (k::float8 / c.r) ^ 0.85)::int AS percent
        FROM seed_com c CROSS JOIN LATERAL generate_series(1, c.r) k
        ORDER BY 3, 1, 2
    ) o
    JOIN seed_com c ON c.cn = o.cn"""


def _profile(kind: str, key: str) -> str:
    strong, middle = PROFILES[kind]
    draw = u(key, 611)
    return f"CASE WHEN {draw} < {strong} THEN 's' WHEN {draw} < {middle} THEN 'm' ELSE 'w' END"


def _indicators(key: str) -> str:
    """The indicator values of assessment `a` by its profile `a.p`, drawn from `key`."""
    columns = []
    for n, (name, profiles) in enumerate(INDICATOR_DRAWS.items()):
        draw = u(key, 621 + n)
        s, m, w = (pick(draw, p) if isinstance(p, dict) else p.format(d=draw) for p in profiles)
        columns.append(f"CASE a.p WHEN 's' THEN {s} WHEN 'm' THEN {m} ELSE {w} END AS {name}")
    return f"""
           a.p = 's' OR {u(key, 620)} >= CASE a.p WHEN 'w' THEN 0.12 ELSE 0.02 END AS operating,
           {", ".join(columns)},
           CASE WHEN a.p = 's' AND {u(key, 632)} < 0.2
                THEN (10 + floor({u(key, 633)} * 490))::bigint * 1000000 ELSE 0 END
               AS incentive_idr,
           CASE WHEN {u(key, 634)} < 0.3
                THEN ARRAY['https://e-monev.go.id/keberlanjutan/' || a.id]
                ELSE '{{}}'::text[] END AS evidence_urls"""


def _assessments_stage_sql() -> str:
    """The subjects and periods assessed, and who assessed them when: published innovations at
    their origin from the year after their registration, launched or sustained commitments from
    the year after their launch; each between August and early November. A launched commitment
    with a sustained verdict would have been made sustained by the service: until an admin marks
    one sustained (`t2_ms`), its profile is the weak one, which never scores 70."""
    year = "(y - 2020)"
    inn_key, com_key = f"i.n::bigint * 8 + {year}", f"c.cn::bigint * 8 + {year}"
    on = f"(make_date(x.y, 8, 1) + floor({u('x.key', 640)} * 100)::int)"
    office = f"floor({u('x.key', 641)} * 32400000)::bigint"
    return f"""
    CREATE TEMP TABLE seed_asm AS
    SELECT x.*, {on} AS assessed_on, {ts(f"({epoch(on)} + 3600) * 1000 + {office}")} AS at
    FROM (
        SELECT {inn_key} AS key, y, {uid("i.n", 6000, "y")} AS id,
               i.id AS innovation_id, NULL::uuid AS commitment_id, i.id AS source_id,
               i.province_code AS province_code, {by_coordinator("k.code")},
               {_profile("innovation", inn_key)} AS p
        FROM seed_inn i
        CROSS JOIN generate_series({FISCAL_YEARS[0]}, {FISCAL_YEARS[-1]}) y
        LEFT JOIN seed_province k ON k.code = i.province_code
        WHERE i.status = 'published' AND {u("i.n", 601)} < {MONITORED["innovation"]}
          AND y > extract(year FROM {ts("i.created_ms")} AT TIME ZONE 'UTC')
          AND {u(inn_key, 602)} < {ASSESSED_PERIOD}
        UNION ALL
        SELECT {com_key}, y, {uid("c.cn", 6100, "y")}, NULL, c.id, c.innovation_id,
               c.adopter_prov, c.reporter_key, c.reporter_role,
               CASE WHEN make_date(y, 8, 1) > ({ts("c.t2_ms")} AT TIME ZONE 'UTC')::date
                    THEN {_profile("commitment", com_key)} ELSE 'w' END
        FROM seed_com c CROSS JOIN generate_series({FISCAL_YEARS[0]}, {FISCAL_YEARS[-1]}) y
        WHERE c.status IN ('launched', 'sustained')
          AND {u("c.cn", 603)} < {MONITORED["commitment"]}
          AND y > extract(year FROM {ts("c.t1_ms")} AT TIME ZONE 'UTC')
          AND {u(com_key, 602)} < {ASSESSED_PERIOD}
    ) x"""


def py_float(numeric: str) -> str:
    """A numeric SQL expression as Python writes it as a float in JSON: `15.0`, `7.5`."""
    x = f"({numeric})"
    return f"(CASE WHEN {x} = trunc({x}) THEN round({x}, 1) ELSE {x}::float8::numeric END)"


def _assessments_sql(version: int, rubric: dict[str, Any]) -> str:
    """The assessments of `seed_asm`, scored with `rubric` (its indicators, in order, and its
    thresholds) as the service scores them: each indicator's points are its weight times the
    fraction its value earns, to the cent; the verdict follows from the score."""
    fractions, entries, points = [], [], []
    for n, indicator in enumerate(rubric["indicators"]):
        value = f"a.{indicator['key']}"
        if "levels" in indicator:
            whens = [f"WHEN {lit(k)} THEN {f}" for k, f in indicator["levels"].items()]
            fraction = f"CASE {value}::text {' '.join(whens)} END"
        else:
            bands = sorted(indicator["bands"], key=lambda b: -b["min"])
            whens = [f"WHEN {value} >= {b['min']} THEN {b['fraction']}" for b in bands]
            fraction = f"CASE {' '.join(whens)} ELSE 0 END"
        missing = indicator.get("missing") or 0
        fractions.append(f"CASE WHEN {value} IS NULL THEN {missing} ELSE {fraction} END AS f{n}")
        points.append(f"round({indicator['weight']} * f.f{n}::numeric, 2)")
        entries.append(
            f"jsonb_build_object('indicator', {lit(indicator['key'])}, 'value', to_jsonb({value}),"
            f" 'fraction', {py_float(f'f.f{n}::numeric')},"
            f" 'weight', {py_float(str(indicator['weight']))}, 'points', {py_float(points[-1])})"
        )
    t, total = rubric["thresholds"], " + ".join(points)
    return f"""
    INSERT INTO sustainability_assessments (id, innovation_id, commitment_id,
        source_innovation_id, province_code, period, operating, {", ".join(INDICATOR_DRAWS)},
        incentive_idr, notes, evidence_urls, assessed_on, score, verdict, breakdown,
        rubric_version, assessed_by_key_id, created_at, updated_at, version)
    SELECT a.id, a.innovation_id, a.commitment_id, a.source_id, a.province_code, a.y,
           a.operating, {", ".join(f"a.{name}" for name in INDICATOR_DRAWS)}, a.incentive_idr,
           '', a.evidence_urls, a.assessed_on, s.score,
           CASE WHEN NOT a.operating THEN {lit(rubric["not_operating_verdict"])}
                WHEN s.score >= {t["sustained"]} THEN 'sustained'
                WHEN s.score >= {t["at_risk"]} THEN 'at_risk' ELSE 'discontinued' END,
           jsonb_build_array({", ".join(entries)}),
           {version}, a.actor_id, a.at, a.at, 1
    FROM (SELECT a.*, {_indicators("a.key")} FROM seed_asm a) a
    CROSS JOIN LATERAL (SELECT {", ".join(fractions)}) f
    CROSS JOIN LATERAL (SELECT least(100, greatest(0, {total})) AS score) s
    ORDER BY a.at, a.key"""


def _proposals_sql() -> str:
    """The proposals of `seed_inn`, with the evidence the service snapshots when one is made:
    the innovation's figures from the commitments, awards and origin assessments made before
    it (their statuses as they are now: a commitment's earlier status is not kept)."""
    t, live = DEFAULT_THRESHOLDS, ", ".join(lit(s) for s in LIVE_STATUSES)
    sustained = "'sustained'" if t.require_sustained else "NULL::text"
    criteria = {  # value, threshold, met
        "replicas": ("coalesce(f.replicas, 0)", t.min_replicas, ">="),
        "other_provinces": ("coalesce(f.other_provinces, 0)", t.min_other_provinces, ">="),
        "origin_sustained": ("l.verdict", sustained, "IS NOT DISTINCT FROM"),
        "awards": ("coalesce(w.n, 0)", t.min_awards, ">="),
    }
    met = {k: f"coalesce({v} {op} {m}, true)" for k, (v, m, op) in criteria.items()}
    met["origin_sustained"] = met["origin_sustained"] if t.require_sustained else "true"
    evidence = ", ".join(
        f"'{k}', jsonb_build_object('value', {v}, 'threshold', {m}, 'met', {met[k]})"
        for k, (v, m, _) in criteria.items()
    )
    count = " + ".join(f"({m})::int" for m in met.values())
    decided = "x.proposal IN ('approved', 'rejected', 'deferred')"
    notes = " ".join(f"WHEN {lit(k)} THEN {lit(v)}" for k, v in DATA["decision_notes"].items())
    changed = "CASE x.proposal WHEN 'submitted' THEN x.p_ms WHEN 'under_review' THEN x.r_ms"
    return f"""
    INSERT INTO scaling_proposals (id, innovation_id, province_code, target_scale,
        target_province_code, rationale, evidence, status, proposed_by, proposed_by_key_id,
        reviewed_at, outcome, notes, conditions, decided_by, decided_by_key_id, decided_at,
        created_at, updated_at, version)
    WITH x AS (
        SELECT i.*, {ts("i.p_ms")} AS taken_at FROM seed_inn i WHERE i.proposal IS NOT NULL
    ), com AS (
        SELECT x.id, c.status, c.adopter_province_code AS adopter, x.province_code AS origin
        FROM x JOIN commitments c ON c.innovation_id = x.id AND c.created_at < x.taken_at
    ), f AS (
        SELECT id, count(*) FILTER (WHERE status IN ({live})) AS replicas,
               count(DISTINCT adopter) FILTER (WHERE status IN ({live})
                                               AND adopter IS DISTINCT FROM origin)
                   AS other_provinces,
               count(DISTINCT adopter) FILTER (WHERE status <> 'cancelled') AS reached
        FROM com GROUP BY id
    ), s AS (
        SELECT id, jsonb_object_agg(status, n) AS by_status
        FROM (SELECT id, status, count(*) AS n FROM com GROUP BY 1, 2) s GROUP BY id
    ), w AS (
        SELECT x.id, count(*) AS n,
               jsonb_agg(jsonb_build_object('competition', a.competition, 'year', a.year,
                                            'tier', a.tier) ORDER BY a.year DESC, a.tier) AS list
        FROM x JOIN awards a ON a.innovation_id = x.id AND a.created_at < x.taken_at
        GROUP BY x.id
    ), l AS (
        SELECT DISTINCT ON (x.id) x.id, a.verdict, a.score, a.period
        FROM x JOIN sustainability_assessments a
             ON a.innovation_id = x.id AND a.created_at < x.taken_at
        ORDER BY x.id, a.period DESC
    )
    SELECT {uid("x.n", 7000)}, x.id, x.province_code, x.target_scale,
           CASE WHEN x.target_scale = 'provincial' THEN x.province_code END,
           {pick(u("x.n", 710), DATA["rationales"])},
           jsonb_build_object(
               'taken_at', to_char(x.taken_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
               'criteria', jsonb_build_object({evidence}),
               'criteria_met', {count}, 'criteria_total', {CRITERIA_TOTAL},
               'eligible', {count} = {CRITERIA_TOTAL},
               'replications_by_status', coalesce(s.by_status, '{{}}'),
               'provinces_reached', coalesce(f.reached, 0),
               'awards', coalesce(w.list, '[]'), 'latest_verdict', l.verdict,
               'latest_score', l.score::float8, 'latest_period', l.period),
           x.proposal, 'Koordinator ' || k.name, k.coordinator_key,
           CASE WHEN x.proposal <> 'submitted' THEN {ts("x.r_ms")} END,
           CASE WHEN {decided} THEN x.proposal END,
           CASE x.proposal {notes} END, CASE WHEN {decided} THEN '' END,
           CASE WHEN {decided} THEN {lit(REVIEWER)} END,
           CASE WHEN {decided} THEN {key_id("reviewer")} END,
           CASE WHEN {decided} THEN {ts("x.d_ms")} END,
           x.taken_at, {ts(changed + " ELSE x.d_ms END")},
           CASE x.proposal WHEN 'submitted' THEN 1 WHEN 'under_review' THEN 2 ELSE 3 END
    FROM x JOIN seed_province k ON k.code = x.province_code
    LEFT JOIN f ON f.id = x.id LEFT JOIN s ON s.id = x.id LEFT JOIN w ON w.id = x.id
    LEFT JOIN l ON l.id = x.id
    ORDER BY x.taken_at, x.n"""


def fields(alias: str, spec: str) -> str:
    """A `jsonb_build_object` of the columns of `alias` named in `spec` (space-separated),
    each under its own name, or as `key=column` under another."""
    pairs = [f.partition("=") for f in spec.split()]
    return "jsonb_build_object(" + ", ".join(f"'{k}', {alias}.{c or k}" for k, _, c in pairs) + ")"


def by_coordinator(province_sql: str) -> str:
    """An actor and role: the coordinator of province `province_sql` (`k`, its `seed_province`
    row), or the national admin for a national row."""
    return (
        f"coalesce(k.coordinator_key, {key_id('admin')}) AS actor_id, "
        f"CASE WHEN {province_sql} IS NULL THEN 'admin' ELSE 'coordinator' END AS actor_role"
    )


def _events_sql() -> str:
    """The event log: every change above, as the service writes it, in time order (the
    service's event per progress report left out: ten times the events)."""
    admin = key_id("admin")
    innovation = "id title sector form digital initiator stage launched_on institution_id"
    innovation += " replica_of_id tags"
    commitment = "id program_id innovation_id adopter_institution_id=adopter_id signed_on"
    commitment += " target_launch_on budget_idr adopter_region_code=adopter_region"
    commitment += " adopter_province_code=adopter_prov origin_province_code=origin_prov"
    columns = "at, actor_id, actor_role, action, entity, entity_id, province_code, changes"
    return f"""
    INSERT INTO events ({columns})
    SELECT {columns} FROM (
        -- Institutions, registered by the national admin.
        SELECT i.created_at AS at, 1 AS seq, {admin} AS actor_id, 'admin' AS actor_role,
               'institution.created' AS action, 'institution' AS entity, i.id::text AS entity_id,
               i.province_code, {fields("i", "name kind region_code parent_id")} AS changes
        FROM institutions i
        UNION ALL
        SELECT p.created_at, 2, {by_coordinator("p.province_code")},
               'program.created', 'replication_program', p.id::text, p.province_code,
               {fields("p", "name province_code fiscal_year signed_on id")}
                   || '{{"status": "active"}}'
        FROM replication_programs p LEFT JOIN seed_province k ON k.code = p.province_code
        UNION ALL
        SELECT p.updated_at, 3, {admin}, 'admin', 'program.updated', 'replication_program',
               p.id::text, p.province_code, '{{"status": "closed"}}'::jsonb
        FROM replication_programs p WHERE p.status = 'closed'
        UNION ALL
        SELECT i.created_at, 4, {by_coordinator("i.province_code")},
               'innovation.created', 'innovation', i.id::text, i.province_code,
               {fields("i", innovation)} || jsonb_build_object(
                   'status', CASE WHEN i.status = 'draft' THEN 'draft' ELSE 'published' END,
                   'scale', s.scale)
        FROM innovations i JOIN seed_inn s ON s.id = i.id
        LEFT JOIN seed_province k ON k.code = i.province_code
        UNION ALL
        SELECT i.updated_at, 5, {by_coordinator("i.province_code")},
               'innovation.updated', 'innovation', i.id::text, i.province_code,
               '{{"status": "withdrawn"}}'::jsonb
        FROM innovations i LEFT JOIN seed_province k ON k.code = i.province_code
        WHERE i.status = 'withdrawn'
        UNION ALL
        SELECT a.created_at, 6, {admin}, 'admin', 'award.created', 'award', a.id::text,
               s.province_code, {fields("a", "competition year tier decree_number innovation_id")}
        FROM awards a JOIN seed_inn s ON s.id = a.innovation_id
        UNION ALL
        -- Commitments, their plans and their status changes, by the adopter's coordinator
        -- (the first report's change by whoever sent it).
        SELECT {ts("c.created_ms")}, 7, c.coordinator_key, 'coordinator',
               'commitment.created', 'commitment', c.id::text, c.adopter_prov,
               {fields("c", commitment)}
        FROM seed_com c
        UNION ALL
        SELECT a.created_at, 8, c.coordinator_key, 'coordinator',
               'action_item.created', 'action_item', a.id::text, c.adopter_prov,
               jsonb_build_object('id', a.id, 'commitment_id', c.id, 'title', a.title,
                                  'due_on', a.due_on, 'weight', a.weight::text,
                                  'status', 'todo', 'progress', 0)
        FROM action_items a JOIN seed_com c ON c.id = a.commitment_id
        UNION ALL
        SELECT {ts("c.first_ms")}, 9, c.reporter_key, c.reporter_role,
               'commitment.transitioned', 'commitment', c.id::text, c.adopter_prov,
               jsonb_build_object('from', 'committed', 'to', 'in_progress',
                                  'reason', {lit(FIRST_REPORT)})
        FROM seed_com c WHERE c.r > 0
        UNION ALL
        SELECT {ts("c.t1_ms")}, 10, c.coordinator_key, 'coordinator',
               'commitment.transitioned', 'commitment', c.id::text, c.adopter_prov,
               jsonb_build_object(
                   'from', CASE WHEN c.r > 0 THEN 'in_progress' ELSE 'committed' END,
                   'to', CASE WHEN c.status = 'sustained' THEN 'launched' ELSE c.status END,
                   'reason', CASE WHEN c.status IN ('launched', 'sustained')
                                  THEN {lit(LAUNCH_REASON)} ELSE c.status_reason END)
        FROM seed_com c
        WHERE c.t1_ms IS NOT NULL
        UNION ALL
        SELECT {ts("c.t2_ms")}, 11, {admin}, 'admin',
               'commitment.transitioned', 'commitment', c.id::text, c.adopter_prov,
               jsonb_build_object('from', 'launched', 'to', 'sustained',
                                  'reason', {lit(SUSTAIN_REASON)})
        FROM seed_com c WHERE c.t2_ms IS NOT NULL
        UNION ALL
        -- Assessments by their assessors; proposals by the province's coordinator, reviewed
        -- and decided by the national reviewers (an approval raises the innovation's scale).
        SELECT a.created_at, 12, a.assessed_by_key_id, x.actor_role,
               'sustainability_assessment.created', 'sustainability_assessment', a.id::text,
               a.province_code,
               to_jsonb(a) - 'id' - 'breakdown' - 'assessed_by_key_id' - 'created_at'
                   - 'updated_at' - 'version' || jsonb_build_object('score', a.score::text)
        FROM sustainability_assessments a JOIN seed_asm x ON x.id = a.id
        UNION ALL
        SELECT p.created_at, 13, p.proposed_by_key_id, 'coordinator',
               'scaling_proposal.created', 'scaling_proposal', p.id::text, p.province_code,
               to_jsonb(p) - 'status' - 'reviewed_at' - 'outcome' - 'notes' - 'conditions'
                   - 'decided_by' - 'decided_by_key_id' - 'decided_at' - 'created_at'
                   - 'updated_at' - 'version'
        FROM scaling_proposals p
        UNION ALL
        SELECT p.reviewed_at, 14, {key_id("reviewer")}, 'reviewer',
               'scaling_proposal.review_started', 'scaling_proposal', p.id::text,
               p.province_code,
               '{{"from": "submitted", "to": "under_review", "notes": ""}}'::jsonb
        FROM scaling_proposals p WHERE p.reviewed_at IS NOT NULL
        UNION ALL
        SELECT p.decided_at, 15, p.decided_by_key_id, 'reviewer', 'scaling_proposal.decided',
               'scaling_proposal', p.id::text, p.province_code,
               jsonb_build_object('from', 'under_review', 'to', p.status, 'outcome', p.outcome,
                                  'notes', p.notes, 'conditions', p.conditions,
                                  'decided_by', p.decided_by,
                                  'decided_by_key_id', p.decided_by_key_id)
        FROM scaling_proposals p WHERE p.decided_at IS NOT NULL
        UNION ALL
        SELECT p.decided_at, 16, p.decided_by_key_id, 'reviewer', 'innovation.scaled',
               'innovation', p.innovation_id::text, p.province_code,
               jsonb_build_object('scale', p.target_scale, 'scaling_proposal_id', p.id)
        FROM scaling_proposals p WHERE p.status = 'approved'
    ) e
    ORDER BY at, seq, entity_id"""


_CATALOG = """
SELECT 'index' AS what, c.relname AS table_name, i.relname AS name,
       pg_get_indexdef(i.oid) AS definition
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class c ON c.oid = x.indrelid
WHERE c.relnamespace = 'public'::regnamespace
UNION ALL
SELECT 'constraint', conrelid::regclass::text, conname,
       contype::text || ' ' || pg_get_constraintdef(oid) || ' validated=' || convalidated
FROM pg_constraint
WHERE connamespace = 'public'::regnamespace AND conrelid <> 0
UNION ALL
SELECT 'trigger', tgrelid::regclass::text, tgname,
       tgenabled::text || ' ' || pg_get_triggerdef(oid)
FROM pg_trigger
WHERE NOT tgisinternal
  AND tgrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'public'::regnamespace)
ORDER BY 1, 2, 3"""
# Assessments with a sustained verdict of a commitment then launched: the service would have
# moved it to sustained (see `_assessments_stage_sql`).
MOVED_BY_VERDICT = f"""
SELECT count(*) FROM sustainability_assessments a JOIN seed_com c ON c.id = a.commitment_id
WHERE a.verdict = 'sustained' AND (c.t2_ms IS NULL OR a.created_at < {ts("c.t2_ms")})"""
# The load's preparation, statement by statement, and the statements that undo it: the AFTER
# INSERT statement triggers of the tables `$1` enabled ALWAYS (they then fire in replica mode,
# once per insert); the primary and unique keys of the tables `$2` that no foreign key references
# dropped, then their other indexes. Foreign keys stay, unchecked, and the keys they reference;
# partial indexes too: a predicate deparsed and parsed again is an equivalent but different
# expression, which the catalog check would see.
LOAD_MODE = """
SELECT 0 AS n, format('ALTER TABLE %s ENABLE ALWAYS TRIGGER %I', tgrelid::regclass, tgname),
       format('ALTER TABLE %s ENABLE TRIGGER %I', tgrelid::regclass, tgname)
FROM pg_trigger
WHERE NOT tgisinternal AND tgenabled = 'O' AND tgtype & 7 = 4 AND tgrelid::regclass::text = ANY($1)
UNION ALL
SELECT 1, format('ALTER TABLE %s DROP CONSTRAINT %I', k.conrelid::regclass, k.conname),
       format('ALTER TABLE %s ADD CONSTRAINT %I %s', k.conrelid::regclass, k.conname,
              pg_get_constraintdef(k.oid))
FROM pg_constraint k
WHERE k.contype IN ('p', 'u') AND k.conrelid::regclass::text = ANY($2)
  AND NOT EXISTS (SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = k.conindid)
UNION ALL
SELECT 2, format('DROP INDEX %I', i.relname), pg_get_indexdef(i.oid)
FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid
WHERE c.relname = ANY($2) AND c.relnamespace = 'public'::regnamespace AND x.indpred IS NULL
  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid)
ORDER BY 1, 2"""


async def catalog(conn: asyncpg.Connection) -> list[tuple[str, str, str, str]]:
    """Every index, constraint and trigger of the public schema, with its definition."""
    return [tuple(r) for r in await conn.fetch(_CATALOG)]


async def _load_mode(conn: asyncpg.Connection) -> list[str]:
    """Prepare the loaded tables (`LOAD_MODE`); return the statements that undo it."""
    statements = await conn.fetch(LOAD_MODE, list(LOADED), list(UNREAD))
    for _, do, _ in statements:
        await conn.execute(do)
    return [undo for _, _, undo in statements]


async def seed(url: URL, innovations: int) -> dict[str, Any]:
    """Fill the freshly migrated database at `url` with `innovations` innovations and
    everything around them; return the seconds each phase took, the rows and the sizes
    (after `VACUUM ANALYZE`)."""
    if not 1 <= innovations <= 4_000_000:  # commitment numbers stay below 2**32
        raise ValueError("innovations must be between 1 and 4,000,000")
    if date.today() < SNAPSHOT:  # noqa: DTZ011 - a calendar date is all that matters
        raise RuntimeError(f"The data set's dates run to {SNAPSHOT}, which is in the future.")
    phases: dict[str, float] = {}
    started = time.monotonic()
    async with connect(url) as conn:
        await conn.execute("SET temp_buffers = '2GB'")  # the staging tables
        for table in LOADED:
            if await conn.fetchval(f"SELECT EXISTS (TABLE {table})"):
                raise RuntimeError(f"{table} is not empty: seed a freshly migrated database.")
        if not await conn.fetchval("SELECT count(*) = 552 FROM regions"):
            raise RuntimeError("The regions are not loaded (expected 38 + 514).")
        before = await catalog(conn)

        async def step(name: str, sql: str) -> None:
            t = time.monotonic()
            await conn.execute(sql)
            phases[name] = round(phases.get(name, 0.0) + time.monotonic() - t, 2)

        async with conn.transaction():
            for setting, value in LOAD_SETTINGS.items():
                await conn.execute(f"SET LOCAL {setting} = '{value}'")
            await step("prepare", _prepare_sql())
            restore = await _load_mode(conn)
            await step("api_keys", _api_keys_sql())
            await step("institutions", _institutions_sql())
            await step("stage_innovations", _innovations_stage_sql(innovations))
            await step("stage_commitments", _commitments_stage_sql(innovations))
            await step("innovations", _innovations_sql())
            await step("awards", _awards_sql())
            await step("replication_programs", _programs_sql(innovations))
            await step("commitments", _commitments_sql())
            await step("action_items", _items_sql())
            # Reports are generated in time order and joined to their commitment by a hash
            # join, which keeps that order (a merge join would sort them by commitment).
            await conn.execute("SET LOCAL enable_mergejoin = off")
            await step("progress_reports", _reports_sql())
            await conn.execute("SET LOCAL enable_mergejoin = on")
            await step("stage_assessments", _assessments_stage_sql())
            version, rubric = await conn.fetchrow(
                "SELECT version, definition FROM sustainability_rubrics ORDER BY 1 DESC LIMIT 1"
            )
            await step("sustainability_assessments", _assessments_sql(version, json.loads(rubric)))
            if await conn.fetchval(MOVED_BY_VERDICT):
                raise RuntimeError("A launched commitment has a sustained verdict.")
            await step("scaling_proposals", _proposals_sql())
            await step("events", _events_sql())
            for sql in restore:
                await step("keys_and_indexes", sql)
            if (after := await catalog(conn)) != before:
                missing, extra = sorted(set(before) - set(after)), sorted(set(after) - set(before))
                raise RuntimeError(f"Catalog changed: missing {missing}, extra {extra}")
        await step("vacuum_analyze", "VACUUM ANALYZE")
        shown = ("server_version", "wal_level", "data_checksums", "shared_buffers")
        server = {name: await conn.fetchval(f"SHOW {name}") for name in shown}
        seconds = round(time.monotonic() - started, 2)
        summary = {"innovations": innovations, "server": server, "seconds": seconds}
        return {**summary, "phases": phases, **await sizes(conn)}


async def sizes(conn: asyncpg.Connection) -> dict[str, Any]:
    rows = {t: await conn.fetchval(f"SELECT count(*) FROM {t}") for t in TABLES}
    query = "SELECT t, pg_total_relation_size(t), pg_table_size(t), pg_indexes_size(t)"
    query += " FROM unnest($1::regclass[]) t"
    tables = {
        t: {"total_bytes": total, "heap_bytes": heap, "index_bytes": index}
        for t, total, heap, index in await conn.fetch(query, list(TABLES))
    }
    database = await conn.fetchval("SELECT pg_database_size(current_database())")
    return {"rows": rows, "database_bytes": database, "tables": tables}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--innovations", type=int, default=10_000)
    parser.add_argument(
        "--database-url",
        help="a freshly migrated database (regions loaded); else a new one on "
        "BENCH_DATABASE_URL's server or the embedded one",
    )
    args = parser.parse_args()
    if args.database_url:
        url = to_async_url(args.database_url)
    else:
        configured = os.environ.get("BENCH_DATABASE_URL")
        server = to_async_url(configured) if configured else start_embedded(ROOT / ".data")
        url = fresh_database(server, "inovasi_bench_seed")
    summary = asyncio.run(seed(url, args.innovations))
    summary["at"] = datetime.now(UTC).isoformat(timespec="seconds")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
