"""The access table: every route's declared rule, checked against the app, and enforced.

A new route fails this suite until it is added to ACCESS with the rule it should have; a rule
that drifts from the table fails too. Write routes are then probed with every caller that
must be refused, and the database is compared before and after.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.keys import create_key
from app.core.routing import AppRoute
from app.core.security import PROVINCE_SCOPED_ROLES, AccessRule, Role, access_rule_of
from app.main import create_app
from app.ops.docs import ASSETS_URL
from tests.builders import make_institution
from tests.conftest import MakeKey, bearer, problem
from tests.core._platform import INNOVATIONS, INSTITUTIONS, institution_body


@dataclass(frozen=True)
class Rule:
    anonymous: bool
    roles: frozenset[Role]
    province_scoped: bool = False


ALL = frozenset(Role)
OPEN = Rule(anonymous=True, roles=ALL)
ANY_KEY = Rule(anonymous=False, roles=ALL)
# Coordinators manage their province's records; admins any.
PROVINCE_MANAGERS = Rule(
    anonymous=False, roles=frozenset({Role.admin, Role.coordinator}), province_scoped=True
)
# Integrations (machine clients of a province) may also post progress.
PROGRESS_REPORTERS = Rule(
    anonymous=False,
    roles=frozenset({Role.admin, Role.coordinator, Role.integration}),
    province_scoped=True,
)
# Only reviewers decide scaling proposals (not even admins).
REVIEWERS = Rule(anonymous=False, roles=frozenset({Role.reviewer}))
# Submitters (an institution's key) also register their institution's innovations and
# draft and submit its competition entries.
REGISTRARS = Rule(
    anonymous=False,
    roles=frozenset({Role.admin, Role.coordinator, Role.submitter}),
    province_scoped=True,
)
# Competitions: organisers are admins (national) and coordinators (their province's).
ORGANISERS = PROVINCE_MANAGERS
EVALUATORS = Rule(anonymous=False, roles=frozenset({Role.evaluator}))
SCORE_READERS = Rule(
    anonymous=False, roles=frozenset({Role.admin, Role.coordinator, Role.evaluator})
)

# (method, path template) → who may call it. Every route of the app must be listed here.
ACCESS: dict[tuple[str, str], Rule] = {
    # regions (reference data)
    ("GET", "/api/v1/regions"): OPEN,
    ("GET", "/api/v1/regions/{code}"): OPEN,
    # institutions
    ("GET", "/api/v1/institutions"): OPEN,
    ("POST", "/api/v1/institutions"): PROVINCE_MANAGERS,
    ("GET", "/api/v1/institutions/{institution_id}"): OPEN,
    ("PATCH", "/api/v1/institutions/{institution_id}"): PROVINCE_MANAGERS,
    # innovations
    ("GET", "/api/v1/innovations"): OPEN,
    ("GET", "/api/v1/innovations/export.csv"): OPEN,
    ("POST", "/api/v1/innovations"): REGISTRARS,
    ("GET", "/api/v1/innovations/{innovation_id}"): OPEN,
    ("PATCH", "/api/v1/innovations/{innovation_id}"): REGISTRARS,
    ("POST", "/api/v1/innovations/{innovation_id}/awards"): PROVINCE_MANAGERS,
    ("GET", "/api/v1/innovations/{innovation_id}/lineage"): OPEN,
    ("GET", "/api/v1/innovations/{innovation_id}/sustainability"): OPEN,
    # replication
    ("GET", "/api/v1/replication-programs"): OPEN,
    ("POST", "/api/v1/replication-programs"): PROVINCE_MANAGERS,
    ("GET", "/api/v1/replication-programs/{program_id}"): OPEN,
    ("PATCH", "/api/v1/replication-programs/{program_id}"): PROVINCE_MANAGERS,
    ("GET", "/api/v1/replication-programs/{program_id}/matrix"): OPEN,
    ("GET", "/api/v1/commitments"): OPEN,
    ("POST", "/api/v1/commitments"): PROVINCE_MANAGERS,
    ("GET", "/api/v1/commitments/{commitment_id}"): OPEN,
    ("PATCH", "/api/v1/commitments/{commitment_id}"): PROVINCE_MANAGERS,
    ("POST", "/api/v1/commitments/{commitment_id}/transitions"): PROVINCE_MANAGERS,
    ("GET", "/api/v1/commitments/{commitment_id}/action-items"): OPEN,
    ("POST", "/api/v1/commitments/{commitment_id}/action-items"): PROVINCE_MANAGERS,
    ("PATCH", "/api/v1/commitments/{commitment_id}/action-items/{item_id}"): PROVINCE_MANAGERS,
    ("GET", "/api/v1/commitments/{commitment_id}/progress-reports"): OPEN,
    ("POST", "/api/v1/commitments/{commitment_id}/progress-reports"): PROGRESS_REPORTERS,
    ("POST", "/api/v1/progress-reports/batch"): PROGRESS_REPORTERS,
    # scaling
    ("GET", "/api/v1/scaling/candidates"): OPEN,
    ("GET", "/api/v1/scaling-proposals"): OPEN,
    ("POST", "/api/v1/scaling-proposals"): PROVINCE_MANAGERS,
    ("GET", "/api/v1/scaling-proposals/{proposal_id}"): OPEN,
    ("POST", "/api/v1/scaling-proposals/{proposal_id}/review"): REVIEWERS,
    ("POST", "/api/v1/scaling-proposals/{proposal_id}/decision"): REVIEWERS,
    # statistics (open data)
    ("GET", "/api/v1/stats/overview"): OPEN,
    ("GET", "/api/v1/stats/provinces"): OPEN,
    ("GET", "/api/v1/stats/replication-flows"): OPEN,
    # sustainability (integrations: their province's commitments only)
    ("GET", "/api/v1/rubrics/sustainability"): OPEN,
    ("GET", "/api/v1/sustainability-assessments"): OPEN,
    ("POST", "/api/v1/sustainability-assessments"): PROGRESS_REPORTERS,
    ("GET", "/api/v1/sustainability-assessments/{assessment_id}"): OPEN,
    ("GET", "/api/v1/sustainability/due"): OPEN,
    ("GET", "/api/v1/sustainability/at-risk"): OPEN,
    # events
    ("GET", "/api/v1/events"): ANY_KEY,
    # competitions
    ("GET", "/api/v1/competitions"): OPEN,
    ("POST", "/api/v1/competitions"): ORGANISERS,
    ("GET", "/api/v1/competitions/{competition_id}"): OPEN,
    ("PATCH", "/api/v1/competitions/{competition_id}"): ORGANISERS,
    ("POST", "/api/v1/competitions/{competition_id}/transitions"): ORGANISERS,
    ("GET", "/api/v1/competitions/{competition_id}/rubrics"): OPEN,
    ("GET", "/api/v1/competitions/{competition_id}/entries"): OPEN,
    ("POST", "/api/v1/competitions/{competition_id}/entries"): REGISTRARS,
    ("GET", "/api/v1/entries/{entry_id}"): OPEN,
    ("PATCH", "/api/v1/entries/{entry_id}"): REGISTRARS,
    ("POST", "/api/v1/entries/{entry_id}/submit"): REGISTRARS,
    ("POST", "/api/v1/entries/{entry_id}/screening"): ORGANISERS,
    ("POST", "/api/v1/competitions/{competition_id}/assignments"): ORGANISERS,
    ("POST", "/api/v1/entries/{entry_id}/scores"): EVALUATORS,
    ("GET", "/api/v1/entries/{entry_id}/scores"): SCORE_READERS,
    ("POST", "/api/v1/entries/{entry_id}/field-verification"): ORGANISERS,
    ("POST", "/api/v1/competitions/{competition_id}/stages/{stage}/close"): ORGANISERS,
    ("GET", "/api/v1/competitions/{competition_id}/stages/{stage}/ranking"): OPEN,
    ("GET", "/api/v1/competitions/{competition_id}/objections"): ANY_KEY,
    ("POST", "/api/v1/competitions/{competition_id}/objections"): ANY_KEY,
    ("GET", "/api/v1/objections/{objection_id}"): ANY_KEY,
    ("POST", "/api/v1/objections/{objection_id}/resolution"): ORGANISERS,
    ("POST", "/api/v1/competitions/{competition_id}/determination"): ORGANISERS,
    ("POST", "/api/v1/competitions/{competition_id}/nominations"): ORGANISERS,
    ("GET", "/api/v1/competitions/{competition_id}/stats"): OPEN,
    # webhooks: admins subscribe to every event, coordinators and integrations to their
    # province's (the same roles as progress reporters)
    ("GET", "/api/v1/webhooks"): PROGRESS_REPORTERS,
    ("POST", "/api/v1/webhooks"): PROGRESS_REPORTERS,
    ("GET", "/api/v1/webhooks/{webhook_id}"): PROGRESS_REPORTERS,
    ("PATCH", "/api/v1/webhooks/{webhook_id}"): PROGRESS_REPORTERS,
    ("DELETE", "/api/v1/webhooks/{webhook_id}"): PROGRESS_REPORTERS,
    ("POST", "/api/v1/webhooks/{webhook_id}/rotate-secret"): PROGRESS_REPORTERS,
    ("GET", "/api/v1/webhooks/{webhook_id}/deliveries"): PROGRESS_REPORTERS,
    ("GET", "/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}"): PROGRESS_REPORTERS,
    (
        "POST",
        "/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver",
    ): PROGRESS_REPORTERS,
    # institutionalisation (open data; coordinators manage their province's records)
    ("GET", "/api/v1/regulations"): OPEN,
    ("POST", "/api/v1/regulations"): PROVINCE_MANAGERS,
    ("GET", "/api/v1/regulations/{regulation_id}"): OPEN,
    ("PATCH", "/api/v1/regulations/{regulation_id}"): PROVINCE_MANAGERS,
    ("GET", "/api/v1/institutionalisation/compliance"): OPEN,
    ("GET", "/api/v1/incentives"): OPEN,
    ("POST", "/api/v1/incentives"): PROVINCE_MANAGERS,
    ("GET", "/api/v1/incentives/{incentive_id}"): OPEN,
    ("GET", "/api/v1/hubs"): OPEN,
    ("POST", "/api/v1/hubs"): PROVINCE_MANAGERS,
    ("GET", "/api/v1/hubs/{hub_id}"): OPEN,
    ("PATCH", "/api/v1/hubs/{hub_id}"): PROVINCE_MANAGERS,
    # operations
    ("GET", "/livez"): OPEN,
    ("GET", "/readyz"): OPEN,
    ("GET", "/metrics"): OPEN,
}

# Routes served by FastAPI itself (documentation), outside the access mechanism.
DOCUMENTATION_PATHS = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc", ASSETS_URL}

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


@pytest.fixture(scope="module")
def fresh_app() -> FastAPI:
    return create_app()


def api_routes(app: FastAPI) -> Iterator[tuple[str, str, RouteContext]]:
    """(method, full path, route) of every API route. `app.routes` holds included routers as
    placeholders; `iter_route_contexts` resolves them to the routes that serve requests."""
    for route in iter_route_contexts(app.routes):
        if isinstance(route.original_route, APIRoute):
            for method in sorted(route.methods or ()):
                assert route.path_format is not None
                yield method, route.path_format, route


def declared(rule: AccessRule) -> Rule:
    return Rule(
        anonymous=rule.anonymous, roles=frozenset(rule.roles), province_scoped=rule.province_scoped
    )


def all_rules(dependant: Any) -> list[AccessRule]:
    """Every AccessRule anywhere in a route's dependency tree."""
    found: list[AccessRule] = []
    for dep in getattr(dependant, "dependencies", []):
        if isinstance(dep.call, AccessRule):
            found.append(dep.call)
        found.extend(all_rules(dep))
    return found


