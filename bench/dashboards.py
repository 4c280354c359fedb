"""The dashboards' reads one request at a time: `python -m bench.dashboards [--sizes 10000,100000]
[--against REV]`.

For each size, on the database `bench.run` keeps and one worker of the service on an otherwise
idle machine: each read of `bench.run.DASHBOARDS` once to warm up, then `--requests` times in
turn (the median of the first three, the p99 of all), and the export of every innovation (the
median of `--exports`). With `--against REV` the same with the service of REV (its files from
`git archive`) on the same databases, side by side: the migrations since only add tables and
triggers, which older code does not read. Figures go to bench/results/dashboards.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy.engine import URL

from bench import run
from bench.common import EXPORT, ROOT, download
from tests.harness import serve


def measure(url: URL, cwd: Path, requests: int, exports: int) -> dict[str, dict[str, float]]:
    """Each endpoint's median and p99 in ms; the export's seconds and MB."""
    out: dict[str, dict[str, float]] = {}
    with serve(url, workers=1, cwd=cwd) as base, httpx.Client(base_url=base, timeout=900) as c:
        for path in run.DASHBOARDS:
            download(c, path)
            ms = [download(c, path)[0] * 1000 for _ in range(requests)]
            first3 = statistics.median(ms[:3])  # in the order they ran
            p99 = sorted(ms)[-(-99 * len(ms) // 100) - 1]  # nearest rank: the largest of < 100
            out[path] = {"median_ms": round(first3, 1), "p99_ms": round(p99, 1)}
            print(f"    {path:<58} {cell(out[path])}", flush=True)
        runs = [download(c, EXPORT) for _ in range(exports)]
        seconds = statistics.median(s for s, _ in runs)
        out[EXPORT] = {"seconds": round(seconds, 2), "mb": round(runs[0][1] / 1e6, 1)}
        print(f"    {EXPORT:<58} {cell(out[EXPORT])}", flush=True)
    return out


def cell(f: dict[str, float]) -> str:
    if "seconds" in f:
        return f"{f['seconds']:,.2f} s, {f['mb']:,.1f} MB ({f['mb'] / f['seconds']:,.1f} MB/s)"
    return f"{f['median_ms']:,.1f} ms (p99 {f['p99_ms']:,.1f})"


def markdown(columns: dict[str, dict[str, dict[str, float]]]) -> str:
    """The issue's table: an endpoint a row, a size (before and after) a column."""
    lines = [f"| endpoint | {' | '.join(columns)} |", "|---|" + "---:|" * len(columns)]
    for path in [*run.DASHBOARDS, EXPORT]:
        name = f"`{path.removeprefix('/api/v1')}`" + (" (all)" if path == EXPORT else "")
        lines.append(f"| {name} | {' | '.join(cell(c[path]) for c in columns.values())} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=run._ints, default=[10_000], help="innovations")
    parser.add_argument("--against", help="a git revision to measure on the same databases")
    parser.add_argument("--requests", type=int, default=20, help="timed requests an endpoint")
    parser.add_argument("--exports", type=int, default=3, help="timed exports")
    parser.add_argument("--output", default=str(run.RESULTS / "dashboards.json"))
    args = parser.parse_args()
    columns: dict[str, dict[str, dict[str, float]]] = {}
    with run.bench_server() as server:
        report = {"generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
                  "command": " ".join(["python -m bench.dashboards", *sys.argv[1:]]),
                  "columns": columns}  # fmt: skip
        report["machine"] = run.describe_machine(server)
        with tempfile.TemporaryDirectory(prefix="inovasi-dashboards-") as tmp:
            if args.against:  # REV's files, without touching the repository
                tar = ["git", "archive", "--format=tar", args.against]
                archive = subprocess.run(tar, cwd=ROOT, capture_output=True, check=True).stdout  # noqa: S603
                subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)  # noqa: S603, S607
            for size in args.sizes:
                print(f"{size:,} innovations", flush=True)
                url, _ = run.dataset(server, size, reseed=False)
                for rev, cwd in ((args.against, Path(tmp)), ("this tree", ROOT)):
                    if rev:
                        print(f"  the service of {rev}", flush=True)
                        label = f"{size:,} ({rev})" if args.against else f"{size:,}"
                        columns[label] = measure(url, cwd, args.requests, args.exports)
    Path(args.output).write_text(json.dumps(report, indent=2) + "\n")
    print(
        f"\nOne request at a time, 1 worker: median of the first 3 of {args.requests} requests "
        f"(p99 of all {args.requests}); the export: median of {args.exports}.\n"
    )
    print(markdown(columns))
    print(f"\nwritten to {args.output}")


if __name__ == "__main__":
    main()
