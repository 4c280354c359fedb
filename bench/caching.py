"""Conditional GETs against full ones: `python -m bench.caching` (10k innovations, 1 worker).

On records (`GET /innovations/{id}`, 2,000 of them) and on `/stats/overview`: the full GET and
the one with its ETag in `If-None-Match` (a 304), interleaved in `--pairs` pairs under
`bench.run`'s load: requests/s, p50, p99, CPU and bytes per response (status line and headers
included), to `bench/results/caching.json` and a table on stdout.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench import run
from tests.harness import serve


def scripts(base: str, ids: list[str], workdir: Path) -> dict[str, Path]:
    """The wrk script of each case; the ETags are read from the service first."""
    with httpx.Client(base_url=base) as client:
        records = [(path, client.get(path)) for path in (f"/api/v1/innovations/{i}" for i in ids)]
        stats = client.get("/api/v1/stats/overview")
        for path, full in [*records, ("/api/v1/stats/overview", stats)]:
            again = client.get(path, headers={"If-None-Match": full.headers["ETag"]})
            if (full.status_code, again.status_code) != (200, 304):
                raise SystemExit(f"{path}: {full.status_code}, then {again.status_code}")
    tagged = run.lua_list([(path, r.headers["ETag"]) for path, r in records])
    requests = {
        "record": 'request = function() return wrk.format("GET", pick(records)[1]) end',
        "record_304": "request = function() local r = pick(records)\n"
        '  return wrk.format("GET", r[1], {["If-None-Match"] = r[2]}) end',
        "stats": 'request = function() return wrk.format("GET", "/api/v1/stats/overview") end',
        "stats_304": 'request = function() return wrk.format("GET", "/api/v1/stats/overview",'
        f' {{["If-None-Match"] = {json.dumps(stats.headers["ETag"])}}}) end',
    }
    out = {}
    for case, request in requests.items():
        out[case] = workdir / f"{case}.lua"
        out[case].write_text("\n".join((run.LUA_COMMON, f"local records = {tagged}", request)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10_000, help="innovations")
    parser.add_argument("--pairs", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--output", default=str(run.RESULTS / "caching.json"))
    args = parser.parse_args()
    with run.bench_server() as server:
        report: dict[str, Any] = {"generated_at": datetime.now(UTC).isoformat(timespec="seconds")}
        report["machine"] = run.describe_machine(server)
        url, _ = run.dataset(server, args.size, reseed=False)
        with (
            tempfile.TemporaryDirectory(prefix="inovasi-caching-") as tmp,
            serve(url, workers=1) as service,
        ):
            ids = run.asyncio.run(run.draw_inputs(url, Path(tmp), run.random.Random(1))).ids
            paths = scripts(service, ids[:2000], Path(tmp))
            runs: dict[str, list[dict[str, Any]]] = {case: [] for case in paths}
            for n in range(args.pairs):
                for case in reversed(paths) if n % 2 else paths:
                    figures = run.measure(
                        service, run.SERVICE_APP, url, paths[case], 2, args.seconds
                    )
                    runs[case].append(figures)
        report["results"] = {case: run.median_run(r) for case, r in runs.items()}
    print(f"\n{args.size:,} innovations, 1 worker, median of {args.pairs} runs\n")
    print("| request | req/s | p50 ms | p99 ms | app CPU ms | bytes a response |")
    print("|---|---:|---:|---:|---:|---:|")
    for case, r in report["results"].items():
        print(
            f"| {case} | {r['requests_per_s']:,.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | "
            f"{r['app_cpu_ms']:.2f} | {r['bytes_per_response']:,.0f} |"
        )
    Path(args.output).write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(f"\nwritten to {args.output}")


if __name__ == "__main__":
    main()