async def key_for(
    session: AsyncSession, make_key: MakeKey, role: Role, province: str | None = None
) -> str:
    """A key of `role`; a submitter key acts for a new institution of province 33."""
    if role != Role.submitter:
        return await make_key(role, province)
    institution = await make_institution(session, region_code="33.74")
    return await submitter_key(session, institution.id)


async def submitter_key(session: AsyncSession, institution_id: uuid.UUID | str) -> str:
    _, plaintext = await create_key(
        session,
        name="test submitter",
        role=Role.submitter,
        province_code=None,
        institution_id=uuid.UUID(str(institution_id)),
    )
    await session.flush()
    return plaintext


# --- The table matches the app ------------------------------------------------------------


def test_every_route_is_in_the_access_table(fresh_app: FastAPI) -> None:
    missing = [(m, p) for m, p, _ in api_routes(fresh_app) if (m, p) not in ACCESS]
    assert missing == [], f"routes without a declared access rule in ACCESS: {missing}"


def test_every_access_table_entry_is_a_route(fresh_app: FastAPI) -> None:
    present = {(m, p) for m, p, _ in api_routes(fresh_app)}
    assert sorted(set(ACCESS) - present) == []


def test_every_route_declares_exactly_one_access_rule(fresh_app: FastAPI) -> None:
    counts = {(m, p): len(all_rules(route.dependant)) for m, p, route in api_routes(fresh_app)}
    assert {k: n for k, n in counts.items() if n != 1} == {}


