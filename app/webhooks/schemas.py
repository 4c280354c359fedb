"""Request and response shapes of outbound webhooks (webhook keluar)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import ConfigDict, Field, StringConstraints, field_validator

from app.core.patch import OMITTED, UpdateModel
from app.core.schemas import HttpUrl, Record, RequestModel, ResponseModel, ShortText


class WebhookStatus(StrEnum):
    """`active` delivers; `paused` holds events until resumed; `failing`: the dispatcher gave
    up retrying (or the target was refused) and holds events until set `active` again."""

    active = "active"
    paused = "paused"
    failing = "failing"


class SettableStatus(StrEnum):
    """What a client may set: `active` (also to resume a failing subscription) or `paused`."""

    active = "active"
    paused = "paused"


class DeliveryStatus(StrEnum):
    """`pending` until acknowledged with a 2xx; `failed` when the receiver refused it with a
    4xx other than 408 and 429 (or redirected it), which is not retried."""

    pending = "pending"
    delivered = "delivered"
    failed = "failed"


EventType = Annotated[
    str,
    StringConstraints(pattern=r"^(\*|[a-z][a-z0-9_]{0,63}\.(\*|[a-z][a-z0-9_]{0,63}))$"),
]
EVENT_TYPES_DESCRIPTION = (
    "The events wanted: `*` (every event), `<entity>.*` (every action on an entity, e.g. "
    "`commitment.*`) or one action (`scaling_proposal.decided`). 1 to 50, no repeats."
)


def _distinct(values: list[str]) -> list[str]:
    if len(set(values)) != len(values):
        raise ValueError("Each event type may be given once.")
    return values


_EXAMPLE_URL = "https://sipd.jatengprov.go.id/webhooks/inovasi"
_CREATE_EXAMPLE: dict[str, Any] = {
    "url": _EXAMPLE_URL,
    "event_types": ["commitment.*", "progress_report.*", "scaling_proposal.decided"],
    "description": "Dasbor replikasi Biro Organisasi Jawa Tengah",
}


class WebhookCreate(RequestModel):
    """A new subscription. The province of a coordinator's or integration's subscription is
    its key's; an admin's receives every province's events."""

    url: HttpUrl = Field(
        description="Where deliveries are POSTed: https (plain http only to hosts allowed by "
        "configuration); never a private, loopback or link-local address."
    )
    event_types: list[EventType] = Field(
        min_length=1,
        max_length=50,
        description=EVENT_TYPES_DESCRIPTION,
        json_schema_extra={"uniqueItems": True},
    )
    description: ShortText = ""

    _distinct = field_validator("event_types")(_distinct)

    model_config = ConfigDict(json_schema_extra={"examples": [_CREATE_EXAMPLE]})


class WebhookUpdate(UpdateModel):
    """The fields sent are changed. `status: active` also resumes a failing subscription."""

    url: HttpUrl = OMITTED
    event_types: Annotated[
        list[EventType],
        Field(min_length=1, max_length=50, json_schema_extra={"uniqueItems": True}),
    ] = OMITTED
    description: ShortText = OMITTED
    status: SettableStatus = OMITTED

    _distinct = field_validator("event_types")(_distinct)

    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "paused"}]})


_READ_EXAMPLE: dict[str, Any] = {
    "id": "6a0f3c1e-2b7d-4e59-8c1a-9d4e5f6a7b8c",
    **_CREATE_EXAMPLE,
    "status": "active",
    "failure_reason": None,
    "province_code": "33",
    "created_by": "Biro Organisasi Jawa Tengah",
    "previous_secret_expires_at": None,
    "next_retry_at": None,
    "last_delivered_at": "2026-12-05T03:00:01Z",
    "created_at": "2026-12-01T02:00:00Z",
    "updated_at": "2026-12-01T02:00:00Z",
    "version": 1,
}


