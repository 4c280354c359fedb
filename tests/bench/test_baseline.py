"""The benchmark's raw baseline (bench/baseline.py) answers the benchmark's requests as the
service does, on a small seeded database: the same statuses, ids and fields read, and the
same rows stored."""

from __future__ import annotations

import asyncio
import os
import random
from pathlib import Path

from sqlalchemy.engine import URL

from bench.baseline import serve_baseline
from bench.baseline_check import check
from bench.run import draw_inputs, parity
from bench.seed import seed
from tests.conftest import drop_database
from tests.harness import fresh_database, serve


def test_the_baseline_answers_the_scenarios_as_the_service_does(
    server: URL, tmp_path: Path
) -> None:
    name = f"inovasi_baseline_{os.getpid()}"
    url = fresh_database(server, name)
    try:
        asyncio.run(seed(url, 1_000))
        inputs = asyncio.run(draw_inputs(url, tmp_path, random.Random(1)))
        assert inputs.ids
        assert inputs.deep_lists
        assert inputs.searches
        with serve(url) as service, serve_baseline(url) as baseline:
            assert len(baseline.pids) >= 1
            assert parity(url, service, baseline, inputs) == []
            # The check does see a difference: the baseline serves nothing else.
            assert asyncio.run(check(url, service, baseline, ["/livez"]))
    finally:
        asyncio.run(drop_database(server, name))