@pytest.mark.parametrize(("method", "path"), ACCESS.keys(), ids=[" ".join(k) for k in ACCESS])
def test_route_declares_the_rule_in_the_access_table(
    fresh_app: FastAPI, method: str, path: str
) -> None:
    routes = [r for m, p, r in api_routes(fresh_app) if (m, p) == (method, path)]
    assert len(routes) == 1, f"{method} {path} is not a route of the app"
    rule = access_rule_of(routes[0].dependant)
    assert rule is not None, f"{method} {path} declares no access rule"
    assert declared(rule) == ACCESS[(method, path)]


def test_every_route_answers_its_own_paths(fresh_app: FastAPI) -> None:
    """Routers are included busiest first (app.main), which is safe only while no earlier
    route also matches a later route's paths: each route, its parameters filled in, is the
    first of the served routes, in match order, to take its method and path."""
    served = fresh_app.state.api_routes
    shadowed = []
    for route in served:
        path = re.sub(r"\{[^}]+\}", str(uuid.uuid4()), route.path_format)
        for method in route.methods:
            first = next(r for r in served if method in r.methods and r.path_regex.fullmatch(path))
            if first is not route:
                shadowed.append((method, route.path_format, first.path_format))
    assert shadowed == []


def test_every_route_uses_the_app_route_class(fresh_app: FastAPI) -> None:
    plain = [p for _, p, r in api_routes(fresh_app) if not isinstance(r.original_route, AppRoute)]
    assert plain == []


