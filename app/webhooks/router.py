from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Query, Response
from fastapi.openapi.models import Example

from app.core.concurrency import IfMatchHeader, expected_version, set_etag
from app.core.db import Session
from app.core.docs import problems
from app.core.pagination import DEFAULT_LIMIT, Cursor, IncludeTotal, Limit
from app.core.routing import AppRoute
from app.core.schemas import Id, Page
from app.core.security import Principal, Role, requires
from app.webhooks import service
from app.webhooks.schemas import (
    DeliveryRead,
    DeliveryStatus,
    SecretRotation,
    WebhookCreate,
    WebhookCreated,
    WebhookRead,
    WebhookSecret,
    WebhookStatus,
    WebhookUpdate,
)

router = APIRouter(prefix="/webhooks", tags=["webhooks"], route_class=AppRoute)

# Admins subscribe to every event; coordinators and integrations to their province's.
Subscriber = Annotated[
    Principal,
    Depends(requires(Role.admin, Role.coordinator, Role.integration, province_scoped=True)),
]
# Path examples: the demo data's subscription (app/demo/webhooks.py) and its delivery.
WebhookId = Annotated[
    Id,
    Path(
        description="Webhook subscription id.",
        openapi_examples={
            "sipd_jateng": {
                "summary": "SIPD Jawa Tengah (demo data, paused)",
                "value": "6d3a62d6-ea3f-53c4-ad7c-1efc23c1b515",
            }
        },
    ),
]
DeliveryId = Annotated[
    Id,
    Path(
        description="Delivery id (its `webhook-id`).",
        openapi_examples={
            "delivered": {
                "summary": "A delivered delivery (demo data)",
                "value": "e69da444-73cb-5152-bc7e-26de5a84f117",
            }
        },
    ),
]
WEBHOOKS = "/api/v1/webhooks"


@router.get(
    "",
    response_model=Page[WebhookRead],
    summary="List webhook subscriptions",
    responses=problems(400, 401, 403, 422),
)
async def list_webhooks(
    session: Session,
    principal: Subscriber,
    status: Annotated[WebhookStatus | None, Query()] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
    include_total: IncludeTotal = False,
) -> Page[WebhookRead]:
    """Webhook subscriptions, newest first. Admins see every one; coordinators and
    integrations those of their province."""
    return await service.list_subscriptions(
        session, principal, status=status, cursor=cursor, limit=limit, include_total=include_total
    )


@router.post(
    "",
    response_model=WebhookCreated,
    status_code=201,
    summary="Subscribe to events",
    responses=problems(400, 401, 403, 409, 413, 422),
)
async def create_webhook(
    session: Session, principal: Subscriber, body: WebhookCreate, response: Response
) -> WebhookCreated:
    """Subscribe a URL to events, delivered as signed POSTs following the Standard Webhooks
    specification: headers `webhook-id` (the same on every attempt of a delivery),
    `webhook-timestamp` and `webhook-signature` (`v1,` + base64 HMAC-SHA256 of
    `id.timestamp.body` with the secret), and a body `{"type", "timestamp", "data"}` whose
    `data` is the event as `GET /events` shows it.

    The `secret` (`whsec_…`) is in this response only. An admin's subscription receives every
    event; a coordinator's or an integration's those of its key's province. Events are
    delivered at least once, in event-log order, from those committed after this request.
    A 2xx acknowledges; timeouts, connection errors, 408, 429 and 5xx are retried with
    exponential back-off for 24 hours, then the subscription becomes `failing`; other
    answers mark the delivery `failed` (not retried; redeliver it by hand).

    The URL must be https (plain http only to hosts allowed by configuration), and may not
    be or resolve to a private, loopback or link-local address (422 here, or a `failing`
    subscription when a name resolves to one at delivery). Redirects are not followed."""
    created = await service.create(session, principal, body)
    response.headers["Location"] = f"{WEBHOOKS}/{created.id}"
    set_etag(response, created.version)
    return created


@router.get(
    "/{webhook_id}",
    response_model=WebhookRead,
    summary="Get a webhook subscription",
    responses=problems(401, 403, 404, 422),
)
async def get_webhook(
    session: Session, principal: Subscriber, webhook_id: WebhookId, response: Response
) -> WebhookRead:
    """One subscription (never its secret), with its `ETag` for a later PATCH."""
    webhook = await service.get(session, principal, webhook_id)
    set_etag(response, webhook.version)
    return webhook


