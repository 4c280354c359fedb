"""Deliveries to real HTTP receivers on 127.0.0.1 by a real dispatcher, on committed data."""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.security import Role
from tests.conftest import bearer
from tests.webhooks._receiver import Answer, Received, Receiver, receiving
from tests.webhooks.conftest import (
    WEBHOOKS,
    StartDispatcher,
    make_institutions,
    subscribe,
    until,
)

CommittedKey = Callable[..., Any]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as r:
        yield r


async def _deliveries(client: httpx.AsyncClient, key: str, webhook_id: str) -> list[Any]:
    r = await client.get(f"{WEBHOOKS}/{webhook_id}/deliveries", headers=bearer(key))
    assert r.status_code == 200, r.text
    items: list[Any] = r.json()["items"]
    return items


async def _settled(client: httpx.AsyncClient, key: str, webhook_id: str) -> list[Any]:
    """The delivery log once no delivery is pending (the receipt is recorded just after)."""
    deadline = time.monotonic() + 5
    while True:
        log = await _deliveries(client, key, webhook_id)
        if all(d["status"] != "pending" for d in log):
            return log
        assert time.monotonic() < deadline, log
        await asyncio.sleep(0.02)


async def test_every_delivery_verifies_with_the_standardwebhooks_package(
    committed_client: httpx.AsyncClient,
    committed_key: CommittedKey,
    start_dispatcher: StartDispatcher,
    receiver: Receiver,
) -> None:
    admin = await committed_key(Role.admin)
    webhook = await subscribe(committed_client, admin, receiver.url)
    receiver.secrets = [webhook["secret"]]
    ids = await make_institutions(committed_client, admin, 5)
    start_dispatcher()

    await until(lambda: len(receiver.received) >= 5)
    assert all(r.verified for r in receiver.received)
    # In event-log order, one delivery each, the event as the feed shows it.
    bodies = [json.loads(b) for b in receiver.bodies()]
    assert [b["data"]["entity_id"] for b in bodies] == ids
    assert {b["type"] for b in bodies} == {"institution.created"}
    feed = (await committed_client.get("/api/v1/events", headers=bearer(admin))).json()["items"]
    by_id = {e["id"]: e for e in feed}
    assert all(by_id[b["data"]["id"]] == b["data"] for b in bodies)
    assert len(set(receiver.ids())) == 5
    headers = receiver.received[0].headers
    assert headers["content-type"] == "application/json"
    assert headers["webhook-signature"].startswith("v1,")
    log = await _settled(committed_client, admin, webhook["id"])
    assert [d["status"] for d in log] == ["delivered"] * 5


async def test_a_tampered_body_does_not_verify(receiver: Receiver) -> None:
    """The receiver's check can fail: a signature over other bytes is refused."""
    from app.webhooks import signing

    secret = signing.new_secret()
    receiver.secrets = [secret]
    body = b'{"type":"x"}'
    headers = signing.headers([secret], "msg_1", int(time.time()), body)
    async with httpx.AsyncClient() as client:
        good = await client.post(receiver.url, content=body, headers=headers)
        bad = await client.post(receiver.url, content=body + b" ", headers=headers)
    assert (good.status_code, bad.status_code) == (200, 401)


async def test_a_failing_receiver_is_retried_until_it_accepts(
    committed_client: httpx.AsyncClient,
    committed_key: CommittedKey,
    start_dispatcher: StartDispatcher,
) -> None:
    def fail_twice(request: Received, n: int) -> Answer:
        return Answer(status=503, body=b"maintenance") if n < 2 else Answer()

    admin = await committed_key(Role.admin)
    with receiving(fail_twice) as receiver:
        webhook = await subscribe(committed_client, admin, receiver.url)
        await make_institutions(committed_client, admin, 2)
        start_dispatcher()
        await until(lambda: len(receiver.received) >= 4)
        await asyncio.sleep(0.5)  # nothing more is sent once acknowledged

    ids = receiver.ids()
    assert len(ids) == 4
    first, second = ids[0], ids[3]
    assert ids[:3] == [first] * 3  # the same webhook-id on every attempt, and order kept
    assert second != first
    newest, oldest = await _settled(committed_client, admin, webhook["id"])
    assert oldest["id"] == first
    assert oldest["status"] == "delivered"
    assert oldest["attempt_count"] == 3
    assert [a["status_code"] for a in oldest["attempts"]] == [200, 503, 503]
    assert oldest["attempts"][1]["response_excerpt"] == "maintenance"
    assert all(a["latency_ms"] >= 0 for a in oldest["attempts"])
    assert (newest["status"], newest["attempt_count"]) == ("delivered", 1)


