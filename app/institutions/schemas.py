from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any

from pydantic import ConfigDict, Field

from app.core.schemas import Name, Record, RegionCode, RequestModel


class InstitutionKind(StrEnum):
    """Kind of institution (jenis instansi)."""

    ministry = "ministry"
    agency = "agency"
    provincial_government = "provincial_government"
    regency_government = "regency_government"
    city_government = "city_government"
    regional_agency = "regional_agency"
    hospital = "hospital"
    university = "university"
    state_enterprise = "state_enterprise"
    regional_enterprise = "regional_enterprise"
    other = "other"


_EXAMPLE: dict[str, Any] = {
    "name": "Dinas Kesehatan Kota Semarang",
    "kind": "regional_agency",
    "region_code": "33.74",
    "parent_id": None,
}


class InstitutionCreate(RequestModel):
    """A new institution (instansi)."""

    name: Name
    kind: InstitutionKind
    region_code: RegionCode | None = Field(
        default=None,
        description="Required for regional kinds, and of the matching level: a "
        "`city_government` sits on a city code, a `provincial_government` on a province code.",
    )
    parent_id: uuid.UUID | None = Field(
        default=None, description="The government an OPD (regional agency) belongs to."
    )

    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})


class InstitutionUpdate(RequestModel):
    """Fields to change; only the fields sent are applied."""

    name: Name | None = None
    kind: InstitutionKind | None = None
    region_code: RegionCode | None = None
    parent_id: uuid.UUID | None = None

    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "Dinkes Kota Semarang"}]})


class InstitutionRead(Record):
    """An institution (instansi) that owns or adopts innovations."""

    id: uuid.UUID
    name: str
    kind: InstitutionKind
    region_code: str | None
    province_code: str | None = Field(description="Province of the region (derived).")
    parent_id: uuid.UUID | None

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_EXAMPLE,
                    "id": "0b6c1d8e-4f7a-4a53-9a57-3f0c1e2d4b5a",
                    "province_code": "33",
                    "created_at": "2026-01-05T03:00:00Z",
                    "updated_at": "2026-01-05T03:00:00Z",
                    "version": 1,
                }
            ]
        }
    )
