"""The benchmark's raw baseline (bench/baseline.py) answers as the service does: the same
bytes for every read of the demo data, the same shapes for the writes."""

from __future__ import annotations

import asyncio
import os

import httpx
from sqlalchemy.engine import URL

from bench.baseline_check import check_identical, identity_check, prepare_demo_database
from tests.conftest import drop_database


def test_baseline_answers_as_the_service_does(server: URL) -> None:
    from bench.baseline import serve_baseline
    from tests.harness import serve

    name = f"inovasi_baseline_{os.getpid()}"
    url, key = prepare_demo_database(server, name)
    try:
        with serve(url) as service, serve_baseline(url) as baseline:
            assert len(baseline.pids) >= 1
            assert asyncio.run(identity_check(url, service, baseline, key)) == []
            # The check does see a difference: the baseline has no /livez.
            assert asyncio.run(check_identical(service, baseline, ["/livez"]))
            ready = httpx.get(baseline + "/readyz")
            assert ready.status_code == 200
    finally:
        asyncio.run(drop_database(server, name))
