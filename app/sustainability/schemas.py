from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, ConfigDict, Field, model_validator

from app.core.schemas import (
    HttpUrl,
    PastDate,
    Record,
    RequestModel,
    ResponseModel,
    Text,
    today,
)


class Verdict(StrEnum):
    """Verdict of an assessment: sustained, at_risk, discontinued."""

    sustained = "sustained"
    at_risk = "at_risk"
    discontinued = "discontinued"


class LeadershipChange(StrEnum):
    """Whether it kept running after the regional or agency head changed."""

    yes = "yes"
    no = "no"
    not_applicable = "not_applicable"


class LegalBasis(StrEnum):
    """Strongest regulation behind it: none, decree (SK), head_regulation (Perkada: Pergub,
    Perbup, Perwali), bylaw (Perda)."""

    none = "none"
    decree = "decree"
    head_regulation = "head_regulation"
    bylaw = "bylaw"


class Monitoring(StrEnum):
    """Monitoring and evaluation: none, internal, public_survey (survei kepuasan masyarakat)."""

    none = "none"
    internal = "internal"
    public_survey = "public_survey"


class SubjectType(StrEnum):
    """What is assessed: an innovation at its origin, or a commitment (a replica)."""

    innovation = "innovation"
    commitment = "commitment"


class DueReason(StrEnum):
    never_assessed = "never_assessed"
    last_assessment_over_12_months = "last_assessment_over_12_months"


class AtRiskReason(StrEnum):
    verdict_at_risk = "verdict_at_risk"
    verdict_discontinued = "verdict_discontinued"
    score_drop = "score_drop"


class Relation(StrEnum):
    """How a timeline entry relates to the innovation whose timeline it is."""

    origin = "origin"
    commitment = "commitment"
    replica = "replica"
    replica_commitment = "replica_commitment"


def _not_a_future_year(value: int) -> int:
    if value > today().year:
        raise ValueError("The period may not be a future year.")
    return value


Period = Annotated[int, Field(ge=2000, le=2100), AfterValidator(_not_a_future_year)]

# --- Rubric -------------------------------------------------------------------------------


class Band(ResponseModel):
    """A band of a numeric indicator: it applies from `min` up to the next band's `min`."""

    min: int = Field(ge=0)
    fraction: float = Field(ge=0, le=1, description="Share of the indicator's weight earned.")

    model_config = ConfigDict(json_schema_extra={"examples": [{"min": 1000, "fraction": 0.75}]})


class RubricIndicator(ResponseModel):
    """One scored indicator: either `levels` (value → fraction of the weight) or `bands`."""

    key: str = Field(description="The assessment field it reads.")
    label: str
    term: str = Field(description="The Indonesian programme term.")
    weight: float = Field(gt=0, le=100, description="Points at full marks; weights sum to 100.")
    description: str
    levels: dict[str, float] | None = Field(
        default=None, description="Value → fraction of the weight (booleans as `true`/`false`)."
    )
    bands: list[Band] | None = Field(default=None, description="Numeric bands, ascending `min`.")
    missing: float | None = Field(
        default=None, ge=0, le=1, description="Fraction when the value is null."
    )

    @model_validator(mode="after")
    def _levels_or_bands(self) -> RubricIndicator:
        if (self.levels is None) == (self.bands is None):
            raise ValueError(f"Indicator {self.key} needs either levels or bands.")
        if self.bands is not None:
            mins = [b.min for b in self.bands]
            if not mins or mins[0] != 0 or mins != sorted(set(mins)):
                raise ValueError(f"Bands of {self.key} must start at 0 and ascend.")
        return self

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "key": "staff_count",
                    "label": "Assigned staff",
                    "term": "SDM pelaksana",
                    "weight": 5,
                    "description": "Staff assigned to run it (a band applies from its `min`).",
                    "levels": None,
                    "bands": [
                        {"min": 0, "fraction": 0},
                        {"min": 1, "fraction": 0.5},
                        {"min": 3, "fraction": 1},
                    ],
                    "missing": None,
                },
                {
                    "key": "legal_basis",
                    "label": "Legal basis",
                    "term": "Dasar hukum (SK → Perkada → Perda)",
                    "weight": 20,
                    "description": "The strongest regulation behind the innovation.",
                    "levels": {"none": 0, "decree": 0.4, "head_regulation": 0.75, "bylaw": 1},
                    "bands": None,
                    "missing": None,
                },
            ]
        }
    )


