"""The kept dashboard figures equal a recomputation from the base tables after every write.

Random sequences of writes go through the API on the demo data: innovations (created, moved
to another institution, published, withdrawn), awards, commitments (created, their target
date changed), status transitions, progress reports one by one and in batches, sustainability
assessments, scaling proposals with their review and decision. After each step every figure of
`/stats/overview`, `/stats/provinces` and `/stats/replication-flows` (all, per programme and
per fiscal year), as `app.stats.repository` reads it from the tallies, is compared with
`app.stats.recompute`, which computes it from the base tables, and every kept row of the
candidates and due lists with `tests/dashboards/figures.py`'s recomputation; now and then the
tallies are compacted, which must change nothing. A write the API refuses (an illegal move,
a rule) is a step too: it must leave the figures as they were.

`EXACTNESS_STEPS` (default 120) and `EXACTNESS_SEED` draw another sequence; the steps drawn
and the successes per kind are printed.
"""

from __future__ import annotations

import os
import random
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.security import Role
from app.models.replication import COMMITMENT_STATUSES
from app.stats import recompute, repository
from tests.conftest import MakeKey, bearer
from tests.dashboards.figures import mismatches
from tests.test_examples import SCHEMA
from tests.test_openapi import examples_of

STEPS = int(os.environ.get("EXACTNESS_STEPS", "120"))
SEED = int(os.environ.get("EXACTNESS_SEED", "20261205"))
API = "/api/v1"


def example(path: str, method: str = "post") -> dict[str, Any]:
    """The first request example of an operation, as a template."""
    media = SCHEMA["paths"][f"{API}{path}"][method]["requestBody"]["content"]["application/json"]
    return dict(examples_of(SCHEMA, media)[0])


