"""The webhook dispatcher: follows the event log for every active subscription and sends
each subscription's events, in the log's order, until the receiver acknowledges them.

Work is claimed per subscription with a lease (`FOR UPDATE SKIP LOCKED`), so any number of
dispatchers (every `inovasi serve` worker, `inovasi webhooks work`, other replicas) share the
subscriptions and each delivery attempt is made by one of them. A dispatcher that dies
mid-delivery leaves its deliveries pending; when its lease runs out another one sends them
again (at least once). No database connection is held while a receiver answers, and each
subscription is a task of its own (at most `webhook_max_in_flight` at once), so a slow or
dead receiver delays nobody else.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import structlog
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.config import Settings
from app.core.db import create_engine
from app.events import repository as events
from app.events.schemas import EventRead
from app.models.event import Event
from app.models.webhook import WebhookSubscription
from app.webhooks import repository, signing
from app.webhooks.targets import Policy, TargetRefused, resolve

logger = structlog.get_logger("app.webhooks")

USER_AGENT = "InovasiHub-Webhooks/1.0"
EXCERPT_BYTES = 1024
EVENTS_PER_SCAN = 500
# Deliveries sent one after the other between two transactions, and rounds of them per claim
# before the lease is given back (others get their turn).
DELIVERIES_PER_ROUND = 20
ROUNDS_PER_CLAIM = 10
# Retried besides 5xx, timeouts and connection errors: "timeout" and "slow down".
RETRIED_4XX = frozenset({408, 429})


def matches(event_types: Sequence[str], action: str, entity: str) -> bool:
    """Whether a subscription that wants `event_types` wants an event."""
    return any(t == "*" or t == action or t == f"{entity}.*" for t in event_types)


def payload(event: Event) -> bytes:
    """The body of a delivery: Standard Webhooks' `type`, `timestamp` and `data`, where `data`
    is the event as `GET /events` shows it."""
    data = EventRead.model_validate(event).model_dump(mode="json")
    body = {"type": event.action, "timestamp": data["at"], "data": data}
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one attempt gave: a status code, or an error."""

    attempted_at: datetime
    latency_ms: int
    status_code: int | None = None
    excerpt: str = ""
    error: str | None = None
    refused: bool = False

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def retried(self) -> bool:
        if self.refused:
            return False
        if self.status_code is None:
            return True
        return self.status_code >= 500 or self.status_code in RETRIED_4XX


def backoff_s(attempts: int, base_s: float, max_s: float) -> float:
    """Exponential back-off with jitter: between half and all of base·2^(n−1), capped."""
    delay: float = min(max_s, base_s * 2.0 ** min(attempts - 1, 40))
    return delay / 2 + random.random() * delay / 2  # noqa: S311 - jitter, not a secret


def _last(outcome: Outcome) -> dict[str, Any]:
    return {
        "last_attempt_at": outcome.attempted_at,
        "last_status_code": outcome.status_code,
        "last_error": outcome.error,
    }


def _excerpt(raw: bytes) -> str:
    return raw[:EXCERPT_BYTES].decode("utf-8", errors="replace").replace("\x00", "\ufffd")


