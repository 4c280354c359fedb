"""Where the database time of a scenario goes: a CPU profile of the app's PostgreSQL backends.

`python -m bench.profile [--innovations N] [--scenario S] [--app service|baseline] [--seconds N]`

On the benchmark database of that size that `bench.run` seeds and keeps (seeded first when
missing), the app (1 worker) carries the scenario's load as in `bench.run` (wrk, 32
connections): a warm-up, then a timed run, during which `perf record` samples the app's
PostgreSQL backends with their call stacks. Prints the run's figures as `bench.run` measures
them, then the functions that took the most of the backends' CPU: by their own samples, and
with what they call (the executor's nodes, triggers, index and buffer work, and the kernel's
share: page faults, reads and writes). Needs `perf` (Debian's linux-perf) and the right to
sample other processes (root, or kernel.perf_event_paranoid ≤ 1).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from bench.baseline import serve_baseline
from bench.common import backend_pids, serve
from bench.run import (
    BASELINE_APP,
    SCENARIOS,
    SERVICE_APP,
    bench_server,
    dataset,
    drained,
    draw_inputs,
    lua_script,
    measure,
    settled,
    wrk,
)

# A line of `perf report --stdio -g none`: the share(s), then `[.]` (user) or `[k]` (kernel).
ROW = re.compile(r"^\s+(?P<shares>[\d.]+%(?:\s+[\d.]+%)?)\s+\[(?P<ring>[.k])\]\s+(?P<name>\S+)")
# Frames under which a backend does everything (its main loop, the portal, the executor's entry,
# pg_stat_statements' hooks, the system call entry): with their callees they hold ~100%.
WRAPPERS = re.compile(
    r"^(_start|main|__libc_start\w*|PostmasterMain|ServerLoop\S*|postmaster_child_launch|"
    r"BackendMain|PostgresMain|exec_\w+_message|exec_simple_query|Portal\w+|ProcessQuery|"
    r"FillPortalStore|standard_Executor\w+|Executor\w+|pgss_\w+|entry_SYSCALL\w*|do_syscall_64)$"
)


def report(data: Path, children: bool) -> str:
    """`perf report` of `data`, one line a function, by share of the samples."""
    return subprocess.run(  # noqa: S603 - perf with our own arguments
        [
            "perf",
            "report",
            "-i",
            str(data),
            "--children" if children else "--no-children",
            "--sort",
            "symbol",
            "--stdio",
            "-g",
            "none",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def top(text: str, limit: int) -> list[str]:
    """The first `limit` functions of a `perf report`: share, where (kernel or postgres), name."""
    rows = []
    for line in text.splitlines():
        match = ROW.match(line)
        if match is None or match["name"].startswith("0x") or WRAPPERS.match(match["name"]):
            continue  # an address perf could not name, or a frame that wraps everything
        ring = "kernel" if match["ring"] == "k" else "postgres"
        rows.append(f"  {match['shares'].split()[0]:>7}  {ring:<8} {match['name']}")
        if len(rows) == limit:
            break
    return rows


# What a statement's CPU goes to, by the functions that do it (with their callees): locking
# rows, inserting, updating, the after-statement triggers (foreign keys among them), pruning
# the pages' old row versions, writing WAL, finding buffers, and the kernel's page faults and
# writes.
PARTS = (
    ("locking rows (FOR UPDATE; foreign-key checks lock too)", "ExecLockRows"),
    ("inserting rows and their index entries", "ExecInsert"),
    ("updating rows", "ExecUpdate"),
    ("after-statement triggers", "AfterTriggerEndQuery"),
    ("of which foreign-key checks", "RI_FKey_check_ins"),
    ("pruning old row versions on a page", "heap_page_prune_opt"),
    ("writing WAL records", "XLogInsert"),
    ("finding and pinning buffers", "StartReadBuffer"),
    ("page faults", "asm_exc_page_fault"),
    ("write system calls (WAL, evicted buffers)", "__x64_sys_pwrite64"),
)


def parts(text: str) -> list[str]:
    """The share of `PARTS` in a `perf report --children` (a function missing from it: 0%)."""
    share: dict[str, str] = {}
    for line in text.splitlines():
        match = ROW.match(line)
        if match is not None:
            share.setdefault(match["name"], match["shares"].split()[0])
    return [f"  {share.get(name, '0.00%'):>7}  {what} ({name})" for what, name in PARTS]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--innovations", type=int, default=1_000_000)
    parser.add_argument("--scenario", choices=SCENARIOS, default="bulk_ingest")
    parser.add_argument("--app", choices=("service", "baseline"), default="service")
    parser.add_argument("--warmup", type=float, default=20, help="seconds of load before")
    parser.add_argument("--seconds", type=float, default=10, help="seconds of the timed run")
    parser.add_argument("--frequency", type=int, default=299, help="samples per second")
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()
    if shutil.which("perf") is None:
        raise SystemExit("perf is not installed (apt-get install linux-perf)")
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: `make wrk` installs it")

    server, cluster = bench_server()
    try:
        with tempfile.TemporaryDirectory(prefix="inovasi-profile-") as tmp:
            workdir = Path(tmp)
            url, _ = dataset(server, args.innovations, reseed=False)
            inputs = asyncio.run(draw_inputs(url, workdir, random.Random(args.innovations)))
            script = workdir / f"{args.scenario}.lua"
            script.write_text(lua_script(args.scenario, inputs))
            serving = serve(url, workers=1) if args.app == "service" else serve_baseline(url, 1)
            app = SERVICE_APP if args.app == "service" else BASELINE_APP
            data = workdir / "perf.data"
            with serving as base:
                asyncio.run(settled(url))
                # The warm-up opens the pool's connections, whose backends are then sampled.
                wrk(base, script, args.warmup)
                asyncio.run(drained(url, app))
                pids = asyncio.run(backend_pids(url, app))
                record = subprocess.Popen(  # noqa: S603 - perf with our own arguments
                    [
                        "perf",
                        "record",
                        "-F",
                        str(args.frequency),
                        "--call-graph",
                        "dwarf,16384",
                        "-o",
                        str(data),
                        "-p",
                        ",".join(map(str, pids)),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                try:
                    run = measure(base, app, url, script, 1, args.seconds)
                finally:
                    record.send_signal(signal.SIGINT)
                    record.wait(timeout=120)
            print(
                f"{args.app}, {args.scenario}, {args.innovations:,} innovations: "
                f"{run.requests_per_s:,.1f} req/s, p50 {run.p50_ms:.1f} ms, "
                f"p99 {run.p99_ms:.1f} ms, errors {run.errors}; CPU ms a request: "
                f"app {run.app_cpu_ms:.2f}, PostgreSQL {run.db_cpu_ms:.2f}; "
                f"{len(pids)} backends sampled"
            )
            print("\nown samples (share of the backends' CPU):")
            print("\n".join(top(report(data, children=False), args.top)))
            children = report(data, children=True)
            print("\nwith their callees:")
            print("\n".join(top(children, args.top)))
            print("\nby what the work is for (with callees; the parts overlap):")
            print("\n".join(parts(children)))
    finally:
        if cluster is not None:
            cluster.stop()


if __name__ == "__main__":
    main()
