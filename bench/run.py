"""The service against a raw asyncpg baseline, scenario by scenario, from 10k to 1M innovations.

`python -m bench.run` (10k innovations, short runs) or `--full` (10k, 100k and 1M; 1 worker,
then 2 at 1M). Per size: a database seeded by `bench.seed` (kept for later runs); the service
and the baseline (bench/baseline.py) on it, checked to answer alike (bench/baseline_check.py);
then per scenario `wrk` (one thread, 32 connections) against each, in interleaved pairs
(`run_pairs`). Results go to `bench/results/latest.json`, a Markdown table and the targets to
stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import itertools
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import asyncpg
from alembic.script import ScriptDirectory
from sqlalchemy import func, select
from sqlalchemy.engine import URL

from app import cli
from app.core.embedded import to_async_url
from app.core.pagination import encode_cursor, order_by
from app.core.security import Role
from app.innovations.repository import SORTS, Filters, where_clauses
from bench import seed
from bench.baseline import APPLICATION_NAME as BASELINE_APP
from bench.baseline import Statement, serve_baseline
from bench.baseline_check import check
from bench.common import ROOT, connect, cpu_by_pid, cpu_seconds, cpu_used
from tests.harness import APPLICATION_NAME as SERVICE_APP
from tests.harness import Cluster, backend_pids, fresh_database, serve

RESULTS = ROOT / "bench" / "results"
# Bumped when bench/seed.py changes what it seeds: kept databases of another version are reseeded.
SEED_VERSION = 3
CONNECTIONS = 32
BATCH = 500
# Distinct batches per connection in bulk_ingest (see `draw_inputs`).
BATCH_ROUNDS = 4
# The writing scenarios run unmeasured first, in rounds of this many seconds, until a round is
# no more than 5% faster than the one before: timed runs on pages not yet in shared buffers
# measured the cold cache, not the app (bulk_ingest at 1M: 13 batches/s, 25 once warm).
PRIMED = {"report_post": 5.0, "bulk_ingest": 15.0, "mixed": 5.0}
PRIME_ROUNDS = 8
# A cluster for benchmarks: the data fit in memory, pg_stat_statements counts statements.
CLUSTER_SETTINGS = {
    "shared_buffers": "4GB", "effective_cache_size": "16GB", "maintenance_work_mem": "1GB",
    "max_wal_size": "16GB", "checkpoint_timeout": "30min", "max_connections": "300",
    "shared_preload_libraries": "pg_stat_statements", "pg_stat_statements.track": "top",
    "listen_addresses": "127.0.0.1",
}  # fmt: skip
# What every wrk script starts with: helpers, the seeding of its RNG, and the RESULT line.
LUA_COMMON = (ROOT / "bench" / "wrk.lua").read_text()
# What dashboards, maps and monitoring read (issue 32): figures over the whole data set. Open
# data: no key. Measured for the service only (a baseline twin would run the same SQL).
DASHBOARDS = (
    "/api/v1/stats/overview", "/api/v1/stats/provinces", "/api/v1/stats/replication-flows",
    "/api/v1/scaling/candidates", "/api/v1/scaling/candidates?province=33",
    "/api/v1/sustainability/due", "/api/v1/sustainability/due?province=33&include_total=true",
    "/api/v1/commitments?overdue=true&include_total=true",
    "/api/v1/innovations?q=stunting&include_total=true",
)  # fmt: skip
SERVICE_ONLY = ("dashboards",)
REQUESTS = {
    "read_by_id": "request = read",
    "list_keyset": 'request = function() return wrk.format("GET", pick(lists)) end',
    "list_keyset_deep": 'request = function() return wrk.format("GET", pick(deep_lists)) end',
    "search": 'request = function() return wrk.format("GET", pick(searches)) end',
    "report_post": "request = post",
    "bulk_ingest": """