def plain(value: Any) -> Any:
    """Numbers as numbers (the tallies' sums and the counts differ only in their type)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else value
    return value


async def figures(session: AsyncSession, module: Any, flow_filters: list[dict[str, Any]]) -> Any:
    return {
        "overview": plain(await module.overview(session)),
        "provinces": plain([tuple(r) for r in await module.provinces(session)]),
        **{
            f"flows {f}": plain([tuple(r) for r in await module.replication_flows(session, **f)])
            for f in flow_filters
        },
    }


class World:
    """Ids the steps draw from, refreshed from the database before each step."""

    innovations: list[Any]
    institutions: list[Any]
    programs: list[Any]
    commitments: list[Any]
    proposals: list[Any]

    async def load(self, session: AsyncSession) -> None:
        async def rows(sql: str) -> list[Any]:
            return list((await session.execute(text(sql))).all())

        self.innovations = await rows("SELECT id, status FROM innovations ORDER BY id")
        self.institutions = await rows(
            "SELECT id FROM institutions WHERE region_code IS NOT NULL ORDER BY id"
        )
        self.programs = await rows("SELECT id, fiscal_year FROM replication_programs ORDER BY id")
        self.commitments = await rows("SELECT id, status FROM commitments ORDER BY id")
        self.proposals = await rows("SELECT id, status FROM scaling_proposals ORDER BY id")


Keys = dict[str, dict[str, str]]
Step = Callable[[httpx.AsyncClient, Keys, random.Random, World], Awaitable[int]]


def a_date(rng: random.Random, start: int = 2019, end: int = 2024) -> str:
    return (date(start, 1, 1) + timedelta(days=rng.randrange((end - start) * 365))).isoformat()


async def create_innovation(
    client: httpx.AsyncClient, keys: Keys, rng: random.Random, w: World
) -> int:
    h = keys["admin"]
    body = example("/innovations") | {
        "title": f"Inovasi Uji {uuid.uuid4().hex[:10]}",
        "institution_id": str(rng.choice(w.institutions).id),
        "status": rng.choice(["draft", "published", "published"]),
        "launched_on": a_date(rng),
    }
    return (await client.post(f"{API}/innovations", json=body, headers=h)).status_code


async def patch_innovation(
    client: httpx.AsyncClient, keys: Keys, rng: random.Random, w: World
) -> int:
    h = keys["admin"]
    innovation = rng.choice(w.innovations)
    url = f"{API}/innovations/{innovation.id}"
    etag = (await client.get(url, headers=h)).headers["etag"]
    body = rng.choice(
        [
            {"status": rng.choice(["draft", "published", "withdrawn"])},
            {"institution_id": str(rng.choice(w.institutions).id)},
        ]
    )
    r = await client.patch(url, json=body, headers=h | {"If-Match": etag})
    return r.status_code


async def add_award(client: httpx.AsyncClient, keys: Keys, rng: random.Random, w: World) -> int:
    h = keys["admin"]
    innovation = rng.choice(w.innovations)
    body = example("/innovations/{innovation_id}/awards") | {"year": rng.randrange(2015, 2025)}
    r = await client.post(f"{API}/innovations/{innovation.id}/awards", json=body, headers=h)
    return r.status_code


async def create_commitment(
    client: httpx.AsyncClient, keys: Keys, rng: random.Random, w: World
) -> int:
    h = keys["admin"]
    published = [i for i in w.innovations if i.status == "published"]
    body = example("/commitments") | {
        "program_id": str(rng.choice(w.programs).id),
        "innovation_id": str(rng.choice(published).id),
        "adopter_institution_id": str(rng.choice(w.institutions).id),
        "signed_on": a_date(rng, 2020, 2023),
        "target_launch_on": rng.choice([None, a_date(rng, 2022, 2028)]),
    }
    return (await client.post(f"{API}/commitments", json=body, headers=h)).status_code


async def patch_commitment(
    client: httpx.AsyncClient, keys: Keys, rng: random.Random, w: World
) -> int:
    h = keys["admin"]
    commitment = rng.choice(w.commitments)
    url = f"{API}/commitments/{commitment.id}"
    etag = (await client.get(url, headers=h)).headers["etag"]
    body = {"target_launch_on": rng.choice([None, a_date(rng, 2022, 2028)])}
    return (await client.patch(url, json=body, headers=h | {"If-Match": etag})).status_code


async def transition(client: httpx.AsyncClient, keys: Keys, rng: random.Random, w: World) -> int:
    h = keys["admin"]
    commitment = rng.choice(w.commitments)
    body = {"to": rng.choice(COMMITMENT_STATUSES), "reason": "Uji ringkasan"}
    r = await client.post(f"{API}/commitments/{commitment.id}/transitions", json=body, headers=h)
    return r.status_code


def report(rng: random.Random) -> dict[str, Any]:
    return {
        "as_of": a_date(rng, 2023, 2024),
        "percent_complete": rng.randrange(0, 101),
        "narrative": "Uji ringkasan dasbor.",
        "reported_by": "Dinas Uji",
    }


async def report_one(client: httpx.AsyncClient, keys: Keys, rng: random.Random, w: World) -> int:
    h = keys["admin"]
    commitment = rng.choice(w.commitments)
    url = f"{API}/commitments/{commitment.id}/progress-reports"
    return (await client.post(url, json=report(rng), headers=h)).status_code


async def report_batch(client: httpx.AsyncClient, keys: Keys, rng: random.Random, w: World) -> int:
    h = keys["admin"]
    open_ = [c for c in w.commitments if c.status not in ("sustained", "cancelled")]
    chosen = rng.sample(open_, min(len(open_), rng.randrange(2, 6)))
    body = {"reports": [report(rng) | {"commitment_id": str(c.id)} for c in chosen]}
    return (await client.post(f"{API}/progress-reports/batch", json=body, headers=h)).status_code


async def assess(client: httpx.AsyncClient, keys: Keys, rng: random.Random, w: World) -> int:
    h = keys["admin"]
    body = example("/sustainability-assessments")
    del body["commitment_id"]
    if rng.random() < 0.5:
        body["innovation_id"] = str(rng.choice(w.innovations).id)
    else:
        body["commitment_id"] = str(rng.choice(w.commitments).id)
    weak = rng.random() < 0.4
    body |= {
        "period": rng.randrange(2019, 2026),
        "operating": not weak or rng.random() < 0.5,
        "budget_years": rng.randrange(0, 5),
        "has_sop": not weak,
        "in_regional_plan": not weak,
        "survived_leadership_change": rng.choice(["yes", "no", "not_applicable"]),
        "assessed_on": a_date(rng, 2024, 2025),
    }
    return (
        await client.post(f"{API}/sustainability-assessments", json=body, headers=h)
    ).status_code


async def propose(client: httpx.AsyncClient, keys: Keys, rng: random.Random, w: World) -> int:
    h = keys["admin"]
    innovation = rng.choice([i for i in w.innovations if i.status == "published"])
    target = rng.choice(["national", "provincial"])
    body = example("/scaling-proposals") | {
        "innovation_id": str(innovation.id),
        "target_scale": target,
        "target_province_code": None if target == "national" else "33",
    }
    return (await client.post(f"{API}/scaling-proposals", json=body, headers=h)).status_code


async def review_or_decide(
    client: httpx.AsyncClient, keys: Keys, rng: random.Random, w: World
) -> int:
    if not w.proposals:
        return 0
    proposal = rng.choice(w.proposals)
    h = keys["reviewer"]
    url = f"{API}/scaling-proposals/{proposal.id}"
    if proposal.status == "submitted" and rng.random() < 0.5:
        return (await client.post(f"{url}/review", json={"notes": "Uji"}, headers=h)).status_code
    outcome = rng.choice(["approved", "rejected", "deferred"])
    body = {"outcome": outcome, "notes": "Uji", "conditions": ""}
    return (await client.post(f"{url}/decision", json=body, headers=h)).status_code


STEP_KINDS: list[Step] = [
    create_innovation,
    patch_innovation,
    add_award,
    create_commitment,
    patch_commitment,
    transition,
    transition,
    report_one,
    report_batch,
    assess,
    assess,
    propose,
    review_or_decide,
]


async def test_kept_figures_equal_a_recomputation_after_every_write(
    client: httpx.AsyncClient,
    session: AsyncSession,
    make_key: MakeKey,
    capsys: pytest.CaptureFixture[str],
) -> None:
    rng = random.Random(SEED)
    keys = {role.value: bearer(await make_key(role)) for role in (Role.admin, Role.reviewer)}
    world = World()
    drawn: Counter[str] = Counter()
    succeeded: Counter[str] = Counter()
    compactions = 0
    for step in range(STEPS):
        await world.load(session)
        kind = rng.choice(STEP_KINDS)
        status = await kind(client, keys, rng, world)
        drawn[kind.__name__] += 1
        succeeded[kind.__name__] += 200 <= status < 300
        if rng.random() < 0.15:
            await repository.compact(session)
            compactions += 1
        programs = rng.sample(world.programs, 2)
        flow_filters: list[dict[str, Any]] = [
            {"program_id": None, "fiscal_year": None},
            {"program_id": programs[0].id, "fiscal_year": None},
            {"program_id": None, "fiscal_year": programs[1].fiscal_year},
        ]
        kept = await figures(session, repository, flow_filters)
        base = await figures(session, recompute, flow_filters)
        assert kept == base, f"step {step} ({kind.__name__}, HTTP {status}) seed {SEED}"
        # The dashboard lists' kept rows (candidates, due subjects) on the same walk.
        found = await mismatches(await session.connection())
        assert found == [], f"step {step} ({kind.__name__}, HTTP {status}) seed {SEED}"

    with capsys.disabled():
        print(
            f"\nexactness: {STEPS} steps (seed {SEED}), {compactions} compactions;"
            f" drawn {dict(drawn)}; succeeded {dict(succeeded)}"
        )
    # Every kind of write changed the data at least once, or the comparison proved little.
    assert all(succeeded[kind.__name__] for kind in STEP_KINDS), succeeded


async def test_the_check_names_a_figure_that_drifted(session: AsyncSession) -> None:
    """`inovasi summaries check` (`recompute.differences`): nothing on the demo; a tally row
    that no write explains shows up under the figures it feeds."""
    assert await recompute.differences(session) == []

    await session.execute(
        text(
            "INSERT INTO innovation_tallies (province_code, status, scale, n)"
            " VALUES ('33', 'published', 'local', 1)"
        )
    )

    assert await recompute.differences(session) == [
        "overview.innovations_by_status",
        "overview.innovations_by_scale",
        "provinces",
    ]