@router.patch(
    "/{webhook_id}",
    response_model=WebhookRead,
    summary="Change, pause or resume a webhook subscription",
    responses=problems(401, 403, 404, 412, 413, 422, 428),
)
async def update_webhook(
    session: Session,
    principal: Subscriber,
    webhook_id: WebhookId,
    body: WebhookUpdate,
    response: Response,
    if_match: IfMatchHeader = None,
) -> WebhookRead:
    """Change the fields sent; requires `If-Match`. `status: paused` holds deliveries (events
    are kept and sent on resuming); `status: active` resumes a paused or `failing`
    subscription, its pending deliveries due at once."""
    webhook = await service.update(session, principal, webhook_id, expected_version(if_match), body)
    set_etag(response, webhook.version)
    return webhook


@router.delete(
    "/{webhook_id}",
    status_code=204,
    summary="Delete a webhook subscription",
    responses=problems(401, 403, 404, 422),
)
async def delete_webhook(
    session: Session, principal: Subscriber, webhook_id: WebhookId
) -> Response:
    """Stop delivering and remove the subscription (its delivery log is kept)."""
    await service.delete(session, principal, webhook_id)
    return Response(status_code=204)


ROTATE_EXAMPLES: dict[str, Example] = {
    "one_day": {"summary": "Old secret valid 24 more hours", "value": {"overlap_hours": 24}},
    "at_once": {"summary": "Replace at once (a leaked secret)", "value": {"overlap_hours": 0}},
}


@router.post(
    "/{webhook_id}/rotate-secret",
    response_model=WebhookSecret,
    summary="Rotate a webhook's signing secret",
    responses=problems(400, 401, 403, 404, 409, 412, 413, 422),
)
async def rotate_secret(
    session: Session,
    principal: Subscriber,
    webhook_id: WebhookId,
    response: Response,
    body: Annotated[SecretRotation | None, Body(openapi_examples=ROTATE_EXAMPLES)] = None,
    if_match: IfMatchHeader = None,
) -> WebhookSecret:
    """A new secret, shown in this response only. For `overlap_hours` (default 24, 0 to 168)
    every delivery carries two signatures in `webhook-signature`, one under the new secret
    and one under the old, so receivers switch to the new secret at their own pace within
    the overlap; then the old one stops signing. `If-Match` is optional and checked when
    sent."""
    version = expected_version(if_match) if if_match is not None else None
    secret, new_version = await service.rotate_secret(
        session, principal, webhook_id, version, body or SecretRotation()
    )
    set_etag(response, new_version)
    return secret


@router.get(
    "/{webhook_id}/deliveries",
    response_model=Page[DeliveryRead],
    summary="The delivery log of a webhook subscription",
    responses=problems(400, 401, 403, 404, 422),
)
async def list_deliveries(
    session: Session,
    principal: Subscriber,
    webhook_id: WebhookId,
    status: Annotated[DeliveryStatus | None, Query()] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[DeliveryRead]:
    """Each event sent to the subscription, newest first: its status, the number of
    attempts, and the latest attempts with the receiver's status, latency and the start of
    its response."""
    return await service.list_deliveries(
        session, principal, webhook_id, status=status, cursor=cursor, limit=limit
    )


@router.get(
    "/{webhook_id}/deliveries/{delivery_id}",
    response_model=DeliveryRead,
    summary="One delivery of a webhook subscription",
    responses=problems(401, 403, 404, 422),
)
async def get_delivery(
    session: Session, principal: Subscriber, webhook_id: WebhookId, delivery_id: DeliveryId
) -> DeliveryRead:
    """One delivery with its latest attempts."""
    return await service.get_delivery(session, principal, webhook_id, delivery_id)


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/redeliver",
    response_model=DeliveryRead,
    status_code=202,
    summary="Send a delivery again",
    responses=problems(400, 401, 403, 404, 409, 413, 422),
)
async def redeliver(
    session: Session, principal: Subscriber, webhook_id: WebhookId, delivery_id: DeliveryId
) -> DeliveryRead:
    """Queue a `delivered` or `failed` delivery to be sent again, with the same `webhook-id`
    (receivers that deduplicate on it see the same message). It goes in its place in the
    event log's order, so it is sent before newer pending ones. 409 while it is pending."""
    return await service.redeliver(session, principal, webhook_id, delivery_id)
