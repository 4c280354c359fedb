"""Request and response shapes of institutionalisation (pelembagaan): regulations, the
"one OPD, one innovation" compliance view, incentives and JIPP hubs."""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from pydantic import ConfigDict, Field

from app.core.patch import OMITTED, UpdateModel
from app.core.schemas import (
    HttpUrl,
    Name,
    PastDate,
    ProvinceCode,
    Record,
    RegionCode,
    RequestModel,
    ResponseModel,
    ShortText,
    Text,
)

# Ids of the demo data (app/demo/institutionalisation.py), used by the examples.
DEMO_HUB_UNTAN = "83ed0705-2fa8-5824-b16c-3343134209d5"
DEMO_PERGUB_JATENG = "2a4ae953-8934-577a-8af8-ce91f15c468f"
DEMO_GOV_JATENG = "72cc38a3-adbf-5ff7-baa9-d98f022d7586"
_DEMO_UNTAN = "76cb5dfd-f24e-5186-a8ff-b45316650518"


class RegulationKind(StrEnum):
    """`bylaw` Perda, `head_regulation` Pergub/Perbup/Perwali, `decree` SK,
    `ministerial_regulation` Permen."""

    bylaw = "bylaw"
    head_regulation = "head_regulation"
    decree = "decree"
    ministerial_regulation = "ministerial_regulation"


Year = Annotated[int, Field(ge=1945, le=2100)]
FiscalYear = Annotated[int, Field(ge=2000, le=2100)]

# --- Regulations ------------------------------------------------------------------------

_REGULATION_EXAMPLE: dict[str, Any] = {
    "region_code": "33.74",
    "kind": "head_regulation",
    "number": "12",
    "year": 2024,
    "title": "Peraturan Wali Kota Semarang tentang Satu Perangkat Daerah Satu Inovasi",
    "effective_on": "2024-03-01",
    "repealed_on": None,
    "url": "https://jdih.semarangkota.go.id/",
    "mandates_yearly_innovation": True,
    "notes": "",
}


class RegulationCreate(RequestModel):
    """A regulation on innovation (regulasi inovasi)."""

    region_code: RegionCode | None = Field(
        default=None,
        description="The province, regency or city that issued it; null for a national one.",
    )
    kind: RegulationKind
    number: Name = Field(description="Its number (nomor), e.g. `3`.")
    year: Year = Field(description="Its year (tahun), e.g. 2019 for Perda 3/2019.")
    title: Name
    effective_on: date = Field(description="When it takes effect (mulai berlaku).")
    repealed_on: date | None = Field(
        default=None, description="When it was repealed (dicabut), if it was."
    )
    url: HttpUrl | None = Field(default=None, description="Where its text is published (JDIH).")
    mandates_yearly_innovation: bool = Field(
        default=False,
        description="Whether it obliges every OPD of its government to create at least one "
        'innovation a year, as Jawa Tengah\'s Pergub "Satu OPD Satu Inovasi" does.',
    )
    notes: Text = ""

    model_config = ConfigDict(json_schema_extra={"examples": [_REGULATION_EXAMPLE]})


class RegulationUpdate(UpdateModel):
    """Fields to change; only those sent are applied. `repealed_on` and `url` may be
    cleared with null."""

    kind: RegulationKind = OMITTED
    number: Name = OMITTED
    year: Year = OMITTED
    title: Name = OMITTED
    effective_on: date = OMITTED
    repealed_on: date | None = None
    url: HttpUrl | None = None
    mandates_yearly_innovation: bool = OMITTED
    notes: Text = OMITTED

    model_config = ConfigDict(json_schema_extra={"examples": [{"repealed_on": "2030-01-01"}]})


class RegulationRead(Record):
    id: uuid.UUID
    region_code: str | None = Field(description="Null: a national regulation.")
    kind: RegulationKind
    number: str
    year: int
    title: str
    effective_on: date
    repealed_on: date | None
    url: str | None
    mandates_yearly_innovation: bool
    notes: str

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_REGULATION_EXAMPLE,
                    "id": DEMO_PERGUB_JATENG,
                    "created_at": "2026-12-05T03:00:00Z",
                    "updated_at": "2026-12-05T03:00:00Z",
                    "version": 1,
                }
            ]
        }
    )


class RegulationRef(ResponseModel):
    """A regulation as the compliance view names it."""

    id: uuid.UUID
    region_code: str | None
    kind: RegulationKind
    number: str
    year: int
    title: str

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": DEMO_PERGUB_JATENG,
                    "region_code": "33",
                    "kind": "head_regulation",
                    "number": "(ilustratif)",
                    "year": 2019,
                    "title": "Satu OPD Satu Inovasi",
                }
            ]
        }
    )


# --- Compliance -------------------------------------------------------------------------

