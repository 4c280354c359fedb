from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from pydantic import ConfigDict, Field, StringConstraints

from app.core.patch import OMITTED, UpdateModel
from app.core.schemas import (
    HttpUrl,
    Name,
    PastDate,
    Record,
    RequestModel,
    ResponseModel,
    Text,
)


class Sector(StrEnum):
    """Public-service sector (urusan/bidang)."""

    education = "education"
    health = "health"
    population_administration = "population_administration"
    licensing = "licensing"
    social_protection = "social_protection"
    economy = "economy"
    environment = "environment"
    governance = "governance"
    public_order = "public_order"
    agriculture_food = "agriculture_food"
    infrastructure = "infrastructure"
    disaster_response = "disaster_response"
    data_information = "data_information"
    other = "other"


class Form(StrEnum):
    """Form of innovation (bentuk inovasi)."""

    public_service = "public_service"
    governance = "governance"
    other = "other"


class Initiator(StrEnum):
    """Who initiated it (inisiator): regional head, parliament, agency, civil servant, community."""

    regional_head = "regional_head"
    parliament = "parliament"
    agency = "agency"
    civil_servant = "civil_servant"
    community = "community"


class Stage(StrEnum):
    """Stage (tahapan, PP 38/2017): initiative → trial (uji coba) → implementation (penerapan)."""

    initiative = "initiative"
    trial = "trial"
    implementation = "implementation"


class InnovationStatus(StrEnum):
    """Publication status: draft → published → withdrawn (never deleted)."""

    draft = "draft"
    published = "published"
    withdrawn = "withdrawn"


class Scale(StrEnum):
    """Reach: local, or scaled up (glokalisasi) to provincial or national programmes."""

    local = "local"
    provincial = "provincial"
    national = "national"


class Competition(StrEnum):
    """KIPP (KemenPANRB's competition), IGA (Kemendagri's award), or another."""

    KIPP = "KIPP"
    IGA = "IGA"
    other = "other"


class Tier(StrEnum):
    """Award tier. KIPP: `top_99`, `top_45`, `top_5`, `outstanding`."""

    top_99 = "top_99"
    top_45 = "top_45"
    top_5 = "top_5"
    outstanding = "outstanding"
    winner = "winner"
    finalist = "finalist"
    nominee = "nominee"
    other = "other"


KIPP_TIERS = frozenset({Tier.top_99, Tier.top_45, Tier.top_5, Tier.outstanding})

Tag = Annotated[str, StringConstraints(min_length=1, max_length=50, pattern=r"^[\w][\w\- ]*$")]
# After 1900-01-01, the stand-in the `-launched_on` sort uses for innovations with no date.
LaunchDate = Annotated[PastDate, Field(gt=date(1900, 1, 1))]

_EXAMPLE: dict[str, Any] = {
    "title": "Bandung Anti Kantong Plastik",
    "summary": "Mengurangi penggunaan kantong plastik di pasar dan toko modern.",
    "problem": "Sampah plastik menumpuk di TPA.",
    "approach": "Perbup pembatasan kantong plastik dan insentif tas belanja.",
    "outcomes": "Sampah plastik turun 30% dalam dua tahun.",
    "sector": "environment",
    "form": "public_service",
    "digital": False,
    "initiator": "regional_head",
    "stage": "implementation",
    "launched_on": "2019-03-01",
    "institution_id": "0b6c1d8e-4f7a-4a53-9a57-3f0c1e2d4b5a",
    "replica_of_id": None,
    "status": "published",
    "tags": ["sampah", "plastik"],
    "evidence_urls": ["https://bandungkab.go.id/"],
}


# A new innovation of a demo institution (Dinas Lingkungan Hidup Kabupaten Bandung, app/demo),
# so that the example works in Swagger UI on `make run`.
_CREATE_EXAMPLE: dict[str, Any] = {
    "title": "Bank Sampah Digital",
    "summary": "Warga menabung sampah terpilah dan memantau saldonya dari ponsel.",
    "problem": "Sampah rumah tangga tidak terpilah dan menumpuk di TPA.",
    "approach": "Aplikasi bank sampah desa yang tersambung dengan pengepul dan BUMDes.",
    "outcomes": "Sampah terpilah naik 25% dalam setahun di 12 desa.",
    "sector": "environment",
    "form": "public_service",
    "digital": True,
    "initiator": "agency",
    "stage": "trial",
    "launched_on": "2023-03-01",
    "institution_id": "e49f7564-5f01-5eff-b955-206c726b4f5f",
    "replica_of_id": None,
    "status": "published",
    "tags": ["sampah", "bank sampah"],
    "evidence_urls": ["https://bandungkab.go.id/"],
}


class _InnovationFields(RequestModel):
    summary: Text = ""
    problem: Text = ""
    approach: Text = ""
    outcomes: Text = ""
    digital: bool = False
    launched_on: LaunchDate | None = Field(
        default=None, description="Not in the future; after 1900-01-01."
    )
    replica_of_id: uuid.UUID | None = Field(
        default=None, description="Lineage: the innovation this one replicates."
    )
    tags: list[Tag] = Field(default_factory=list, max_length=20)
    evidence_urls: list[HttpUrl] = Field(default_factory=list, max_length=10)


class InnovationCreate(_InnovationFields):
    """A new innovation. It starts as `draft` unless `status: published` is sent."""

    title: Name
    sector: Sector
    form: Form
    initiator: Initiator
    stage: Stage = Stage.initiative
    institution_id: uuid.UUID
    status: InnovationStatus = Field(
        default=InnovationStatus.draft, description="`draft` or `published`."
    )

    model_config = ConfigDict(json_schema_extra={"examples": [_CREATE_EXAMPLE]})


