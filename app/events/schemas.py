from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import ConfigDict, Field

from app.core.schemas import ResponseModel


class EventRead(ResponseModel):
    """One change recorded in the append-only event log (log peristiwa)."""

    id: int
    at: datetime
    actor_id: uuid.UUID | None = Field(description="Id of the API key that made the change.")
    actor_role: str | None
    action: str = Field(description="What happened, e.g. `institution.created`.")
    entity: str
    entity_id: str
    province_code: str | None
    changes: dict[str, Any]

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 42,
                    "at": "2026-11-22T03:00:00Z",
                    "actor_id": "0b6c1d8e-4f7a-4a53-9a57-3f0c1e2d4b5a",
                    "actor_role": "admin",
                    "action": "institution.created",
                    "entity": "institution",
                    "entity_id": "5d1c2b3a-4f7a-4a53-9a57-3f0c1e2d4b5a",
                    "province_code": "33",
                    "changes": {"name": "Dinas Kesehatan Kota Semarang"},
                }
            ]
        }
    )