for _, b in ipairs(batches) do local h = io.open(b[2], 'rb'); b[3] = h:read('*a'); h:close() end
local next_batch = math.random(#batches)
request = function()
  next_batch = next_batch % #batches + 1
  local b = batches[next_batch]
  return keyed("/api/v1/progress-reports/batch", b[1], b[3])
end""",
    "dashboards": 'request = function() return wrk.format("GET", pick(dashboards)) end',
    "mixed": """
request = function()
  local r = math.random(100)
  if r <= 80 then return read() end
  if r <= 95 then return wrk.format("GET", pick(lists)) end
  return post()
end""",
}
SCENARIOS = tuple(REQUESTS)
# Also measured at half the baseline's capacity (see `half_load`).
PACED = ("read_by_id", "search")
# What every report the scenarios send says besides its commitment, date and percentages.
REPORT_TEXT = {
    "narrative": "Pelaksanaan sesuai rencana aksi; sosialisasi ke puskesmas.",
    "evidence_urls": ["https://example.go.id/laporan.pdf"],
    "reported_by": "Bappeda",
}
LIST_FILTERS: list[tuple[dict[str, str], str]] = [
    ({"province": "32"}, "-launched_on"),
    ({"sector": "health"}, "-launched_on"),
    ({"province": "35", "sector": "education"}, "-launched_on"),
    ({"province": "33"}, "title"),
    ({"digital": "true"}, "-updated_at"),
]
# Commitments open to reports, up to 20,000 a province (with an action item of each), those
# already started first: a commitment's first report also moves it to in_progress, a one-off
# that the app measured first would pay and the other not (report_post takes 1,000 a province).
OPEN_COMMITMENTS = """
WITH open AS (
    SELECT c.id, c.adopter_province_code AS province, c.status = 'committed' AS unstarted,
           (SELECT min(a.id::text) FROM action_items a WHERE a.commitment_id = c.id) AS item
    FROM commitments c
    WHERE c.status <> 'cancelled' AND c.signed_on <= current_date
), ranked AS (
    SELECT *, row_number() OVER (PARTITION BY province ORDER BY unstarted, md5(id::text)) AS n
    FROM open WHERE item IS NOT NULL
)
SELECT id::text, province, item FROM ranked WHERE n <= 20000 ORDER BY province, n"""
# The statements pg_stat_statements counted in a database.
STATEMENTS = """
SELECT coalesce(sum(calls), 0) FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
WHERE d.datname = $1 AND s.query NOT LIKE '%pg_stat_statements%'"""
# The seed's summary, if it is of this size, seed version and migration.
SEEDED = """
SELECT summary FROM bench_seed
WHERE innovations = $1 AND version = $2 AND (SELECT version_num FROM alembic_version) = $3"""
# Each scenario's floor of the service's rate over the baseline's (1 worker).
RATIO_FLOORS = {"read_by_id": 0.6, "list_keyset": 0.6, "report_post": 0.5, "bulk_ingest": 0.5}
# How far the service's rate may move from the smallest size to the largest.
FLAT = {"read_by_id": 0.15, "list_keyset": 0.15, "list_keyset_deep": 0.15, "search": 0.15,
        "dashboards": 0.2}  # fmt: skip


def lua_list(values: Sequence[Any]) -> str:
    """A Lua table of strings, or of tables of strings (a JSON string is a Lua string)."""
    items = (lua_list(v) if isinstance(v, tuple) else json.dumps(v) for v in values)
    return "{" + ",".join(items) + "}"


def report(item_id: str, as_of: str, percent: int | str, progress: int | str) -> dict[str, Any]:
    updates = [{"item_id": item_id, "progress": progress}]
    return {"as_of": as_of, "percent_complete": percent, "item_updates": updates, **REPORT_TEXT}


def report_body(item_id: str, as_of: str) -> str:
    """A report's JSON with two `%d` for Lua's string.format: percentage and item progress."""
    body = json.dumps(report(item_id, as_of, "%d", "%d"), separators=(",", ":"))
    return body.replace('"%d"', "%d")


@dataclass
class Inputs:
    """What the scenarios send, drawn from the seeded data."""

    ids: list[str]
    lists: list[str]
    deep_lists: list[str]
    searches: list[str]
    posts: list[tuple[str, str, str]]  # (path, key, body template with two %d)
    batches: list[tuple[str, Path]]  # (key, body file)


def lua_script(scenario: str, inputs: Inputs, delay_ms: float | None = None) -> str:
    """The wrk script of `scenario`; with `delay_ms`, paced: each connection waits a random
    (exponential) time of that mean between its requests."""
    tables = {**vars(inputs), "batches": [(k, str(f)) for k, f in inputs.batches]}
    data = "\n".join(f"local {name} = {lua_list(v)}" for name, v in tables.items())
    data += f"""
local dashboards = {lua_list(DASHBOARDS)}
local function read() return wrk.format("GET", "/api/v1/innovations/" .. pick(ids)) end
local function post()
  local p = pick(posts)
  return keyed(p[1], p[2], string.format(p[3], math.random(0, 100), math.random(0, 100)))
end"""
    pace = f"delay = function() return math.floor(-math.log(1 - math.random()) * {delay_ms}) end"
    return "\n".join((LUA_COMMON, data, REQUESTS[scenario], "" if delay_ms is None else pace))


async def _statements(url: URL) -> float | None:
    """The statements pg_stat_statements counted in `url`'s database since the last call, which
    starts the count again (None without the extension)."""
    async with connect(url) as conn:
        try:
            value = await conn.fetchval(STATEMENTS, url.database)
            await conn.execute("SELECT pg_stat_statements_reset()")
        except asyncpg.PostgresError:
            return None
    return float(value)


def wrk(base: str, script: Path, seconds: float) -> dict[str, Any]:
    args = [f"-c{CONNECTIONS}", f"-d{max(1, round(seconds))}s", "--timeout", "10s"]
    command = ["wrk", "-t1", *args, "-s", str(script), base]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    return dict(json.loads(line.removeprefix("RESULT ")))


def _until_none(url: URL, count: str, *args: Any, seconds: float, late: str) -> None:
    """Poll `count` (a `SELECT count(*)`) until it is 0; after `seconds` print `late`."""

    async def poll() -> None:
        async with connect(url) as conn, asyncio.timeout(seconds):
            while True:
                if not await conn.fetchval(count, *args):
                    return
                await asyncio.sleep(0.05)

    try:
        asyncio.run(poll())
    except TimeoutError:
        print(f"    {late}", flush=True)


def drained(url: URL, app: str) -> None:
    """Wait (up to a minute) until none of `app`'s sessions is busy: wrk stops at its time, not
    when its requests are answered, and 32 batches of 500 reports may run on for seconds,
    holding the machine and the locks the next run would wait for."""
    busy = "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND application_name = $2"
    busy += " AND state <> 'idle'"
    _until_none(url, busy, url.database, app, seconds=60, late=f"{app} still busy after a minute")


def settled(url: URL) -> None:
    """Let the database catch up on earlier scenarios' writes, which the checkpointer and
    autovacuum would otherwise work off during the next one (reads paced at half load after
    the writing ones had a p99 of 65.6 ms at 1M, against 8.7 ms alone): the dashboards' tally
    deltas folded, as a running service does every `TALLY_COMPACT_SECONDS` (a fresh one first
    after that long), a CHECKPOINT (when the role may), then a wait (up to five minutes) for
    autovacuum to finish."""

    async def checkpoint() -> None:
        async with connect(url) as conn:
            await conn.execute("SELECT compact_tallies()")
            with contextlib.suppress(asyncpg.InsufficientPrivilegeError):
                await conn.execute("CHECKPOINT")

    asyncio.run(checkpoint())
    vacuuming = "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'"
    _until_none(url, vacuuming, seconds=300, late="autovacuum still running after five minutes")


def measure(
    base: Any, app: str, url: URL, script: Path, warmup: float, seconds: float
) -> dict[str, Any]:
    """A warm-up, then a timed run of `script` against `app` at `base`, and its figures
    (`status_errors`: the errors that were responses other than 2xx, not lost connections)."""
    wrk(base, script, warmup)
    drained(url, app)
    asyncio.run(_statements(url))  # counting from here
    app_cpu, db_before = cpu_seconds(base.pids), cpu_by_pid(asyncio.run(backend_pids(url, app)))
    result = wrk(base, script, seconds)
    # The backends at the end too: a pool may open a connection during the run.
    ended = asyncio.run(backend_pids(url, app))
    app_cpu, db_cpu = cpu_seconds(base.pids) - app_cpu, cpu_used(db_before, ended)
    drained(url, app)
    statements = asyncio.run(_statements(url))
    n = max(result["requests"], 1)
    return {
        "requests_per_s": result["requests"] / (result["duration_us"] / 1e6),
        "p50_ms": result["p50_us"] / 1000,
        "p99_ms": result["p99_us"] / 1000,
        **{k: result[k] for k in ("errors", "status_errors", "requests")},
        "app_cpu_ms": app_cpu / n * 1000,
        "db_cpu_ms": db_cpu / n * 1000,
        "statements": None if statements is None else statements / n,
        "bytes_per_response": result["bytes"] / n,
    }


def prime(base: Any, app: str, url: URL, script: Path, seconds: float) -> str:
    """Run `script` unmeasured until the rate settles (see `PRIMED`); the rates, for the log."""
    rates: list[float] = []
    for _ in range(PRIME_ROUNDS):
        result = wrk(base, script, seconds)
        drained(url, app)
        rates.append(result["requests"] / (result["duration_us"] / 1e6))
        if len(rates) > 1 and rates[-1] <= rates[-2] * 1.05:
            break
    return f"{app} " + ", ".join(f"{r:,.0f}" for r in rates) + " req/s"


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in runs[0]:
        values = [r[name] for r in runs]
        if name in ("errors", "status_errors", "requests"):
            out[name] = sum(values)
        elif any(v is None for v in values):
            out[name] = None
        else:
            out[name] = round(statistics.median(values), 3)
    out["runs"] = [round(r["requests_per_s"], 1) for r in runs]
    return out


@contextlib.contextmanager
def bench_server() -> Iterator[URL]:
    """BENCH_DATABASE_URL's server, or the benchmarks' own cluster, stopped after the block."""
    configured = os.environ.get("BENCH_DATABASE_URL")
    if configured:
        yield to_async_url(configured)
        return
    cluster = Cluster(root=ROOT / ".data" / "bench-pg", settings=CLUSTER_SETTINGS)
    if (cluster.pgdata / "postmaster.pid").exists():  # left running by an interrupted run
        with contextlib.suppress(Exception):
            cluster.stop("fast")
    cluster.start()
    try:
        yield cluster.url
    finally:
        cluster.stop()


async def _seeded(url: URL, innovations: int) -> dict[str, Any] | None:
    """The summary a previous run stored in the database, if it seeded the same size with this
    seed version at the current migration (a newer schema is seeded again, with its indexes)."""
    head = ScriptDirectory(str(ROOT / "alembic")).get_current_head()
    try:
        async with connect(url) as conn:
            row = await conn.fetchval(SEEDED, innovations, SEED_VERSION, head)
    except (asyncpg.PostgresError, OSError):  # no such database, or not seeded
        return None
    return None if row is None else dict(json.loads(row))


async def _remember(url: URL, innovations: int, summary: dict[str, Any]) -> None:
    async with connect(url) as conn:
        await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        await conn.execute("CREATE TABLE bench_seed (innovations int, version int, summary text)")
        row = (innovations, SEED_VERSION, json.dumps(summary, default=str))
        await conn.execute("INSERT INTO bench_seed VALUES ($1, $2, $3)", *row)


def dataset(server: URL, innovations: int, reseed: bool) -> tuple[URL, dict[str, Any]]:
    """The kept database of `innovations` on `server` (seeded if need be), and its summary."""
    url = server.set(database=f"inovasi_bench_{innovations}")
    summary = None if reseed else asyncio.run(_seeded(url, innovations))
    if summary is not None:
        print(f"  reusing the seeded database {url.database}", flush=True)
        return url, summary
    print(f"  seeding {innovations:,} innovations into {url.database} …", flush=True)
    url = fresh_database(server, url.database or "")
    summary = asyncio.run(seed.seed(url, innovations))
    asyncio.run(_remember(url, innovations, summary))
    print(f"  seeded in {summary.get('seconds', 0):.0f} s", flush=True)
    return url, summary


def _query(stmt: Any) -> list[Any]:
    """A statement's SQL and its arguments, for asyncpg."""
    query = Statement(stmt)
    return [query.sql, *query.args({})]


def _page(query: dict[str, str]) -> str:
    return "/api/v1/innovations?" + urllib.parse.urlencode(query)


async def _lists(conn: asyncpg.Connection) -> tuple[list[str], list[str]]:
    """The first pages of `LIST_FILTERS`, and pages at a cursor in their last 10% of rows."""
    lists, deep = [], []
    for params, sort in LIST_FILTERS:
        query = {**params, "sort": sort, "limit": "50"}
        lists.append(_page(query))
        values = {k: v == "true" if k == "digital" else v for k, v in params.items()}
        where = where_clauses(Filters(**values, published_only=True))
        total = await conn.fetchval(*_query(select(func.count()).where(*where)))
        keys = SORTS[sort]
        stmt = select(*[k.column for k in keys]).where(*where).order_by(*order_by(keys))
        row = await conn.fetchrow(*_query(stmt.offset(int(total * 0.9)).limit(1)))
        if row is not None:
            query["cursor"] = encode_cursor(sort, list(row.values()))
            deep.append(_page(query))
    return lists, deep


async def draw_inputs(url: URL, workdir: Path, rng: random.Random) -> Inputs:
    """The scenarios' requests on the seeded database `url` (the batches' bodies written under
    `workdir`; the integration keys they post with created)."""
    async with connect(url) as conn:
        sample = "SELECT id::text FROM innovations TABLESAMPLE SYSTEM ($1) REPEATABLE (7)"
        sample += " WHERE status = 'published' LIMIT 5000"
        ids = [r[0] for r in await conn.fetch(sample, 5.0)]
        if len(ids) < 1000:  # a small data set: every published innovation
            ids = [r[0] for r in await conn.fetch(sample, 100.0)]
        lists, deep = await _lists(conn)
        rows = await conn.fetch(OPEN_COMMITMENTS)
    terms = [term for terms in seed.SEARCH_TERMS.values() for term in terms]
    searches = [_page({"q": term, "limit": "20"}) for term in terms]
    by_province: dict[str, list[tuple[str, str]]] = {}
    for r in rows:
        by_province.setdefault(r["province"], []).append((r["id"], r["item"]))
    # Report posts: the eight largest provinces' integration keys, each on its own commitments.
    provinces = sorted(by_province, key=lambda p: -len(by_province[p]))[:8]
    # Batches are disjoint, as different provinces' systems (or one's successive submissions)
    # would send them: with only as many batches as connections, a batch came round again
    # while its previous sending still held its commitments' locks, and waited on it. Up to
    # BATCH_ROUNDS batches a connection, as far as they stay disjoint.
    open_commitments = {p: len(c) for p, c in by_province.items()}
    disjoint = sum(n // BATCH for n in open_commitments.values())
    wanted = max(CONNECTIONS, min(BATCH_ROUNDS * CONNECTIONS, disjoint))
    shares = _batch_shares(open_commitments, wanted)
    keyed = dict.fromkeys([*provinces, *shares])
    keys = {p: await asyncio.to_thread(_quiet_key, url, p) for p in keyed}
    today = date.today().isoformat()
    posts = [
        (f"/api/v1/commitments/{cid}/progress-reports", keys[p], report_body(item, today))
        for p in provinces
        for cid, item in by_province[p][:1000]
    ]
    queues: dict[str, list[tuple[str, Path]]] = {}
    for province, count in shares.items():
        pool = list(by_province[province])
        rng.shuffle(pool)
        for n in range(count):
            chosen = [pool[(n * BATCH + k) % len(pool)] for k in range(BATCH)]
            reports = [
                {
                    "commitment_id": cid,
                    **report(item, today, rng.randint(0, 100), rng.randint(0, 100)),
                }
                for cid, item in chosen
            ]
            path = workdir / f"batch-{province}-{n}.json"
            path.write_text(json.dumps({"reports": reports}))
            queues.setdefault(province, []).append((keys[province], path))
    # Interleaved, so that consecutive batches are of different provinces.
    batches = [b for round_ in itertools.zip_longest(*queues.values()) for b in round_ if b]
    rng.shuffle(ids)
    return Inputs(ids, lists, deep, searches, posts, batches)


def _batch_shares(open_commitments: dict[str, int], batches: int) -> dict[str, int]:
    """How many of `batches` batches each province posts: one per BATCH open commitments it
    has (so that they are disjoint), handed out in turn, largest province first; when the
    provinces have too few for that, the rest go in turn to the largest eight."""
    order = sorted(open_commitments, key=lambda p: (-open_commitments[p], p))
    shares: dict[str, int] = {}
    left = batches
    while left:
        room = [p for p in order if shares.get(p, 0) < open_commitments[p] // BATCH]
        for province in room or order[:8]:
            if not left:
                break
            shares[province] = shares.get(province, 0) + 1
            left -= 1
    return shares


def _quiet_key(url: URL, province: str) -> str:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return cli.create_key(url, f"bench integration {province}", Role.integration, province)


@dataclass
class Plan:
    sizes: list[int]
    workers: list[int]
    scenarios: list[str]
    pairs: int
    seconds: float
    warmup: float
    two_worker_sizes: list[int] = field(default_factory=list)


def parity(url: URL, service: str, baseline: str, inputs: Inputs) -> list[str]:
    """Where the baseline answers the scenarios' requests unlike the service: reads of 20
    innovations, every list and search, a report and a batch (see bench/baseline_check.py)."""
    reads = [f"/api/v1/innovations/{i}" for i in inputs.ids[:20]]
    reads += inputs.lists + inputs.deep_lists + inputs.searches
    post, batch = inputs.posts[0], inputs.batches[0]
    return asyncio.run(check(url, service, baseline, reads, post, batch))


def bench_size(server: URL, size: int, plan: Plan, reseed: bool, workdir: Path) -> dict[str, Any]:
    url, summary = dataset(server, size, reseed)
    inputs = asyncio.run(draw_inputs(url, workdir, random.Random(size)))
    scripts = {scenario: workdir / f"{size}-{scenario}.lua" for scenario in plan.scenarios}
    for scenario, script in scripts.items():
        script.write_text(lua_script(scenario, inputs))
    out: dict[str, Any] = {"innovations": size, "data": summary, "workers": {}}
    for workers in plan.workers:
        if workers > 1 and plan.two_worker_sizes and size not in plan.two_worker_sizes:
            continue
        results: dict[str, Any] = {}
        with (
            serve(url, workers=workers, env={"LOG_LEVEL": "INFO"}) as service,
            serve_baseline(url, workers=workers) as raw,
        ):
            if differences := parity(url, service, raw, inputs):
                raise SystemExit("service and baseline differ:\n" + "\n".join(differences[:10]))
            print(f"  {workers} worker(s): the baseline answers as the service does", flush=True)
            apps = ((service, SERVICE_APP), (raw, BASELINE_APP))
            for scenario in plan.scenarios:
                row = results[scenario] = run_pairs(apps, url, scenario, scripts[scenario], plan)
                if workers == 1 and scenario in PACED:
                    # Measured straight after the scenario itself, before any writing one.
                    rate = row["baseline"]["requests_per_s"]
                    half = half_load(service, url, inputs, workdir, scenario, rate, plan)
                    results[f"{scenario}_half_load"] = half
        out["workers"][str(workers)] = results
    return out


def run_pairs(
    apps: Sequence[tuple[Any, str]], url: URL, scenario: str, script: Path, plan: Plan
) -> dict[str, Any]:
    """`scenario` on a settled database: primed if it writes, then `plan.pairs` runs of the
    service and the baseline, interleaved (which goes first alternates), and their medians."""
    settled(url)
    if scenario in SERVICE_ONLY:
        apps = apps[:1]
    if scenario in PRIMED:
        rounds = [prime(base, app, url, script, PRIMED[scenario]) for base, app in apps]
        print(f"    {scenario:<18} primed: {'; '.join(rounds)}", flush=True)
    runs: dict[str, list[dict[str, Any]]] = {n: [] for n in ("service", "baseline")[: len(apps)]}
    for n in range(plan.pairs):
        order = list(zip(runs, apps, strict=True))
        for name, (base, app) in reversed(order) if n % 2 else order:
            runs[name].append(measure(base, app, url, script, plan.warmup, plan.seconds))
    row = {name: median_run(r) for name, r in runs.items()}
    s, b = row["service"], row.setdefault("baseline", None)
    # None when the baseline completed no request or is not measured.
    row["ratio"] = (
        round(s["requests_per_s"] / b["requests_per_s"], 3) if b and b["requests"] else None
    )
    if scenario == "bulk_ingest":
        for name in runs:
            row[name]["reports_per_s"] = round(row[name]["requests_per_s"] * BATCH)
    base = f"{b['requests_per_s']:>8,.0f}/s p99 {b['p99_ms']:6.1f} ms" if b else "–"
    print(
        f"    {scenario:<18} service {s['requests_per_s']:>8,.0f}/s p99 {s['p99_ms']:6.1f} ms | "
        f"baseline {base} | ratio {_ratio_text(row['ratio'])} | errors {s['errors']}/"
        f"{b['errors'] if b else '–'}",
        flush=True,
    )
    return row


def half_load(
    service: Any, url: URL, inputs: Inputs, workdir: Path, scenario: str, rate: float, plan: Plan
) -> dict[str, Any]:
    """The service's latency in `scenario` at half the baseline's capacity (`rate`): when it is
    not saturated (a closed loop's p99 at 32 connections is mostly the queue of 32)."""
    target = rate / 2
    delay = CONNECTIONS / target * 1000
    script = workdir / f"half-{scenario}.lua"
    for _ in range(3):  # pace, then correct for the time each request itself takes
        script.write_text(lua_script(scenario, inputs, delay_ms=delay))
        run = measure(service, SERVICE_APP, url, script, plan.warmup, plan.seconds)
        if abs(run["requests_per_s"] - target) / target < 0.05:
            break
        delay *= run["requests_per_s"] / target
    print(
        f"    {scenario} at half the baseline's capacity: {run['requests_per_s']:,.0f} req/s, "
        f"p50 {run['p50_ms']:.1f} ms, p99 {run['p99_ms']:.1f} ms",
        flush=True,
    )
    return {**run, "target_requests_per_s": round(target, 1)}


def _ratio_text(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def describe_machine(server: URL) -> dict[str, Any]:
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    models = [line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")]
    kb = int(Path("/proc/meminfo").read_text().split()[1])

    async def version() -> str:
        async with connect(server) as conn:
            return str(await conn.fetchval("SHOW server_version"))

    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout  # noqa: S607
    wrk_name = (wrk_version.splitlines() or ["wrk"])[0]
    return {
        "cpu": models[0] if models else platform.machine(),
        "cores": os.cpu_count(),
        "memory": f"{kb / 1024 / 1024:.0f} GiB",
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "postgresql": asyncio.run(version()),
        "load_generator": f"{wrk_name}, 1 thread, {CONNECTIONS} connections",
    }


def markdown(report: dict[str, Any]) -> str:
    m = report["machine"]
    lines = [
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory']}, {m['os']}; "
        f"PostgreSQL {m['postgresql']}; Python {m['python']}; {m['load_generator']}.",
        "",
        "| rows | workers | scenario | service req/s | p50 ms | p99 ms | baseline req/s | "
        "p50 ms | p99 ms | ratio | errors | app CPU ms/req | PostgreSQL CPU ms/req | "
        "SQL/req (service, baseline) |",
        "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]

    for size in report["sizes"]:
        rows = f"{size['innovations']:,}"
        for workers, results in size["workers"].items():
            for scenario, row in results.items():
                if scenario.endswith("_half_load"):
                    continue
                s, b = row["service"], row["baseline"] or {}  # none: service only

                def num(x: dict[str, Any], key: str, form: str = ".1f") -> str:
                    return "–" if x.get(key) is None else format(x[key], form)

                rate, base_rate = num(s, "requests_per_s", ",.0f"), num(b, "requests_per_s", ",.0f")
                if scenario == "bulk_ingest":
                    rate += f" ({s['reports_per_s']:,} reports/s)"
                    base_rate += f" ({b['reports_per_s']:,} reports/s)"
                lines.append(
                    f"| {rows} | {workers} | {scenario} | {rate} | {num(s, 'p50_ms')} | "
                    f"{num(s, 'p99_ms')} | {base_rate} | {num(b, 'p50_ms')} | {num(b, 'p99_ms')} | "
                    f"{_ratio_text(row['ratio'])} | {s['errors']}/{num(b, 'errors', 'd')} | "
                    f"{num(s, 'app_cpu_ms', '.2f')} / {num(b, 'app_cpu_ms', '.2f')} | "
                    f"{num(s, 'db_cpu_ms', '.2f')} / {num(b, 'db_cpu_ms', '.2f')} | "
                    f"{num(s, 'statements')}, {num(b, 'statements')} |"
                )
            for scenario in PACED:
                if half := results.get(f"{scenario}_half_load"):
                    lines.append(
                        f"| {rows} | {workers} | {scenario} at half the baseline's capacity "
                        f"({half['target_requests_per_s']:,.0f}/s) | "
                        f"{half['requests_per_s']:,.0f} | {half['p50_ms']:.1f} | "
                        f"{half['p99_ms']:.1f} | | | | | {half['errors']} | "
                        f"{half['app_cpu_ms']:.2f} | {half['db_cpu_ms']:.2f} | |"
                    )
    lines += ["", "Data sets:", ""]
    for size in report["sizes"]:
        data = size["data"]
        counts = ", ".join(f"{k} {v:,}" for k, v in data.get("rows", {}).items())
        total = data.get("database_bytes", 0) / 2**30
        lines.append(f"- {size['innovations']:,} innovations: {total:.2f} GiB; {counts}")
    return "\n".join(lines)


def targets(report: dict[str, Any]) -> list[str]:
    """The targets, each with its figure and whether it is met. For the throughput ones also
    the CPU a request costs each app (its own and its PostgreSQL backends') and the rate at
    which that keeps every core busy: a ceiling no change of latency or concurrency passes."""
    out = []
    cores = report["machine"]["cores"]

    def target(name: str, ok: bool, figure: str) -> None:
        out.append(f"{'met   ' if ok else 'MISSED'} {name}: {figure}")

    def ceiling(label: str, scenario: str, row: dict[str, Any], unit: str, per: int = 1) -> None:
        costs = []
        for app in ("service", "baseline"):
            own, db = row[app]["app_cpu_ms"], row[app]["db_cpu_ms"]
            most = cores * 1000 / (own + db) * per
            costs.append(f"{app} {own:.1f} + {db:.1f} ms (at most {most:,.0f} {unit})")
        where = f"on {cores} cores ({label})"
        out.append(
            f"info   {scenario} CPU a request, app + PostgreSQL, {where}: {', '.join(costs)}"
        )

    sizes = report["sizes"]
    for size in sizes:
        one = size["workers"].get("1", {})
        label = f"{size['innovations']:,}"
        for scenario, floor in RATIO_FLOORS.items():
            value = one.get(scenario, {}).get("ratio")
            if value is not None:
                target(f"{scenario} ≥ {floor} ({label})", value >= floor, f"{value:.2f}")
        if "bulk_ingest" in one:
            rate = one["bulk_ingest"]["service"]["reports_per_s"]
            target(f"bulk_ingest ≥ 30,000 reports/s ({label})", rate >= 30_000, f"{rate:,}")
            ceiling(label, "bulk_ingest", one["bulk_ingest"], "reports/s", BATCH)
        if "search" in one and size["innovations"] >= 1_000_000:
            p99 = one["search"]["service"]["p99_ms"]
            target(f"search p99 ≤ 50 ms at 1M ({label})", p99 <= 50, f"{p99:.1f} ms")
            ceiling(label, "search", one["search"], "req/s")
        if "list_keyset" in one and "list_keyset_deep" in one:
            first = one["list_keyset"]["service"]["requests_per_s"]
            deep = one["list_keyset_deep"]["service"]["requests_per_s"]
            name = f"deep cursor as fast as the first page ({label})"
            target(name, deep >= 0.9 * first, f"{deep:,.0f} vs {first:,.0f} req/s")
        if half := one.get("read_by_id_half_load"):
            p99, name = half["p99_ms"], "read p99 ≤ 15 ms at half the baseline's capacity"
            target(f"{name} ({label})", p99 <= 15, f"{p99:.1f} ms")
    if len(sizes) > 1:
        small, large = sizes[0]["workers"].get("1", {}), sizes[-1]["workers"].get("1", {})
        for scenario, within in FLAT.items():
            if scenario in small and scenario in large:
                a = small[scenario]["service"]["requests_per_s"]
                b = large[scenario]["service"]["requests_per_s"]
                name = f"{scenario} {sizes[0]['innovations']:,} → {sizes[-1]['innovations']:,}"
                figure = f"{a:,.0f} → {b:,.0f} req/s ({(b - a) / a:+.0%})"
                target(f"{name} within ±{within:.0%}", abs(b - a) / a <= within, figure)
    return out


def _ints(text: str) -> list[int]:
    return [int(n) for n in text.split(",")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="10k, 100k and 1M; 1 and 2 workers")
    parser.add_argument("--sizes", type=_ints, help="comma-separated numbers of innovations")
    parser.add_argument("--workers", type=_ints, help="comma-separated worker counts")
    parser.add_argument("--scenarios", help=f"comma-separated, of {', '.join(SCENARIOS)}")
    parser.add_argument("--pairs", type=int, help="interleaved service/baseline pairs")
    parser.add_argument("--seconds", type=float, help="timed run length")
    parser.add_argument("--reseed", action="store_true", help="seed again even if kept")
    parser.add_argument("--output", default=str(RESULTS / "latest.json"))
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: `make bench` installs it (apt-get install wrk)")
    if args.full:
        plan = Plan([10_000, 100_000, 1_000_000], [1, 2], list(SCENARIOS), 3, 10, 3, [1_000_000])
    else:
        plan = Plan([10_000], [1], list(SCENARIOS), 1, 5, 2)
    for name in ("sizes", "workers", "pairs", "seconds"):
        setattr(plan, name, getattr(args, name) or getattr(plan, name))
    plan.scenarios = args.scenarios.split(",") if args.scenarios else plan.scenarios
    if unknown := set(plan.scenarios) - set(SCENARIOS):
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")

    with bench_server() as server:
        started = time.monotonic()
        report: dict[str, Any] = {
            "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": " ".join(["python -m bench.run", *sys.argv[1:]]),
            "machine": describe_machine(server),
            "plan": asdict(plan),
            "primed": {"round_s": PRIMED, "rounds_max": PRIME_ROUNDS},
            "sizes": [],
        }
        with tempfile.TemporaryDirectory(prefix="inovasi-bench-") as tmp:
            for size in plan.sizes:
                print(f"{size:,} innovations", flush=True)
                report["sizes"].append(bench_size(server, size, plan, args.reseed, Path(tmp)))
        report["targets"] = targets(report)
        report["seconds"] = round(time.monotonic() - started)
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(f"\n{markdown(report)}\n")
    print("\n".join(report["targets"]))
    print(f"\nwritten to {output}")


if __name__ == "__main__":
    main()