class InnovationUpdate(UpdateModel):
    """Fields to change; only those sent are applied. `scale` changes only by scaling decision.
    Only `launched_on` and `replica_of_id` may be cleared with null."""

    title: Name = OMITTED
    summary: Text = OMITTED
    problem: Text = OMITTED
    approach: Text = OMITTED
    outcomes: Text = OMITTED
    sector: Sector = OMITTED
    form: Form = OMITTED
    digital: bool = OMITTED
    initiator: Initiator = OMITTED
    stage: Stage = OMITTED
    launched_on: LaunchDate | None = Field(
        default=None, description="Not in the future; after 1900-01-01. Null: no date."
    )
    institution_id: uuid.UUID = OMITTED
    replica_of_id: uuid.UUID | None = Field(
        default=None, description="Lineage: the innovation this one replicates; null: none."
    )
    status: InnovationStatus = Field(default=OMITTED, description="draft → published → withdrawn.")
    tags: list[Tag] = Field(default=OMITTED, max_length=20)
    evidence_urls: list[HttpUrl] = Field(default=OMITTED, max_length=10)

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"stage": "implementation", "evidence_urls": ["https://brebeskab.go.id/"]}]
        }
    )


class AwardCreate(RequestModel):
    """An award won by the innovation."""

    competition: Competition
    year: int = Field(ge=1990, le=2100)
    tier: Tier
    decree_number: Annotated[str, StringConstraints(max_length=200)] | None = Field(
        default=None, description="Number of the decree (SK) that granted it."
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "competition": "KIPP",
                    "year": 2019,
                    "tier": "top_5",
                    "decree_number": "SK MenPANRB 2019",
                }
            ]
        }
    )


class AwardRead(Record):
    id: uuid.UUID
    innovation_id: uuid.UUID
    competition: Competition
    year: int
    tier: Tier
    decree_number: str | None

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "5d1c2b3a-4f7a-4a53-9a57-3f0c1e2d4b5a",
                    "innovation_id": "0b6c1d8e-4f7a-4a53-9a57-3f0c1e2d4b5a",
                    "competition": "KIPP",
                    "year": 2019,
                    "tier": "top_99",
                    "decree_number": None,
                    "created_at": "2026-01-05T03:00:00Z",
                    "updated_at": "2026-01-05T03:00:00Z",
                    "version": 1,
                }
            ]
        }
    )


class InstitutionRef(ResponseModel):
    """The institution that owns an innovation."""

    id: uuid.UUID
    name: str
    kind: str

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "0b6c1d8e-4f7a-4a53-9a57-3f0c1e2d4b5a",
                    "name": "Dinas Lingkungan Hidup Kabupaten Bandung",
                    "kind": "regional_agency",
                }
            ]
        }
    )


class InnovationRead(Record):
    """An innovation with its derived figures (computed in SQL for the whole page)."""

    id: uuid.UUID
    title: str
    summary: str
    problem: str
    approach: str
    outcomes: str
    sector: Sector
    form: Form
    digital: bool
    initiator: Initiator
    stage: Stage
    launched_on: date | None
    institution: InstitutionRef
    region_code: str | None = Field(description="The institution's region.")
    province_code: str | None = Field(description="The institution's province.")
    replica_of_id: uuid.UUID | None
    status: InnovationStatus
    scale: Scale
    tags: list[str]
    evidence_urls: list[str]
    replications: int = Field(
        description="Replication commitments adopting this innovation, not cancelled."
    )
    replications_by_status: dict[str, int] = Field(description="Replication commitments by status.")
    provinces_reached: int = Field(description="Distinct adopter provinces.")
    latest_verdict: str | None = Field(description="Latest sustainability verdict at origin.")
    latest_score: float | None = Field(description="Latest sustainability score at origin.")
    awards: list[AwardRead]

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_EXAMPLE,
                    "id": "0b6c1d8e-4f7a-4a53-9a57-3f0c1e2d4b5a",
                    "institution": {
                        "id": "0b6c1d8e-4f7a-4a53-9a57-3f0c1e2d4b5a",
                        "name": "Dinas Lingkungan Hidup Kabupaten Bandung",
                        "kind": "regional_agency",
                    },
                    "region_code": "32.04",
                    "province_code": "32",
                    "scale": "local",
                    "replications": 1,
                    "replications_by_status": {"in_progress": 1},
                    "provinces_reached": 1,
                    "latest_verdict": None,
                    "latest_score": None,
                    "awards": [],
                    "created_at": "2026-01-05T03:00:00Z",
                    "updated_at": "2026-01-05T03:00:00Z",
                    "version": 1,
                }
            ]
        }
    )


class LineageNode(ResponseModel):
    """An innovation in a lineage tree, with the replicas registered from it."""

    id: uuid.UUID
    title: str
    status: InnovationStatus
    institution_id: uuid.UUID
    province_code: str | None
    replicas: list[LineageNode]
    commitments: list[dict[str, Any]] = Field(
        description="Replication commitments (komitmen replikasi) adopting this innovation."
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "0b6c1d8e-4f7a-4a53-9a57-3f0c1e2d4b5a",
                    "title": "Kartu Insentif Anak",
                    "status": "published",
                    "institution_id": "5d1c2b3a-4f7a-4a53-9a57-3f0c1e2d4b5a",
                    "province_code": "33",
                    "replicas": [],
                    "commitments": [],
                }
            ]
        }
    )