class Thresholds(ResponseModel):
    """Verdict by score: `sustained` at or above the first, `at_risk` at or above the second,
    `discontinued` below it."""

    sustained: float = Field(gt=0, le=100)
    at_risk: float = Field(gt=0, le=100)

    model_config = ConfigDict(json_schema_extra={"examples": [{"sustained": 70, "at_risk": 35}]})


class RubricDefinition(ResponseModel):
    """What a rubric version holds (stored as data, one row per version)."""

    indicators: list[RubricIndicator]
    thresholds: Thresholds
    not_operating_verdict: Verdict = Field(
        description="The verdict of a subject that is no longer operating, whatever its score."
    )
    sources: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> RubricDefinition:
        if round(sum(i.weight for i in self.indicators), 6) != 100:
            raise ValueError("Indicator weights must sum to 100.")
        if self.thresholds.at_risk > self.thresholds.sustained:
            raise ValueError("The at_risk threshold may not exceed the sustained one.")
        return self


_RUBRIC_EXAMPLE: dict[str, Any] = {
    "version": 1,
    "title": "Sustainability rubric 1 (PermenPANRB 91/2021, Kemendagri innovation index)",
    "effective_on": "2026-11-23",
    "indicators": [
        {
            "key": "legal_basis",
            "label": "Legal basis",
            "term": "Dasar hukum (SK → Perkada → Perda)",
            "weight": 20,
            "description": "The strongest regulation behind the innovation.",
            "levels": {"none": 0, "decree": 0.4, "head_regulation": 0.75, "bylaw": 1},
            "bands": None,
            "missing": None,
        },
        {
            "key": "beneficiaries_count",
            "label": "Beneficiaries in the period",
            "term": "Penerima manfaat",
            "weight": 80,
            "description": "People served in the period.",
            "levels": None,
            "bands": [{"min": 0, "fraction": 0}, {"min": 100, "fraction": 1}],
            "missing": None,
        },
    ],
    "thresholds": {"sustained": 70, "at_risk": 35},
    "not_operating_verdict": "discontinued",
    "sources": ["PermenPANRB 91/2021"],
    "created_at": "2026-11-23T03:11:00Z",
}


class RubricRead(RubricDefinition):
    """A version of the sustainability rubric."""

    version: int
    title: str
    effective_on: date
    created_at: datetime

    model_config = ConfigDict(json_schema_extra={"examples": [_RUBRIC_EXAMPLE]})


# --- Assessments --------------------------------------------------------------------------

_INDICATORS_EXAMPLE: dict[str, Any] = {
    "operating": True,
    "survived_leadership_change": "yes",
    "legal_basis": "head_regulation",
    "budget_years": 3,
    "in_regional_plan": True,
    "in_performance_indicators": True,
    "has_sop": True,
    "staff_count": 4,
    "beneficiaries_count": 12500,
    "monitoring": "public_survey",
    "complaint_resolution_pct": 92,
    "incentive_idr": 0,
    "notes": "Perbup 12/2022; anggaran APBD 2022–2024; masuk RKPD 2024.",
    "evidence_urls": ["https://jdih.example.go.id/perbup-12-2022.pdf"],
    "assessed_on": "2025-02-10",
}


