"""POST /commitments/{id}/transitions: the status machine, every one of the 36 (from, to)
pairs, the reason a cancellation needs, If-Match when sent, events and province scope."""

from __future__ import annotations

import itertools
import uuid

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.security import Role
from tests.conftest import MakeKey, problem, version_of
from tests.replication._api import (
    Headers,
    commitment_row,
    events_of,
    key,
    make_scene,
    scalar,
    set_commitment,
    snapshot,
    url_of,
)

STATUSES = ["committed", "in_progress", "stalled", "launched", "sustained", "cancelled"]
# The machine as the specification states it: committed → in_progress → launched →
# sustained; committed | in_progress ⇄ stalled; any non-final → cancelled.
ALLOWED: dict[str, set[str]] = {
    "committed": {"in_progress", "stalled", "cancelled"},
    "in_progress": {"launched", "stalled", "cancelled"},
    "stalled": {"committed", "in_progress", "cancelled"},
    "launched": {"sustained", "cancelled"},
    "sustained": set(),
    "cancelled": set(),
}
PAIRS = list(itertools.product(STATUSES, STATUSES))
LEGAL = [(a, b) for a, b in PAIRS if b in ALLOWED[a]]
ILLEGAL = [(a, b) for a, b in PAIRS if b not in ALLOWED[a]]


def transitions(commitment: object) -> str:
    return url_of(commitment, "/transitions")


def test_the_pairs_cover_all_36_moves_and_eleven_are_legal() -> None:
    assert len(PAIRS) == 36
    assert len(LEGAL) == 11
    assert sorted(LEGAL + ILLEGAL) == sorted(PAIRS)


@pytest.mark.parametrize(("current", "to"), LEGAL, ids=[f"{a}->{b}" for a, b in LEGAL])
async def test_legal_move_changes_status_and_writes_one_event(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers, current: str, to: str
) -> None:
    s = await make_scene(client, session, admin)
    await set_commitment(session, s.commitment, status=current)
    version = (await commitment_row(session, s.commitment)).version
    before = len(await events_of(session, s.commitment))

    r = await client.post(
        transitions(s.commitment), json={"to": to, "reason": "Rapat evaluasi"}, headers=admin
    )

    assert r.status_code == 200, r.text
    assert r.json()["status"] == to
    assert version_of(r.headers["ETag"]) == version + 1
    row = await commitment_row(session, s.commitment)
    assert (row.status, row.status_reason, row.version) == (to, "Rapat evaluasi", version + 1)
    events = await events_of(session, s.commitment)
    assert len(events) == before + 1
    assert (events[-1].action, events[-1].province_code) == ("commitment.transitioned", "33")
    assert events[-1].changes == {"from": current, "to": to, "reason": "Rapat evaluasi"}


@pytest.mark.parametrize(("current", "to"), ILLEGAL, ids=[f"{a}->{b}" for a, b in ILLEGAL])
async def test_illegal_move_is_409_naming_the_allowed_moves_and_changes_nothing(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers, current: str, to: str
) -> None:
    s = await make_scene(client, session, admin)
    await set_commitment(session, s.commitment, status=current)
    before = await snapshot(session)

    r = await client.post(
        transitions(s.commitment), json={"to": to, "reason": "Coba"}, headers=admin
    )

    body = problem(r, 409)
    assert body["code"] == "illegal_transition"
    assert body["allowed"] == sorted(ALLOWED[current])
    assert await snapshot(session) == before
    assert (await commitment_row(session, s.commitment)).status == current