_GOVERNMENT_EXAMPLE: dict[str, Any] = {
    "institution_id": DEMO_GOV_JATENG,
    "name": "Pemerintah Provinsi Jawa Tengah",
    "kind": "provincial_government",
    "region_code": "33",
    "opds": 6,
    "opds_with_innovation": 3,
    "opds_without_innovation": 3,
    "coverage_pct": 50.0,
    "mandated": True,
    "mandated_by": [
        {
            "id": DEMO_PERGUB_JATENG,
            "region_code": "33",
            "kind": "head_regulation",
            "number": "(ilustratif)",
            "year": 2019,
            "title": "Satu OPD Satu Inovasi",
        }
    ],
    "incentives_idr": 2_000_000_000,
}


class GovernmentCompliance(ResponseModel):
    """One government (pemprov, pemkab or pemkot) and its OPDs in the year."""

    institution_id: uuid.UUID
    name: str
    kind: str = Field(
        description="`provincial_government`, `regency_government` or `city_government`."
    )
    region_code: str
    opds: int = Field(description="Its OPDs: the institutions directly under it.")
    opds_with_innovation: int = Field(
        description="OPDs with at least one innovation (not withdrawn) registered or launched "
        "in the year, their own or a sub-unit's."
    )
    opds_without_innovation: int
    coverage_pct: float | None = Field(
        description="opds_with_innovation / opds × 100, to one decimal; null without OPDs."
    )
    mandated: bool = Field(
        description="A regulation in force in the year (national, or of this government's "
        "own region) obliges every OPD to create an innovation a year."
    )
    mandated_by: list[RegulationRef] = Field(description="Those regulations.")
    incentives_idr: int = Field(description="Incentives recorded for its region in the year.")

    model_config = ConfigDict(json_schema_extra={"examples": [_GOVERNMENT_EXAMPLE]})


class ComplianceTotals(ResponseModel):
    """The governments of the region together."""

    governments: int
    opds: int
    opds_with_innovation: int
    opds_without_innovation: int
    coverage_pct: float | None
    incentives_idr: int = Field(
        description="Incentives recorded in the year for the region and the regions under it."
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "governments": 1,
                    "opds": 6,
                    "opds_with_innovation": 3,
                    "opds_without_innovation": 3,
                    "coverage_pct": 50.0,
                    "incentives_idr": 2_000_000_000,
                }
            ]
        }
    )


class OpdWithoutInnovation(ResponseModel):
    """An OPD with no innovation registered or launched in the year."""

    id: uuid.UUID
    name: str
    kind: str
    region_code: str | None
    government_id: uuid.UUID
    government_name: str

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "0b6c1d8e-4f7a-4a53-9a57-3f0c1e2d4b5a",
                    "name": "Dinas Sosial Provinsi Jawa Tengah",
                    "kind": "regional_agency",
                    "region_code": "33",
                    "government_id": DEMO_GOV_JATENG,
                    "government_name": "Pemerintah Provinsi Jawa Tengah",
                }
            ]
        }
    )


class ComplianceView(ResponseModel):
    """ "Satu OPD Satu Inovasi": per government of the region, its OPDs and how many have an
    innovation in the year; then a page of the OPDs without one (`items`, by name)."""

    region_code: str | None = Field(description="Null: every government of the country.")
    region_name: str | None
    year: int
    governments: list[GovernmentCompliance] = Field(
        description="Every government of the region, by region code."
    )
    totals: ComplianceTotals
    items: list[OpdWithoutInnovation] = Field(
        description="A page of the OPDs without an innovation in the year, by name."
    )
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page of `items`; null on the last page."
    )
    total: int | None = Field(
        default=None,
        description="OPDs without an innovation; present only with `include_total=true`.",
        exclude_if=lambda v: v is None,
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "region_code": "33",
                    "region_name": "Jawa Tengah",
                    "year": 2025,
                    "governments": [_GOVERNMENT_EXAMPLE],
                    "totals": {
                        "governments": 1,
                        "opds": 6,
                        "opds_with_innovation": 3,
                        "opds_without_innovation": 3,
                        "coverage_pct": 50.0,
                        "incentives_idr": 2_000_000_000,
                    },
                    "items": [
                        {
                            "id": "0b6c1d8e-4f7a-4a53-9a57-3f0c1e2d4b5a",
                            "name": "Dinas Sosial Provinsi Jawa Tengah",
                            "kind": "regional_agency",
                            "region_code": "33",
                            "government_id": DEMO_GOV_JATENG,
                            "government_name": "Pemerintah Provinsi Jawa Tengah",
                        }
                    ],
                    "next_cursor": None,
                }
            ]
        }
    )


# --- Incentives -------------------------------------------------------------------------

_INCENTIVE_EXAMPLE: dict[str, Any] = {
    "region_code": "33.74",
    "year": 2025,
    "amount_idr": 1_500_000_000,
    "basis": "Keberlanjutan inovasi",
    "innovation_id": "ba005b5b-7f69-50ce-b650-1c98669a1c23",
    "notes": "Dana insentif daerah untuk Sayangi dan Dampingi Ibu dan Anak.",
}