def test_only_documentation_routes_bypass_the_access_rules(fresh_app: FastAPI) -> None:
    others = {
        r.path
        for r in iter_route_contexts(fresh_app.routes)
        if not isinstance(r.original_route, APIRoute)
    }
    assert others
    assert others <= DOCUMENTATION_PATHS


def test_access_table_covers_every_route(
    fresh_app: FastAPI, capsys: pytest.CaptureFixture[str]
) -> None:
    routes = {(m, p): r for m, p, r in api_routes(fresh_app)}
    covered = set()
    for key, route in routes.items():
        rule = access_rule_of(route.dependant)
        if key in ACCESS and rule is not None and declared(rule) == ACCESS[key]:
            covered.add(key)
    with capsys.disabled():
        print(
            f"\naccess table: {len(covered)}/{len(routes)} routes declared and matching "
            f"({100 * len(covered) // max(len(routes), 1)}%)"
        )
    assert routes
    assert covered == set(routes)


# --- Rules are enforced: open routes serve anonymous clients -------------------------------

SAMPLE_PARAMS = {"code": "33", "stage": "0"}


def _path_for(template: str) -> str:
    """The path with real sample values where they exist, else fresh ids."""
    return re.sub(
        r"\{([^}]+)\}", lambda m: SAMPLE_PARAMS.get(m.group(1), str(uuid.uuid4())), template
    )