async def test_other_4xx_are_not_retried_and_the_next_event_goes(
    committed_client: httpx.AsyncClient,
    committed_key: CommittedKey,
    start_dispatcher: StartDispatcher,
) -> None:
    def refuse_first(request: Received, n: int) -> Answer:
        return Answer(status=422, body=b"unknown type") if n == 0 else Answer()

    admin = await committed_key(Role.admin)
    with receiving(refuse_first) as receiver:
        webhook = await subscribe(committed_client, admin, receiver.url)
        await make_institutions(committed_client, admin, 2)
        start_dispatcher()
        await until(lambda: len(receiver.received) >= 2)
        await asyncio.sleep(0.5)
    assert len(receiver.received) == 2
    newest, oldest = await _settled(committed_client, admin, webhook["id"])
    assert (oldest["status"], oldest["attempt_count"], oldest["last_status_code"]) == (
        "failed",
        1,
        422,
    )
    assert newest["status"] == "delivered"


async def test_redirects_are_not_followed(
    committed_client: httpx.AsyncClient,
    committed_key: CommittedKey,
    start_dispatcher: StartDispatcher,
    receiver: Receiver,
) -> None:
    def redirect(request: Received, n: int) -> Answer:
        return Answer(status=307, headers={"location": receiver.url})

    admin = await committed_key(Role.admin)
    with receiving(redirect) as redirecting:
        webhook = await subscribe(committed_client, admin, redirecting.url)
        await make_institutions(committed_client, admin, 1)
        start_dispatcher()
        await until(lambda: len(redirecting.received) >= 1)
        await asyncio.sleep(0.3)
    assert receiver.received == []
    (delivery,) = await _settled(committed_client, admin, webhook["id"])
    assert (delivery["status"], delivery["last_status_code"]) == ("failed", 307)


async def test_a_hanging_receiver_delays_neither_requests_nor_other_subscriptions(
    committed_client: httpx.AsyncClient,
    committed_key: CommittedKey,
    start_dispatcher: StartDispatcher,
    receiver: Receiver,
) -> None:
    def hang(request: Received, n: int) -> Answer:
        return Answer(delay_s=5)

    admin = await committed_key(Role.admin)
    with receiving(hang) as hanging:
        await subscribe(committed_client, admin, hanging.url)
        await subscribe(committed_client, admin, receiver.url)
        start_dispatcher(webhook_timeout_s=3.0, webhook_lease_s=10.0)
        latencies = []
        for n in range(10):
            started = time.monotonic()
            await make_institutions(committed_client, admin, 1)
            latencies.append(time.monotonic() - started)
            await until(lambda n=n: len(receiver.received) >= n + 1, within=2)  # type: ignore[misc]
            await asyncio.sleep(0.05)
        # The hanging receiver got its first delivery and is still holding it.
        assert len(hanging.received) == 1
    assert len(receiver.received) == 10
    assert max(latencies) < 0.5, latencies
    assert statistics.median(latencies) < 0.1, latencies


async def test_a_province_subscription_never_receives_another_province(
    committed_client: httpx.AsyncClient,
    committed_key: CommittedKey,
    start_dispatcher: StartDispatcher,
    receiver: Receiver,
) -> None:
    admin = await committed_key(Role.admin)
    coordinator = await committed_key(Role.coordinator, "33")
    with receiving() as everything:
        mine = await subscribe(committed_client, coordinator, receiver.url)
        await subscribe(committed_client, admin, everything.url)
        central_java = await make_institutions(committed_client, admin, 2, "33.74")
        west_java = await make_institutions(committed_client, admin, 2, "32.73")
        national = await committed_client.post(
            "/api/v1/institutions",
            json={"name": "Kementerian Uji", "kind": "ministry", "region_code": None},
            headers=bearer(admin),
        )
        assert national.status_code == 201, national.text
        central_java += await make_institutions(committed_client, admin, 1, "33.74")
        start_dispatcher()
        await until(lambda: len(everything.received) >= 5 and len(receiver.received) >= 3)
        await asyncio.sleep(0.5)
    got = [json.loads(b)["data"] for b in receiver.bodies()]
    assert [e["entity_id"] for e in got] == central_java
    assert {e["province_code"] for e in got} == {"33"}
    all_ids = [json.loads(b)["data"]["entity_id"] for b in everything.bodies()]
    assert all_ids == central_java[:2] + west_java + [national.json()["id"], central_java[2]]
    assert mine["province_code"] == "33"