class IncentiveCreate(RequestModel):
    """Incentive funds (dana insentif daerah, DID) a region received in a year."""

    region_code: RegionCode = Field(description="The province, regency or city receiving it.")
    year: FiscalYear
    amount_idr: int = Field(ge=0, le=10**15, description="Amount in rupiah.")
    basis: Name = Field(description="What it rewards, e.g. `KIPP 2019 Top 45`, sustainability.")
    innovation_id: uuid.UUID | None = Field(
        default=None, description="The innovation it rewards, of the same province, if one."
    )
    notes: Text = ""

    model_config = ConfigDict(json_schema_extra={"examples": [_INCENTIVE_EXAMPLE]})


class IncentiveRead(Record):
    id: uuid.UUID
    region_code: str
    year: int
    amount_idr: int
    basis: str
    innovation_id: uuid.UUID | None
    notes: str

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_INCENTIVE_EXAMPLE,
                    "id": "0b6c1d8e-4f7a-4a53-9a57-3f0c1e2d4b5a",
                    "created_at": "2026-12-05T03:00:00Z",
                    "updated_at": "2026-12-05T03:00:00Z",
                    "version": 1,
                }
            ]
        }
    )


# --- JIPP hubs --------------------------------------------------------------------------

Mentors = Annotated[list[ShortText], Field(max_length=50)]
MemberIds = Annotated[
    list[uuid.UUID], Field(max_length=200, json_schema_extra={"uniqueItems": True})
]


class HubCreate(RequestModel):
    """A JIPP hub (simpul Jaringan Inovasi Pelayanan Publik)."""

    name: Name
    province_code: ProvinceCode
    host_institution_id: uuid.UUID = Field(description="The host, often a university.")
    established_on: PastDate | None = None
    decree_number: ShortText | None = Field(default=None, description="The decree (SK) number.")
    description: Text = ""
    member_institution_ids: MemberIds = Field(
        default_factory=list, description="Member institutions (each once)."
    )
    mentors: Mentors = Field(default_factory=list, description="Mentors (pendamping) by name.")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "JIPP Jawa Tengah",
                    "province_code": "33",
                    "host_institution_id": DEMO_GOV_JATENG,
                    "established_on": "2020-02-10",
                    "decree_number": "065/12/2020",
                    "description": "Simpul jaringan inovasi pelayanan publik Jawa Tengah.",
                    "member_institution_ids": ["cca36ae1-b01c-52c8-9ace-0e870480a8a5"],
                    "mentors": ["Tim Biro Organisasi Setda Provinsi Jawa Tengah"],
                }
            ]
        }
    )


class HubUpdate(UpdateModel):
    """Fields to change; only those sent are applied. `member_institution_ids` replaces the
    members. `established_on` and `decree_number` may be cleared with null."""

    name: Name = OMITTED
    host_institution_id: uuid.UUID = OMITTED
    established_on: PastDate | None = None
    decree_number: ShortText | None = None
    description: Text = OMITTED
    member_institution_ids: MemberIds = OMITTED
    mentors: Mentors = OMITTED

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"mentors": ["Dosen Fakultas Ilmu Sosial dan Ilmu Politik Untan"]}]
        }
    )


_UNTAN_REF: dict[str, Any] = {
    "id": _DEMO_UNTAN,
    "name": "Universitas Tanjungpura",
    "kind": "university",
    "region_code": "61.71",
}
_KALBAR_REF: dict[str, Any] = {
    "id": "17eab0de-cc7e-53dc-8f13-f1ff41d6ad69",
    "name": "Replikasi Inovasi Pelayanan Publik Provinsi Kalimantan Barat 2022",
    "fiscal_year": 2022,
}


class InstitutionRef(ResponseModel):
    id: uuid.UUID
    name: str
    kind: str
    region_code: str | None

    model_config = ConfigDict(json_schema_extra={"examples": [_UNTAN_REF]})


class ProgramRef(ResponseModel):
    """A replication programme the hub mentors."""

    id: uuid.UUID
    name: str
    fiscal_year: int

    model_config = ConfigDict(json_schema_extra={"examples": [_KALBAR_REF]})


class HubRead(Record):
    id: uuid.UUID
    name: str
    province_code: str
    host: InstitutionRef
    established_on: date | None
    decree_number: str | None
    description: str
    members: list[InstitutionRef] = Field(description="Member institutions, by name.")
    mentors: list[str]
    programs: list[ProgramRef] = Field(
        description="Replication programmes that name this hub as their mentor."
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": DEMO_HUB_UNTAN,
                    "name": "JIPP Hub Universitas Tanjungpura",
                    "province_code": "61",
                    "host": _UNTAN_REF,
                    "established_on": None,
                    "decree_number": None,
                    "description": "Mendampingi replikasi inovasi Kalimantan Barat 2022.",
                    "members": [],
                    "mentors": ["Tim JIPP hub Universitas Tanjungpura"],
                    "programs": [_KALBAR_REF],
                    "created_at": "2026-12-05T03:00:00Z",
                    "updated_at": "2026-12-05T03:00:00Z",
                    "version": 1,
                }
            ]
        }
    )
