from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any

from pydantic import ConfigDict, Field

from app.core.patch import OMITTED, UpdateModel
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


# Ids of the demo data (app/demo), so that the examples work in Swagger UI on `make run`.
_GOV_SEMARANG = "bb1f43e7-46f3-51de-9eb9-8032843614b9"  # Pemerintah Kota Semarang
_EXAMPLE: dict[str, Any] = {
    "name": "Dinas Kesehatan Kota Semarang",
    "kind": "regional_agency",
    "region_code": "33.74",
    "parent_id": _GOV_SEMARANG,
}
# A new OPD under a demo government (the demo has the Dinas Kesehatan already).
_CREATE_EXAMPLE: dict[str, Any] = {**_EXAMPLE, "name": "Dinas Pendidikan Kota Semarang"}


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

    model_config = ConfigDict(json_schema_extra={"examples": [_CREATE_EXAMPLE]})


class InstitutionUpdate(UpdateModel):
    """Fields to change; only the fields sent are applied. `name` and `kind` may not be
    null; `region_code` and `parent_id` are cleared with null."""

    name: Name = OMITTED
    kind: InstitutionKind = OMITTED
    region_code: RegionCode | None = Field(
        default=None, description="Null for a kind without a region (e.g. a ministry)."
    )
    parent_id: uuid.UUID | None = Field(default=None, description="Null: no parent.")

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
                    "id": "cca36ae1-b01c-52c8-9ace-0e870480a8a5",
                    "province_code": "33",
                    "created_at": "2026-01-05T03:00:00Z",
                    "updated_at": "2026-01-05T03:00:00Z",
                    "version": 1,
                }
            ]
        }
    )