class Dispatcher:
    """Delivers webhooks until stopped. `sessions` should be a pool of its own, so that
    deliveries never take connections from requests."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self.sessions = sessions
        self.settings = settings
        self.policy = Policy.of(settings)
        self.token = uuid.uuid4()
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: asyncio.Task[None] | None = None

    # --- life cycle -----------------------------------------------------------------------

    def start(self) -> None:
        self._runner = asyncio.create_task(self.run(), name="webhook-dispatcher")

    async def stop(self, grace_s: float = 5.0) -> None:
        """Stop claiming, let deliveries in flight finish for `grace_s`, then cancel them
        (they stay pending and are sent again) and give the leases back."""
        self._stopping.set()
        self._wake.set()
        if self._runner is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._runner
        if self._tasks:
            _, pending = await asyncio.wait(self._tasks, timeout=grace_s)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        with contextlib.suppress(Exception):
            async with self.sessions() as session, session.begin():
                await repository.release_all(session, self.token)

    async def run(self) -> None:
        limit = self.settings.webhook_max_in_flight
        while not self._stopping.is_set():
            free = limit - len(self._tasks)
            if free > 0:
                for subscription_id in await self._claim(free):
                    task = asyncio.create_task(self._work(subscription_id))
                    self._tasks.add(task)
                    task.add_done_callback(self._done)
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.webhook_poll_interval_s)

    def _done(self, task: asyncio.Task[None]) -> None:
        # No wake-up: a subscription whose events are not visible yet (an older transaction
        # still runs) is claimed again at the next poll, not in a busy loop.
        self._tasks.discard(task)

    async def _claim(self, limit: int) -> list[uuid.UUID]:
        try:
            async with self.sessions() as session, session.begin():
                return await repository.claim(
                    session, limit=limit, lease_s=self.settings.webhook_lease_s, token=self.token
                )
        except Exception as exc:  # the database is away: try again at the next poll
            logger.warning("webhook_claim_failed", error=str(exc))
            return []

    # --- one subscription -----------------------------------------------------------------

    async def _work(self, subscription_id: uuid.UUID) -> None:
        """Rounds of: record what the last round sent, turn new events into deliveries and
        take the oldest pending ones (one transaction); send them one after the other until
        one is not acknowledged (no transaction open). Ends, giving the lease back, when
        nothing is due, after ROUNDS_PER_CLAIM rounds, or on stopping."""
        try:
            async with self._client() as client:
                subscription: WebhookSubscription | None = None
                sent: list[tuple[Any, Outcome]] = []
                for round_ in range(ROUNDS_PER_CLAIM + 1):
                    last = round_ == ROUNDS_PER_CLAIM or self._stopping.is_set()
                    async with self.sessions() as session, session.begin():
                        taken = await self._round(
                            session, subscription_id, subscription, sent, last
                        )
                    if taken is None:
                        return
                    subscription, rows = taken
                    sent = await self._send_due(client, subscription, rows)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the lease runs out and the work is taken up again
            logger.warning("webhook_work_failed", subscription=str(subscription_id), error=str(exc))

    async def _round(
        self,
        session: AsyncSession,
        subscription_id: uuid.UUID,
        subscription: WebhookSubscription | None,
        sent: list[tuple[Any, Outcome]],
        last: bool,
    ) -> tuple[WebhookSubscription, list[Any]] | None:
        """One transaction: what was sent, recorded; then the deliveries due now with the
        renewed subscription, or None when the lease has been given back."""
        if subscription is not None and sent:
            if not await self._record(session, subscription, sent):
                return None  # retried later, or failing: the lease is given back
        if last:
            await repository.release(session, subscription_id, self.token, None)
            return None
        renewed = await repository.leased(
            session, subscription_id, self.token, self.settings.webhook_lease_s
        )
        if renewed is None:  # paused, deleted or taken over meanwhile
            await repository.release(session, subscription_id, self.token, None)
            return None
        await self._enqueue(session, renewed)
        rows = await repository.heads(session, subscription_id, DELIVERIES_PER_ROUND)
        if not rows or not rows[0].due:
            retry_at = rows[0].WebhookDelivery.next_attempt_at if rows else None
            await repository.release(session, subscription_id, self.token, retry_at)
            return None
        return renewed, rows

    async def _send_due(
        self, client: httpx.AsyncClient, subscription: WebhookSubscription, rows: list[Any]
    ) -> list[tuple[Any, Outcome]]:
        """Send the due deliveries in order, until one is neither acknowledged nor refused
        for good."""
        sent: list[tuple[Any, Outcome]] = []
        for row in rows:
            if not row.due or self._stopping.is_set():
                break
            delivery = row.WebhookDelivery
            outcome = await self.send(client, subscription, str(delivery.id), payload(row.Event))
            sent.append((delivery, outcome))
            if not outcome.delivered and (outcome.retried or outcome.refused):
                break
        return sent

    def _client(self) -> httpx.AsyncClient:
        s = self.settings
        return httpx.AsyncClient(
            follow_redirects=False,
            trust_env=False,  # never through a proxy from the environment
            timeout=httpx.Timeout(s.webhook_timeout_s, connect=s.webhook_connect_timeout_s),
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
        )

    async def _enqueue(self, session: AsyncSession, subscription: WebhookSubscription) -> None:
        """New events of the subscription's scope, by the event feed's own rule: in commit-safe
        order, its province's only for a coordinator's or integration's subscription."""
        rows = await events.list_after(
            session,
            after=(subscription.cursor_txid, subscription.cursor_id),
            entity=None,
            entity_id=None,
            province=subscription.province_code,
            limit=EVENTS_PER_SCAN,
        )
        if rows:
            wanted = [e for e in rows if matches(subscription.event_types, e.action, e.entity)]
            await repository.enqueue(session, subscription.id, wanted, (rows[-1].txid, rows[-1].id))

    async def send(
        self, client: httpx.AsyncClient, subscription: WebhookSubscription, msg_id: str, body: bytes
    ) -> Outcome:
        """One signed POST to the subscription's URL, bounded in time and in what is read."""
        s = self.settings
        now = datetime.now(UTC)
        secrets = [subscription.secret]
        if (
            subscription.previous_secret is not None
            and subscription.previous_secret_expires_at is not None
            and subscription.previous_secret_expires_at > now
        ):
            secrets.append(subscription.previous_secret)
        headers = {
            **signing.headers(secrets, msg_id, int(now.timestamp()), body),
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "accept-encoding": "identity",
        }
        started = time.monotonic()

        def outcome(**kwargs: Any) -> Outcome:
            latency = round((time.monotonic() - started) * 1000)
            return Outcome(attempted_at=now, latency_ms=latency, **kwargs)

        try:
            async with asyncio.timeout(s.webhook_connect_timeout_s + s.webhook_timeout_s):
                target = await resolve(self.policy, subscription.url)
                response = await client.send(target.request(body, headers), stream=True)
                try:
                    raw = await _read_at_most(response, s.webhook_max_response_bytes)
                finally:
                    await response.aclose()
        except TargetRefused as exc:
            return outcome(error=f"refused: {exc}", refused=True)
        except (TimeoutError, httpx.TimeoutException):
            return outcome(error="timeout")
        except (httpx.HTTPError, OSError) as exc:
            return outcome(error=f"connection error: {type(exc).__name__}: {exc}"[:500])
        return outcome(status_code=response.status_code, excerpt=_excerpt(raw))

    async def _record(
        self,
        session: AsyncSession,
        subscription: WebhookSubscription,
        sent: list[tuple[Any, Outcome]],
    ) -> bool:
        """Log the attempts and move the deliveries on. True when the next ones may go now."""
        await repository.insert_attempts(
            session,
            [
                {
                    "delivery_id": delivery.id,
                    "attempted_at": outcome.attempted_at,
                    "status_code": outcome.status_code,
                    "error": outcome.error,
                    "latency_ms": outcome.latency_ms,
                    "response_excerpt": outcome.excerpt,
                }
                for delivery, outcome in sent
            ],
        )
        done = [(d, o) for d, o in sent if o.delivered or not (o.retried or o.refused)]
        await repository.update_deliveries(
            session,
            [
                {
                    "id": delivery.id,
                    "attempts": delivery.attempts + 1,
                    "status": "delivered" if outcome.delivered else "failed",
                    "delivered_at": outcome.attempted_at if outcome.delivered else None,
                    **_last(outcome),
                }
                for delivery, outcome in done
            ],
        )
        delivered = [o.attempted_at for _, o in done if o.delivered]
        if delivered:
            await repository.update_leased(
                session, subscription.id, {"last_delivered_at": delivered[-1], "retry_at": None}
            )
        if len(done) == len(sent):  # each acknowledged, or refused for good: carry on
            return True
        delivery, outcome = sent[-1]
        if outcome.refused:
            await repository.update_deliveries(
                session, [{"id": delivery.id, "attempts": delivery.attempts + 1, **_last(outcome)}]
            )
            await repository.mark_failing(session, subscription.id, outcome.error or "refused")
            return False
        s = self.settings
        retry_until = delivery.retry_until or outcome.attempted_at + timedelta(
            seconds=s.webhook_retry_window_s
        )
        delay = backoff_s(delivery.attempts + 1, s.webhook_backoff_base_s, s.webhook_backoff_max_s)
        # The last attempt is made at the end of the window: retried for the whole of it.
        next_at = min(datetime.now(UTC) + timedelta(seconds=delay), retry_until)
        await repository.update_deliveries(
            session,
            [
                {
                    "id": delivery.id,
                    "attempts": delivery.attempts + 1,
                    "retry_until": retry_until,
                    "next_attempt_at": next_at,
                    **_last(outcome),
                }
            ],
        )
        if outcome.attempted_at >= retry_until:
            what = outcome.error or f"status {outcome.status_code}"
            since = retry_until - timedelta(seconds=s.webhook_retry_window_s)
            await repository.mark_failing(
                session,
                subscription.id,
                f"Not acknowledged after {delivery.attempts + 1} attempts since "
                f"{since.isoformat()} (last: {what}).",
            )
            return False
        await repository.release(session, subscription.id, self.token, next_at)
        return False


async def _read_at_most(response: httpx.Response, limit: int) -> bytes:
    """The response body, or its first `limit` bytes (the rest is not read)."""
    chunks, size = [], 0
    async for chunk in response.aiter_raw():
        chunks.append(chunk)
        size += len(chunk)
        if size >= limit:
            break
    return b"".join(chunks)[:limit]


class Running:
    """A dispatcher with a small connection pool of its own (what the app and the CLI run)."""

    def __init__(self, url: URL, settings: Settings) -> None:
        pool = settings.model_copy(update={"db_pool_size": 2, "db_max_overflow": 2})
        self.engine = create_engine(url, pool)
        self.dispatcher = Dispatcher(
            async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False), settings
        )
        self.dispatcher.start()

    async def stop(self) -> None:
        try:
            await self.dispatcher.stop()
        finally:
            await self.engine.dispose()