OPEN_GETS = [k for k, rule in ACCESS.items() if rule.anonymous and k[0] == "GET"]
KEYED_GETS = [k for k, rule in ACCESS.items() if not rule.anonymous and k[0] == "GET"]


@pytest.mark.parametrize(("method", "path"), OPEN_GETS, ids=[" ".join(k) for k in OPEN_GETS])
async def test_open_route_admits_anonymous_clients(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    r = await client.get(_path_for(path))
    # Unknown sample ids may be a 404: what matters is that the caller was not refused.
    assert r.status_code in {200, 404}, r.text
    if "{" not in path or set(re.findall(r"\{([^}]+)\}", path)) <= SAMPLE_PARAMS.keys():
        assert r.status_code == 200, r.text


@pytest.mark.parametrize(("method", "path"), KEYED_GETS, ids=[" ".join(k) for k in KEYED_GETS])
async def test_keyed_read_refuses_anonymous_clients(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    r = await client.get(_path_for(path))
    assert problem(r, 401)["code"] == "unauthorized"


# --- Write routes refuse every caller they must refuse, and write nothing -----------------

WRITES = [key for key in ACCESS if key[0] in WRITE_METHODS]


@dataclass(frozen=True)
class Caller:
    label: str
    role: Role | None
    province: str | None
    status: int
    code: str


def refused_by_role(rule: Rule) -> list[Caller]:
    """Anonymous, and every role the rule leaves out (scoped ones of the target's province)."""
    callers = [Caller("anonymous", None, None, 401, "unauthorized")]
    for role in sorted(ALL - rule.roles):
        province = "33" if role in PROVINCE_SCOPED_ROLES else None
        callers.append(Caller(role.value, role, province, 403, "role_not_allowed"))
    return callers


async def _table_counts(session: AsyncSession) -> dict[str, int]:
    """Row count of every table: what a refused write could have added to or removed from."""
    tables = (
        await session.execute(
            text(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' "
                "AND table_name <> 'alembic_version' ORDER BY table_name"
            )
        )
    ).scalars()
    return {
        table: int(await session.scalar(text(f'SELECT count(*) FROM "{table}"')) or 0)  # noqa: S608
        for table in list(tables)
    }


ROLE_REFUSALS = [
    (method, path, caller)
    for method, path in WRITES
    for caller in refused_by_role(ACCESS[(method, path)])
]


@pytest.mark.parametrize(
    ("method", "path", "caller"),
    ROLE_REFUSALS,
    ids=[f"{m} {p} as {c.label}" for m, p, c in ROLE_REFUSALS],
)
async def test_write_route_refuses_caller_by_role_and_writes_nothing(
    client: httpx.AsyncClient,
    session: AsyncSession,
    make_key: MakeKey,
    method: str,
    path: str,
    caller: Caller,
) -> None:
    headers = {"Idempotency-Key": f"refused-{caller.label}"} if method == "POST" else {}
    if caller.role is not None:
        headers |= bearer(await key_for(session, make_key, caller.role, caller.province))
    before = await _table_counts(session)
    r = await client.request(method, _path_for(path), json={}, headers=headers)
    assert problem(r, caller.status)["code"] == caller.code
    assert await _table_counts(session) == before


# Province scope needs a real target in province 33 (Jawa Tengah): each probe builds one and
# returns the request that would change it.
Prepared = tuple[str, dict[str, Any]]
Probe = Callable[[httpx.AsyncClient, dict[str, str]], Awaitable[Prepared]]


async def _new_institution(client: httpx.AsyncClient, admin: dict[str, str]) -> httpx.Response:
    created = await client.post(INSTITUTIONS, json=institution_body("Dinas Uji"), headers=admin)
    assert created.status_code == 201, created.text
    return created


async def _new_innovation(client: httpx.AsyncClient, admin: dict[str, str]) -> httpx.Response:
    institution = (await _new_institution(client, admin)).json()["id"]
    created = await client.post(INNOVATIONS, json=_innovation_body(institution), headers=admin)
    assert created.status_code == 201, created.text
    return created


def _innovation_body(institution_id: str) -> dict[str, Any]:
    return {
        "title": f"Inovasi Uji {uuid.uuid4().hex[:8]}",
        "sector": "health",
        "form": "public_service",
        "initiator": "agency",
        "institution_id": institution_id,
    }


async def _post_institution(client: httpx.AsyncClient, admin: dict[str, str]) -> Prepared:
    return INSTITUTIONS, {"json": institution_body(region_code="33.74")}


async def _patch_institution(client: httpx.AsyncClient, admin: dict[str, str]) -> Prepared:
    created = await _new_institution(client, admin)
    url = f"{INSTITUTIONS}/{created.json()['id']}"
    return url, {"json": {"name": "Dinas Baru"}, "headers": {"If-Match": created.headers["etag"]}}


async def _post_innovation(client: httpx.AsyncClient, admin: dict[str, str]) -> Prepared:
    institution = (await _new_institution(client, admin)).json()["id"]
    return INNOVATIONS, {"json": _innovation_body(institution)}


async def _patch_innovation(client: httpx.AsyncClient, admin: dict[str, str]) -> Prepared:
    created = await _new_innovation(client, admin)
    url = f"{INNOVATIONS}/{created.json()['id']}"
    return url, {"json": {"summary": "Baru"}, "headers": {"If-Match": created.headers["etag"]}}


async def _post_award(client: httpx.AsyncClient, admin: dict[str, str]) -> Prepared:
    created = await _new_innovation(client, admin)
    url = f"{INNOVATIONS}/{created.json()['id']}/awards"
    return url, {"json": {"competition": "KIPP", "year": 2019, "tier": "top_99"}}


async def _post_scaling_proposal(client: httpx.AsyncClient, admin: dict[str, str]) -> Prepared:
    institution = (await _new_institution(client, admin)).json()["id"]
    body = _innovation_body(institution) | {"status": "published"}
    created = await client.post(INNOVATIONS, json=body, headers=admin)
    assert created.status_code == 201, created.text
    proposal = {
        "innovation_id": created.json()["id"],
        "target_scale": "national",
        "rationale": "Layak menjadi program nasional.",
    }
    return "/api/v1/scaling-proposals", {"json": proposal}


async def _post_assessment(client: httpx.AsyncClient, admin: dict[str, str]) -> Prepared:
    """A commitment in province 33 (an innovation of 32 adopted by an agency of 33.74)."""
    west_java = institution_body(region_code="32.73")
    origin = await client.post(INSTITUTIONS, json=west_java, headers=admin)
    body = _innovation_body(origin.json()["id"]) | {"status": "published"}
    innovation = await client.post(INNOVATIONS, json=body, headers=admin)
    adopter = await _new_institution(client, admin)
    program = await client.post(
        "/api/v1/replication-programs",
        json={"name": "Program Uji", "province_code": "33", "fiscal_year": 2022},
        headers=admin,
    )
    commitment = await client.post(
        "/api/v1/commitments",
        json={
            "program_id": program.json()["id"],
            "innovation_id": innovation.json()["id"],
            "adopter_institution_id": adopter.json()["id"],
            "signed_on": "2021-11-02",
        },
        headers=admin,
    )
    assert commitment.status_code == 201, commitment.text
    return "/api/v1/sustainability-assessments", {
        "json": {
            "commitment_id": commitment.json()["id"],
            "period": 2024,
            "operating": True,
            "survived_leadership_change": "yes",
            "legal_basis": "decree",
            "budget_years": 2,
            "in_regional_plan": True,
            "in_performance_indicators": False,
            "has_sop": True,
            "staff_count": 2,
            "beneficiaries_count": 500,
            "monitoring": "internal",
            "complaint_resolution_pct": None,
            "assessed_on": "2025-01-15",
        }
    }


def _regulation_body() -> dict[str, Any]:
    return {
        "region_code": "33.74",
        "kind": "head_regulation",
        "number": uuid.uuid4().hex[:8],
        "year": 2024,
        "title": "Satu Perangkat Daerah Satu Inovasi",
        "effective_on": "2024-03-01",
        "mandates_yearly_innovation": True,
    }


async def _post_regulation(client: httpx.AsyncClient, admin: dict[str, str]) -> Prepared:
    return "/api/v1/regulations", {"json": _regulation_body()}


async def _patch_regulation(client: httpx.AsyncClient, admin: dict[str, str]) -> Prepared:
    created = await client.post("/api/v1/regulations", json=_regulation_body(), headers=admin)
    assert created.status_code == 201, created.text
    url = created.headers["location"]
    return url, {"json": {"title": "Baru"}, "headers": {"If-Match": created.headers["etag"]}}


async def _post_incentive(client: httpx.AsyncClient, admin: dict[str, str]) -> Prepared:
    body = {"region_code": "33.74", "year": 2025, "amount_idr": 1, "basis": "Keberlanjutan"}
    return "/api/v1/incentives", {"json": body}


async def _hub_body(client: httpx.AsyncClient, admin: dict[str, str]) -> dict[str, Any]:
    host = (await _new_institution(client, admin)).json()["id"]
    return {"name": f"JIPP Uji {uuid.uuid4().hex[:8]}", "province_code": "33",
            "host_institution_id": host}  # fmt: skip


async def _post_hub(client: httpx.AsyncClient, admin: dict[str, str]) -> Prepared:
    return "/api/v1/hubs", {"json": await _hub_body(client, admin)}


async def _patch_hub(client: httpx.AsyncClient, admin: dict[str, str]) -> Prepared:
    created = await client.post("/api/v1/hubs", json=await _hub_body(client, admin), headers=admin)
    assert created.status_code == 201, created.text
    url = created.headers["location"]
    return url, {"json": {"mentors": ["Baru"]}, "headers": {"If-Match": created.headers["etag"]}}


def _competition_body(**over: Any) -> dict[str, Any]:
    return {
        "name": f"Kompetisi Uji {uuid.uuid4().hex[:6]}",
        "year": 2026,
        "groups": ["general"],
        "submission_opens_on": "2026-01-01",
        "submission_closes_on": "2026-12-31",
    } | over


async def _post_competition(client: httpx.AsyncClient, admin: dict[str, str]) -> Prepared:
    return "/api/v1/competitions", {"json": _competition_body(organizer_province_code="33")}


async def _post_entry(client: httpx.AsyncClient, admin: dict[str, str]) -> Prepared:
    """An entry of a province-33 innovation in a national competition."""
    competition = await client.post(
        "/api/v1/competitions",
        json=_competition_body(),
        headers=admin | {"Idempotency-Key": str(uuid.uuid4())},
    )
    assert competition.status_code == 201, competition.text
    innovation = (await _new_innovation(client, admin)).json()
    body = {
        "innovation_id": innovation["id"],
        "institution_id": innovation["institution"]["id"],
        "group": "general",
    }
    return f"/api/v1/competitions/{competition.json()['id']}/entries", {"json": body}


PROVINCE_PROBES: dict[tuple[str, str], Probe] = {
    ("POST", "/api/v1/institutions"): _post_institution,
    ("PATCH", "/api/v1/institutions/{institution_id}"): _patch_institution,
    ("POST", "/api/v1/innovations"): _post_innovation,
    ("PATCH", "/api/v1/innovations/{innovation_id}"): _patch_innovation,
    ("POST", "/api/v1/innovations/{innovation_id}/awards"): _post_award,
    ("POST", "/api/v1/scaling-proposals"): _post_scaling_proposal,
    ("POST", "/api/v1/sustainability-assessments"): _post_assessment,
    ("POST", "/api/v1/regulations"): _post_regulation,
    ("PATCH", "/api/v1/regulations/{regulation_id}"): _patch_regulation,
    ("POST", "/api/v1/incentives"): _post_incentive,
    ("POST", "/api/v1/hubs"): _post_hub,
    ("PATCH", "/api/v1/hubs/{hub_id}"): _patch_hub,
}


def test_province_probes_are_province_scoped_write_routes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    scoped = [key for key in WRITES if ACCESS[key].province_scoped]
    assert set(PROVINCE_PROBES) <= set(scoped)
    # A report, not a failure: scoped writes whose owners still owe a province test here.
    unprobed = [" ".join(key) for key in scoped if key not in PROVINCE_PROBES]
    with capsys.disabled():
        print(
            f"\nprovince probes: {len(scoped) - len(unprobed)}/{len(scoped)} scoped writes"
            + ("; not yet probed here: " + ", ".join(unprobed) if unprobed else "")
        )


PROVINCE_REFUSALS = [
    (method, path, role)
    for (method, path) in PROVINCE_PROBES
    for role in sorted(ACCESS[(method, path)].roles & PROVINCE_SCOPED_ROLES)
]


@pytest.mark.parametrize(
    ("method", "path", "role"),
    PROVINCE_REFUSALS,
    ids=[f"{m} {p} as {r.value} of 61" for m, p, r in PROVINCE_REFUSALS],
)
async def test_write_route_refuses_another_province_and_writes_nothing(
    client: httpx.AsyncClient,
    session: AsyncSession,
    make_key: MakeKey,
    admin: dict[str, str],
    method: str,
    path: str,
    role: Role,
) -> None:
    url, kwargs = await PROVINCE_PROBES[(method, path)](client, admin)
    headers = dict(kwargs.pop("headers", {})) | bearer(await make_key(role, "61"))
    if method == "POST":
        headers["Idempotency-Key"] = "other-province"
    before = await _table_counts(session)
    versions = (await session.execute(text("SELECT id, version FROM institutions"))).all()
    r = await client.request(method, url, headers=headers, **kwargs)
    assert problem(r, 403)["code"] == "other_province"
    assert await _table_counts(session) == before
    assert (await session.execute(text("SELECT id, version FROM institutions"))).all() == versions


PROVINCE_ADMITTED = [
    (method, path, role)
    for (method, path) in PROVINCE_PROBES
    for role in sorted(ACCESS[(method, path)].roles)
]


@pytest.mark.parametrize(
    ("method", "path", "role"),
    PROVINCE_ADMITTED,
    ids=[f"{m} {p} as {r.value}" for m, p, r in PROVINCE_ADMITTED],
)
async def test_write_route_admits_an_allowed_role_in_the_target_province(
    client: httpx.AsyncClient,
    session: AsyncSession,
    make_key: MakeKey,
    admin: dict[str, str],
    method: str,
    path: str,
    role: Role,
) -> None:
    url, kwargs = await PROVINCE_PROBES[(method, path)](client, admin)
    headers = dict(kwargs.pop("headers", {}))
    if role == Role.submitter:  # a key of the target's own institution
        institution = kwargs.get("json", {}).get("institution_id")
        if institution is None:
            institution = (await client.get(url, headers=admin)).json()["institution"]["id"]
        headers |= bearer(await submitter_key(session, institution))
    else:
        headers |= bearer(await make_key(role, "33" if role in PROVINCE_SCOPED_ROLES else None))
    r = await client.request(method, url, headers=headers, **kwargs)
    assert 200 <= r.status_code < 300, r.text
