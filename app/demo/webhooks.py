"""Demo data of webhooks: a subscription of Jawa Tengah's provincial system (SIPD) to
commitments, progress reports and scaling decisions. It is paused, so that a demo server
never sends anything to the real address; its delivery log holds one illustrative delivery.
Loaded through the webhook service, idempotently."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.security import Principal
from app.demo import data
from app.webhooks import repository, service
from app.webhooks.schemas import SettableStatus, WebhookCreate, WebhookUpdate

WEBHOOK_ID = data.demo_id("webhook", "SIPD Jawa Tengah")
DELIVERY_ID = data.demo_id("webhook_delivery", "SIPD Jawa Tengah", "created")


async def load(session: AsyncSession, principal: Principal, created: Counter[str]) -> None:
    if await repository.get_subscription(session, WEBHOOK_ID) is not None:
        return
    await service.create(
        session,
        principal,
        WebhookCreate.model_validate(
            {
                "url": "https://sipd.jatengprov.go.id/webhooks/inovasi",
                "event_types": ["commitment.*", "progress_report.*", "scaling_proposal.decided"],
                "description": "SIPD Jawa Tengah: dasbor replikasi Biro Organisasi (demo)",
            }
        ),
        record_id=WEBHOOK_ID,
    )
    await service.update(
        session, principal, WEBHOOK_ID, 1, WebhookUpdate(status=SettableStatus.paused)
    )
    event = await repository.first_event_of(session, WEBHOOK_ID)
    now = datetime.now(UTC)
    await repository.insert_delivery_log(
        session,
        {
            "id": DELIVERY_ID,
            "subscription_id": WEBHOOK_ID,
            "event_id": event.id,
            "event_txid": event.txid,
            "status": "delivered",
            "attempts": 1,
            "last_attempt_at": now,
            "last_status_code": 200,
            "delivered_at": now,
        },
        {
            "delivery_id": DELIVERY_ID,
            "attempted_at": now,
            "status_code": 200,
            "latency_ms": 87,
            "response_excerpt": '{"diterima": true}',
        },
    )
    created["webhooks"] += 1