class AssessmentCreate(RequestModel):
    """A sustainability assessment (penilaian keberlanjutan) of exactly one subject: an
    innovation at its origin (`innovation_id`) or a replica (`commitment_id`)."""

    innovation_id: uuid.UUID | None = Field(default=None, description="The innovation assessed.")
    commitment_id: uuid.UUID | None = Field(default=None, description="The commitment assessed.")
    period: Period = Field(description="The year assessed; not a future year.")
    operating: bool = Field(description="Still running. `false` makes the verdict discontinued.")
    survived_leadership_change: LeadershipChange
    legal_basis: LegalBasis
    budget_years: int = Field(ge=0, le=3, description="Years of the last three with a budget.")
    in_regional_plan: bool = Field(description="In the regional plan (RKPD / RPJMD).")
    in_performance_indicators: bool = Field(description="In performance indicators (IKU / IKD).")
    has_sop: bool = Field(description="Has an SOP or technical guideline.")
    staff_count: int = Field(ge=0, le=1_000_000, description="Staff assigned to run it.")
    beneficiaries_count: int = Field(ge=0, le=10**12, description="People served in the period.")
    monitoring: Monitoring
    complaint_resolution_pct: int | None = Field(
        ge=0,
        le=100,
        description="Complaints resolved in the period, %. Null: no complaint channel; with a "
        "channel and no complaints, send 100.",
    )
    incentive_idr: int = Field(
        default=0, ge=0, le=10**15, description="Incentive funds received (DID), recorded only."
    )
    notes: Text = ""
    evidence_urls: list[HttpUrl] = Field(default_factory=list, max_length=10)
    assessed_on: PastDate = Field(description="Not in the future, not before the period began.")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    # Kabupaten Cilacap's launched replica of Sayangi dan Dampingi Ibu dan Anak
                    # (demo data), not yet assessed for 2024.
                    "commitment_id": "cd12cb86-fffb-5faa-b67b-765e15c9ce35",
                    "period": 2024,
                    **_INDICATORS_EXAMPLE,
                }
            ]
        }
    )


class IndicatorPoints(ResponseModel):
    """How one indicator was scored."""

    indicator: str
    value: bool | int | str | None
    fraction: float = Field(description="Share of the weight earned.")
    weight: float
    points: float

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "indicator": "legal_basis",
                    "value": "head_regulation",
                    "fraction": 0.75,
                    "weight": 20,
                    "points": 15.0,
                }
            ]
        }
    )


_BREAKDOWN_EXAMPLE = [
    {
        "indicator": "legal_basis",
        "value": "head_regulation",
        "fraction": 0.75,
        "weight": 20,
        "points": 15.0,
    },
    {"indicator": "budget_years", "value": 3, "fraction": 1.0, "weight": 15, "points": 15.0},
]

_READ_EXAMPLE: dict[str, Any] = {
    "id": "2c4e6a8b-4f7a-4a53-9a57-3f0c1e2d4b5a",
    "subject_type": "commitment",
    "innovation_id": None,
    "commitment_id": "5d1c2b3a-4f7a-4a53-9a57-3f0c1e2d4b5a",
    "source_innovation_id": "0b6c1d8e-4f7a-4a53-9a57-3f0c1e2d4b5a",
    "source_innovation_title": "Gerakan Kembali Bersekolah",
    "adopter_name": "Pemerintah Kabupaten Blora",
    "province_code": "33",
    "period": 2024,
    **_INDICATORS_EXAMPLE,
    "score": 95.0,
    "verdict": "sustained",
    "breakdown": _BREAKDOWN_EXAMPLE,
    "rubric_version": 1,
    "created_at": "2025-02-10T03:00:00Z",
    "updated_at": "2025-02-10T03:00:00Z",
    "version": 1,
}


class AssessmentRead(Record):
    """A stored assessment with the score and verdict the server computed."""

    id: uuid.UUID
    subject_type: SubjectType
    innovation_id: uuid.UUID | None
    commitment_id: uuid.UUID | None
    source_innovation_id: uuid.UUID = Field(
        description="The innovation itself, or the innovation the commitment replicates."
    )
    source_innovation_title: str
    adopter_name: str | None = Field(description="For a commitment: the adopting institution.")
    province_code: str | None = Field(
        description="The innovation's province, or the commitment's adopter's."
    )
    period: int
    operating: bool
    survived_leadership_change: LeadershipChange
    legal_basis: LegalBasis
    budget_years: int
    in_regional_plan: bool
    in_performance_indicators: bool
    has_sop: bool
    staff_count: int
    beneficiaries_count: int
    monitoring: Monitoring
    complaint_resolution_pct: int | None
    incentive_idr: int
    notes: str
    evidence_urls: list[str]
    assessed_on: date
    score: float = Field(description="0–100, computed by the server with `rubric_version`.")
    verdict: Verdict
    breakdown: list[IndicatorPoints] = Field(description="Points per indicator, as scored.")
    rubric_version: int

    model_config = ConfigDict(json_schema_extra={"examples": [_READ_EXAMPLE]})


