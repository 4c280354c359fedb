"""The kept rows of the dashboard lists equal a recomputation after every step of a random
sequence of API writes (the steps of `tests.stats.test_summaries_exact`: innovations,
awards, commitments, transitions, reports one by one and in batches, assessments, proposals
and decisions), on the demo data. `LISTS_STEPS` (default 60) and `LISTS_SEED` draw another
sequence."""

from __future__ import annotations

import os
import random
from collections import Counter

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.security import Role
from tests._demo import connection, demo_connection
from tests.conftest import MakeKey, bearer
from tests.dashboards.figures import mismatches
from tests.stats.test_summaries_exact import STEP_KINDS, World

__all__ = ["connection", "demo_connection"]

STEPS = int(os.environ.get("LISTS_STEPS", "60"))
SEED = int(os.environ.get("LISTS_SEED", "20261205"))


async def test_kept_rows_equal_a_recomputation_after_every_random_write(
    client: httpx.AsyncClient,
    session: AsyncSession,
    make_key: MakeKey,
    capsys: pytest.CaptureFixture[str],
) -> None:
    rng = random.Random(SEED)
    keys = {role.value: bearer(await make_key(role)) for role in (Role.admin, Role.reviewer)}
    world = World()
    succeeded: Counter[str] = Counter()
    conn = await session.connection()
    for step in range(STEPS):
        await world.load(session)
        kind = rng.choice(STEP_KINDS)
        status = await kind(client, keys, rng, world)
        succeeded[kind.__name__] += 200 <= status < 300
        found = await mismatches(conn)
        assert found == [], f"step {step} ({kind.__name__}, HTTP {status}) seed {SEED}"
    with capsys.disabled():
        print(f"\nlists exactness: {STEPS} steps (seed {SEED}); succeeded {dict(succeeded)}")
    assert sum(succeeded.values()) > STEPS // 3, succeeded