async def test_only_the_event_types_asked_for_are_delivered(
    committed_client: httpx.AsyncClient,
    committed_key: CommittedKey,
    start_dispatcher: StartDispatcher,
    receiver: Receiver,
) -> None:
    admin = await committed_key(Role.admin)
    await subscribe(committed_client, admin, receiver.url, ["institution.updated"])
    (created,) = await make_institutions(committed_client, admin, 1)
    r = await committed_client.patch(
        f"/api/v1/institutions/{created}",
        json={"name": "Dinas Baru Uji"},
        headers=bearer(admin) | {"If-Match": '"1"'},
    )
    assert r.status_code == 200, r.text
    start_dispatcher()
    await until(lambda: len(receiver.received) >= 1)
    await asyncio.sleep(0.3)
    assert [json.loads(b)["type"] for b in receiver.bodies()] == ["institution.updated"]


async def test_two_dispatchers_deliver_each_event_once(
    committed_client: httpx.AsyncClient,
    committed_key: CommittedKey,
    start_dispatcher: StartDispatcher,
    engine: AsyncEngine,
) -> None:
    admin = await committed_key(Role.admin)
    with receiving() as a, receiving() as b, receiving() as c:
        for receiver in (a, b, c):
            await subscribe(committed_client, admin, receiver.url, ["institution.*"])
        first, second = start_dispatcher(), start_dispatcher()
        await make_institutions(committed_client, admin, 20)
        await until(lambda: all(len(r.received) >= 20 for r in (a, b, c)), within=20)
        await asyncio.sleep(0.5)
        counts = [Counter(r.ids()) for r in (a, b, c)]
    assert [len(c) for c in counts] == [20, 20, 20]
    assert all(set(c.values()) == {1} for c in counts)
    assert first.token != second.token
    async with engine.connect() as conn:
        attempts = await conn.scalar(text("SELECT count(*) FROM webhook_attempts"))
    assert attempts == 60


async def test_retries_give_up_after_the_window_then_resume_delivers(
    committed_client: httpx.AsyncClient,
    committed_key: CommittedKey,
    start_dispatcher: StartDispatcher,
) -> None:
    healthy = False

    def down(request: Received, n: int) -> Answer:
        return Answer() if healthy else Answer(status=500)

    admin = await committed_key(Role.admin)
    with receiving(down) as receiver:
        webhook = await subscribe(committed_client, admin, receiver.url, ["institution.*"])
        await make_institutions(committed_client, admin, 2)
        start_dispatcher(webhook_retry_window_s=1.0)

        async def status() -> dict[str, Any]:
            r = await committed_client.get(f"{WEBHOOKS}/{webhook['id']}", headers=bearer(admin))
            return dict(r.json()) | {"etag": r.headers["etag"]}

        deadline = time.monotonic() + 10
        while (current := await status())["status"] != "failing":
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
        assert "Not acknowledged" in current["failure_reason"]
        tried = len(receiver.received)
        assert tried >= 3
        assert set(receiver.ids()) == {receiver.ids()[0]}  # the second waits behind the first
        first_at, last_at = receiver.received[0].at, receiver.received[-1].at
        assert last_at - first_at >= 1.0  # retried for the whole window
        await asyncio.sleep(0.5)
        assert len(receiver.received) == tried  # failing: nothing more is sent

        healthy = True
        r = await committed_client.patch(
            f"{WEBHOOKS}/{webhook['id']}",
            json={"status": "active"},
            headers=bearer(admin) | {"If-Match": current["etag"]},
        )
        assert r.status_code == 200, r.text
        assert (r.json()["status"], r.json()["failure_reason"]) == ("active", None)
        await until(lambda: len(set(receiver.ids())) == 2)
    log = await _settled(committed_client, admin, webhook["id"])
    assert [d["status"] for d in log] == ["delivered", "delivered"]


async def test_a_target_resolving_to_a_refused_address_marks_the_subscription_failing(
    committed_client: httpx.AsyncClient,
    committed_key: CommittedKey,
    start_dispatcher: StartDispatcher,
    receiver: Receiver,
) -> None:
    admin = await committed_key(Role.admin)
    webhook = await subscribe(committed_client, admin, receiver.url)
    await make_institutions(committed_client, admin, 1)
    # This dispatcher allows no private network: 127.0.0.1 is refused at delivery.
    start_dispatcher(webhook_private_networks=[])

    async def current() -> dict[str, Any]:
        r = await committed_client.get(f"{WEBHOOKS}/{webhook['id']}", headers=bearer(admin))
        return dict(r.json())

    deadline = time.monotonic() + 5
    while (state := await current())["status"] != "failing":
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    assert "private" in state["failure_reason"]
    assert receiver.received == []
    (delivery,) = await _deliveries(committed_client, admin, webhook["id"])
    assert delivery["status"] == "pending"  # kept for when the target is fixed
    assert delivery["attempts"][0]["error"].startswith("refused")