async def test_a_commitment_walks_the_whole_happy_path(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    s = await make_scene(client, session, admin)

    for to in ("in_progress", "stalled", "in_progress", "launched", "sustained"):
        r = await client.post(transitions(s.commitment), json={"to": to}, headers=admin)
        assert r.status_code == 200, r.text

    events = await events_of(session, s.commitment)
    moves = [(e.changes["from"], e.changes["to"]) for e in events[1:]]
    assert moves == [
        ("committed", "in_progress"),
        ("in_progress", "stalled"),
        ("stalled", "in_progress"),
        ("in_progress", "launched"),
        ("launched", "sustained"),
    ]
    assert (await commitment_row(session, s.commitment)).version == 6


@pytest.mark.parametrize("reason", [None, "", "   "], ids=["missing", "empty", "blank"])
async def test_cancelling_without_a_reason_is_422(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers, reason: str | None
) -> None:
    s = await make_scene(client, session, admin)
    before = await snapshot(session)
    body = {"to": "cancelled"} | ({"reason": reason} if reason is not None else {})

    r = await client.post(transitions(s.commitment), json=body, headers=admin)

    assert problem(r, 422)["errors"][0]["pointer"] == "/body/reason"
    assert await snapshot(session) == before


async def test_cancelling_keeps_the_reason_and_takes_the_replication_off_the_innovation(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    s = await make_scene(client, session, admin)
    count_sql = "SELECT replication_count FROM innovations WHERE id = :id"
    assert await scalar(session, count_sql, id=s.innovation) == 1

    r = await client.post(
        transitions(s.commitment),
        json={"to": "cancelled", "reason": "Anggaran dialihkan"},
        headers=admin,
    )

    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["status_reason"]) == ("cancelled", "Anggaran dialihkan")
    assert await scalar(session, count_sql, id=s.innovation) == 0


async def test_unknown_target_status_is_422(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    s = await make_scene(client, session, admin)

    r = await client.post(transitions(s.commitment), json={"to": "done"}, headers=admin)

    assert problem(r, 422)["errors"][0]["pointer"] == "/body/to"


async def test_transition_of_an_unknown_commitment_is_404(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    r = await client.post(transitions(uuid.uuid4()), json={"to": "stalled"}, headers=admin)

    problem(r, 404)


async def test_transition_with_a_current_if_match_is_applied(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    s = await make_scene(client, session, admin)

    r = await client.post(
        transitions(s.commitment), json={"to": "stalled"}, headers=admin | {"If-Match": '"1"'}
    )

    assert r.status_code == 200, r.text
    assert version_of(r.headers["ETag"]) == 2


async def test_transition_with_a_stale_if_match_is_412(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    s = await make_scene(client, session, admin)
    await client.post(transitions(s.commitment), json={"to": "stalled"}, headers=admin)
    before = await snapshot(session)

    r = await client.post(
        transitions(s.commitment), json={"to": "committed"}, headers=admin | {"If-Match": '"1"'}
    )

    assert problem(r, 412)["code"] == "stale_version"
    assert await snapshot(session) == before


async def test_coordinator_of_the_province_moves_a_commitment(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers, make_key: MakeKey
) -> None:
    s = await make_scene(client, session, admin)
    coordinator = await key(make_key, Role.coordinator, "33")

    r = await client.post(
        transitions(s.commitment), json={"to": "in_progress"}, headers=coordinator
    )

    assert r.status_code == 200, r.text
    assert (await events_of(session, s.commitment))[-1].actor_role == "coordinator"


@pytest.mark.parametrize(
    ("role", "province", "code"),
    [
        (Role.coordinator, "61", "other_province"),
        (Role.integration, "61", "role_not_allowed"),
        (Role.integration, "33", "role_not_allowed"),
        (Role.reviewer, None, "role_not_allowed"),
    ],
)
async def test_transition_refused_to_keys_that_may_not_manage_the_commitment(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: Headers,
    make_key: MakeKey,
    role: Role,
    province: str | None,
    code: str,
) -> None:
    s = await make_scene(client, session, admin)
    other = await key(make_key, role, province)
    before = await snapshot(session)

    r = await client.post(
        transitions(s.commitment),
        json={"to": "cancelled", "reason": "Bukan wewenang"},
        headers=other,
    )

    assert problem(r, 403)["code"] == code
    assert await snapshot(session) == before