# --- Derived lists ------------------------------------------------------------------------


class DueItem(ResponseModel):
    """A subject with no assessment in the last 12 months, and why it is due."""

    subject_type: SubjectType
    innovation_id: uuid.UUID | None
    commitment_id: uuid.UUID | None
    source_innovation_id: uuid.UUID
    source_innovation_title: str
    adopter_name: str | None
    province_code: str | None
    status: str = Field(description="The innovation's or the commitment's status.")
    launched_on: date | None = Field(description="For an innovation: its launch date.")
    last_assessed_on: date | None = Field(description="Null when it was never assessed.")
    last_period: int | None
    reason: DueReason

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "subject_type": "innovation",
                    "innovation_id": "0b6c1d8e-4f7a-4a53-9a57-3f0c1e2d4b5a",
                    "commitment_id": None,
                    "source_innovation_id": "0b6c1d8e-4f7a-4a53-9a57-3f0c1e2d4b5a",
                    "source_innovation_title": "Data Kota Magelang Open",
                    "adopter_name": None,
                    "province_code": "33",
                    "status": "published",
                    "launched_on": "2019-03-01",
                    "last_assessed_on": "2024-05-02",
                    "last_period": 2023,
                    "reason": "last_assessment_over_12_months",
                }
            ]
        }
    )


class AtRiskItem(ResponseModel):
    """A subject whose latest assessment is at risk or discontinued, or whose score fell by
    15 points or more since its previous assessment."""

    assessment_id: uuid.UUID = Field(description="The subject's latest assessment.")
    subject_type: SubjectType
    innovation_id: uuid.UUID | None
    commitment_id: uuid.UUID | None
    source_innovation_id: uuid.UUID
    source_innovation_title: str
    adopter_name: str | None
    province_code: str | None
    period: int
    assessed_on: date
    score: float
    verdict: Verdict
    previous_period: int | None
    previous_score: float | None
    score_change: float | None = Field(description="Latest score minus the previous one.")
    reasons: list[AtRiskReason]

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "assessment_id": "2c4e6a8b-4f7a-4a53-9a57-3f0c1e2d4b5a",
                    "subject_type": "commitment",
                    "innovation_id": None,
                    "commitment_id": "5d1c2b3a-4f7a-4a53-9a57-3f0c1e2d4b5a",
                    "source_innovation_id": "0b6c1d8e-4f7a-4a53-9a57-3f0c1e2d4b5a",
                    "source_innovation_title": "Gerakan Kembali Bersekolah",
                    "adopter_name": "Pemerintah Kabupaten Blora",
                    "province_code": "33",
                    "period": 2024,
                    "assessed_on": "2025-02-10",
                    "score": 52.5,
                    "verdict": "at_risk",
                    "previous_period": 2023,
                    "previous_score": 75.0,
                    "score_change": -22.5,
                    "reasons": ["verdict_at_risk", "score_drop"],
                }
            ]
        }
    )


class TimelineEntry(AssessmentRead):
    """An assessment in an innovation's timeline."""

    relation: Relation = Field(
        description="`origin` (the innovation), `commitment` (a replica by commitment), "
        "`replica` (an innovation registered as its replica) or `replica_commitment`."
    )

    model_config = ConfigDict(
        json_schema_extra={"examples": [{**_READ_EXAMPLE, "relation": "commitment"}]}
    )


class SustainabilityTimeline(ResponseModel):
    """The assessments of an innovation, of the commitments replicating it and of the
    innovations registered as its replicas, by period."""

    innovation_id: uuid.UUID
    title: str
    entries: list[TimelineEntry]

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "innovation_id": "0b6c1d8e-4f7a-4a53-9a57-3f0c1e2d4b5a",
                    "title": "Gerakan Kembali Bersekolah",
                    "entries": [{**_READ_EXAMPLE, "relation": "commitment"}],
                }
            ]
        }
    )