class WebhookRead(Record):
    """A webhook subscription (langganan webhook). Its secret is never shown again."""

    id: uuid.UUID
    url: str
    event_types: list[str] = Field(description=EVENT_TYPES_DESCRIPTION)
    description: str
    status: WebhookStatus
    failure_reason: str | None = Field(description="Why it is failing; null otherwise.")
    province_code: str | None = Field(
        description="The province whose events it receives; null: every event (an admin's)."
    )
    created_by: str = Field(description="Name of the API key that created it.")
    previous_secret_expires_at: datetime | None = Field(
        description="Until then deliveries are also signed with the secret before the last "
        "rotation."
    )
    next_retry_at: datetime | None = Field(
        description="The oldest pending delivery failed and is retried then; later events wait "
        "for it (deliveries keep the event log's order)."
    )
    last_delivered_at: datetime | None

    model_config = ConfigDict(json_schema_extra={"examples": [_READ_EXAMPLE]})


_SECRET_EXAMPLE = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw3Xz9nEMi8g8="  # noqa: S105


class WebhookCreated(WebhookRead):
    """The new subscription with its signing secret, shown this once."""

    secret: str = Field(
        description="The signing secret (`whsec_…`). Store it now: it is never shown again."
    )

    model_config = ConfigDict(
        json_schema_extra={"examples": [{**_READ_EXAMPLE, "secret": _SECRET_EXAMPLE}]}
    )


class SecretRotation(RequestModel):
    """Replace the signing secret; the old one keeps signing for `overlap_hours`."""

    overlap_hours: int = Field(
        default=24,
        ge=0,
        le=168,
        description="Hours during which deliveries carry a signature under the old secret "
        "too (0 to 168, default 24), so receivers can switch without losing a delivery.",
    )

    model_config = ConfigDict(json_schema_extra={"examples": [{"overlap_hours": 24}]})


class WebhookSecret(ResponseModel):
    """A new signing secret, shown this once."""

    secret: str = Field(description="The new signing secret (`whsec_…`).")
    previous_secret_expires_at: datetime | None = Field(
        description="Until then the previous secret signs too; null with no overlap."
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"secret": _SECRET_EXAMPLE, "previous_secret_expires_at": "2026-12-06T03:00:00Z"}
            ]
        }
    )


_ATTEMPT_EXAMPLE: dict[str, Any] = {
    "attempted_at": "2026-12-05T03:00:01Z",
    "status_code": 200,
    "error": None,
    "latency_ms": 42,
    "response_excerpt": '{"ok": true}',
}


class AttemptRead(ResponseModel):
    """One HTTP request of a delivery."""

    attempted_at: datetime
    status_code: int | None = Field(description="The receiver's status; null when none came.")
    error: str | None = Field(
        description="`timeout`, a connection error or a refused target; null with a response."
    )
    latency_ms: int
    response_excerpt: str = Field(description="The first kilobyte of the response body.")

    model_config = ConfigDict(json_schema_extra={"examples": [_ATTEMPT_EXAMPLE]})


class DeliveryRead(ResponseModel):
    """One event sent to one subscription, with its latest attempts (the delivery log)."""

    id: uuid.UUID = Field(description="Sent as `webhook-id`; the same on every attempt.")
    event_id: int
    event_type: str = Field(description="The event's action, e.g. `commitment.transitioned`.")
    status: DeliveryStatus
    attempt_count: int = Field(description="Attempts made so far.")
    next_attempt_at: datetime | None = Field(description="When a pending delivery is due.")
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime
    attempts: list[AttemptRead] = Field(description="The latest attempts, newest first (25).")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "1d2e3f4a-5b6c-4d7e-8f9a-0b1c2d3e4f5a",
                    "event_id": 42,
                    "event_type": "commitment.transitioned",
                    "status": "delivered",
                    "attempt_count": 1,
                    "next_attempt_at": None,
                    "last_status_code": 200,
                    "last_error": None,
                    "delivered_at": "2026-12-05T03:00:01Z",
                    "created_at": "2026-12-05T03:00:00Z",
                    "attempts": [_ATTEMPT_EXAMPLE],
                }
            ]
        }
    )