async def test_rotation_signs_with_both_secrets_during_the_overlap(
    committed_client: httpx.AsyncClient,
    committed_key: CommittedKey,
    start_dispatcher: StartDispatcher,
) -> None:
    admin = await committed_key(Role.admin)
    with receiving() as old_only, receiving() as new_only:
        webhooks = [await subscribe(committed_client, admin, r.url) for r in (old_only, new_only)]
        secrets = []
        for webhook in webhooks:
            r = await committed_client.post(
                f"{WEBHOOKS}/{webhook['id']}/rotate-secret",
                json={"overlap_hours": 1},
                headers=bearer(admin),
            )
            assert r.status_code == 200, r.text
            secrets.append(r.json()["secret"])
        old_only.secrets = [webhooks[0]["secret"]]
        new_only.secrets = [secrets[1]]
        await make_institutions(committed_client, admin, 1)
        start_dispatcher()
        await until(lambda: len(old_only.received) >= 1 and len(new_only.received) >= 1)
    assert old_only.received[0].verified
    assert new_only.received[0].verified
    assert len(old_only.received[0].headers["webhook-signature"].split(" ")) == 2


async def test_rotation_without_overlap_stops_the_old_secret_at_once(
    committed_client: httpx.AsyncClient,
    committed_key: CommittedKey,
    start_dispatcher: StartDispatcher,
) -> None:
    admin = await committed_key(Role.admin)
    with receiving() as receiver:
        webhook = await subscribe(committed_client, admin, receiver.url)
        r = await committed_client.post(
            f"{WEBHOOKS}/{webhook['id']}/rotate-secret",
            json={"overlap_hours": 0},
            headers=bearer(admin),
        )
        receiver.secrets = [webhook["secret"]]
        await make_institutions(committed_client, admin, 1)
        start_dispatcher()
        await until(lambda: len(receiver.received) >= 1)
    assert receiver.received[0].verified is False
    assert receiver.verify(receiver.received[0]) is False
    receiver.secrets = [r.json()["secret"]]
    assert receiver.verify(receiver.received[0]) is True


async def test_a_delivery_can_be_sent_again_by_hand(
    committed_client: httpx.AsyncClient,
    committed_key: CommittedKey,
    start_dispatcher: StartDispatcher,
    receiver: Receiver,
) -> None:
    admin = await committed_key(Role.admin)
    webhook = await subscribe(committed_client, admin, receiver.url, ["institution.*"])
    await make_institutions(committed_client, admin, 1)
    start_dispatcher()
    await until(lambda: len(receiver.received) >= 1)
    (delivery,) = await _settled(committed_client, admin, webhook["id"])
    url = f"{WEBHOOKS}/{webhook['id']}/deliveries/{delivery['id']}/redeliver"
    r = await committed_client.post(url, headers=bearer(admin))
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "pending"
    await until(lambda: len(receiver.received) >= 2)
    assert receiver.ids() == [delivery["id"], delivery["id"]]
    assert receiver.bodies()[0] == receiver.bodies()[1]
    (again,) = await _settled(committed_client, admin, webhook["id"])
    assert (again["id"], again["status"], again["attempt_count"]) == (
        delivery["id"],
        "delivered",
        2,
    )
    r = await committed_client.get(
        f"{WEBHOOKS}/{webhook['id']}/deliveries/{delivery['id']}", headers=bearer(admin)
    )
    assert r.json() == again


async def test_a_large_response_is_read_only_up_to_the_limit(
    committed_client: httpx.AsyncClient,
    committed_key: CommittedKey,
    start_dispatcher: StartDispatcher,
) -> None:
    def large(request: Received, n: int) -> Answer:
        return Answer(body=b"x" * 5_000_000)

    admin = await committed_key(Role.admin)
    with receiving(large) as receiver:
        webhook = await subscribe(committed_client, admin, receiver.url)
        await make_institutions(committed_client, admin, 1)
        start_dispatcher()
        await until(lambda: len(receiver.received) >= 1)
        await asyncio.sleep(0.3)
    (delivery,) = await _settled(committed_client, admin, webhook["id"])
    assert delivery["status"] == "delivered"
    assert delivery["attempts"][0]["response_excerpt"] == "x" * 1024
