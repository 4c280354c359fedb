"""Request and response shapes of scaling up (glokalisasi): candidates and proposals."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import ConfigDict, Field

from app.core.schemas import (
    ProvinceCode,
    Record,
    RequestModel,
    RequiredText,
    ResponseModel,
    Text,
)
from app.innovations.schemas import Scale


class TargetScale(StrEnum):
    """The programme level an innovation is proposed for."""

    provincial = "provincial"
    national = "national"


class ProposalStatus(StrEnum):
    """submitted → under_review → approved | rejected | deferred; deferred → under_review."""

    submitted = "submitted"
    under_review = "under_review"
    approved = "approved"
    rejected = "rejected"
    deferred = "deferred"


class Outcome(StrEnum):
    """A reviewer's decision on a proposal under review."""

    approved = "approved"
    rejected = "rejected"
    deferred = "deferred"


# --- Criteria and candidates ------------------------------------------------------------


class Criterion(ResponseModel):
    """One criterion evaluated for one innovation: its value, the threshold and the verdict."""

    value: int | str | None = Field(
        description="The innovation's figure (a count, or the latest verdict; null when there "
        "is no assessment)."
    )
    threshold: int | str | None = Field(
        description="What the criterion asks for: a minimum count, or `sustained`; null when "
        "the criterion is not required (then it is met)."
    )
    met: bool

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"value": 4, "threshold": 3, "met": True},
                {"value": None, "threshold": "sustained", "met": False},
            ]
        }
    )


_CRITERIA_EXAMPLE: dict[str, Any] = {
    "replicas": {"value": 4, "threshold": 3, "met": True},
    "other_provinces": {"value": 1, "threshold": 2, "met": False},
    "origin_sustained": {"value": "sustained", "threshold": "sustained", "met": True},
    "awards": {"value": 2, "threshold": 1, "met": True},
}


class Criteria(ResponseModel):
    """Every criterion, always all four, in this order."""

    replicas: Criterion = Field(
        description="Replication commitments that are `launched` or `sustained` (at least "
        "`min_replicas`)."
    )
    other_provinces: Criterion = Field(
        description="Distinct adopter provinces of those replicas other than the origin's "
        "(at least `min_other_provinces`)."
    )
    origin_sustained: Criterion = Field(
        description="The latest sustainability verdict at the origin (the assessment of the "
        "innovation itself with the highest period) is `sustained`."
    )
    awards: Criterion = Field(description="Awards won (at least `min_awards`).")

    model_config = ConfigDict(json_schema_extra={"examples": [_CRITERIA_EXAMPLE]})


CRITERIA_TOTAL = len(Criteria.model_fields)


class CandidateInnovation(ResponseModel):
    id: uuid.UUID
    title: str
    province_code: str | None
    scale: Scale = Field(description="`local` or `provincial` (national ones are not candidates).")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "0b6c1d8e-4f7a-4a53-9a57-3f0c1e2d4b5a",
                    "title": "Gerakan Kembali Bersekolah",
                    "province_code": "33",
                    "scale": "local",
                }
            ]
        }
    )


class Candidate(ResponseModel):
    """An innovation ranked as a candidate for scaling up, with the reason for its rank."""

    innovation: CandidateInnovation
    criteria: Criteria
    criteria_met: int = Field(description="How many of the criteria are met.")
    criteria_total: int = Field(description=f"How many criteria there are ({CRITERIA_TOTAL}).")
    eligible: bool = Field(description="Every criterion is met.")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "innovation": {
                        "id": "0b6c1d8e-4f7a-4a53-9a57-3f0c1e2d4b5a",
                        "title": "Kartu Insentif Anak",
                        "province_code": "33",
                        "scale": "local",
                    },
                    "criteria": _CRITERIA_EXAMPLE,
                    "criteria_met": 3,
                    "criteria_total": CRITERIA_TOTAL,
                    "eligible": False,
                }
            ]
        }
    )


# --- Evidence ---------------------------------------------------------------------------


_EVIDENCE_EXAMPLE: dict[str, Any] = {
    "taken_at": "2026-11-23T03:00:00Z",
    "criteria": _CRITERIA_EXAMPLE,
    "criteria_met": 3,
    "criteria_total": CRITERIA_TOTAL,
    "eligible": False,
    "replications_by_status": {"launched": 3, "sustained": 1, "committed": 2},
    "provinces_reached": 1,
    "awards": [
        {"competition": "KIPP", "year": 2019, "tier": "top_45"},
        {"competition": "IGA", "year": 2018, "tier": "winner"},
    ],
    "latest_verdict": "sustained",
    "latest_score": 84.5,
    "latest_period": 2025,
}


class AwardSummary(ResponseModel):
    """An award as the evidence lists it."""

    competition: str
    year: int
    tier: str

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"competition": "KIPP", "year": 2019, "tier": "top_45"}]}
    )


class Evidence(ResponseModel):
    """The innovation's derived figures and the default criteria when it was proposed.

    Stored with the proposal and never changed: later replications, assessments or awards
    do not alter the evidence a decision was made on.
    """

    taken_at: datetime = Field(description="When the snapshot was taken (UTC).")
    criteria: Criteria = Field(description="The criteria evaluated with their defaults.")
    criteria_met: int
    criteria_total: int
    eligible: bool
    replications_by_status: dict[str, int] = Field(
        description="Replication commitments adopting the innovation, by status."
    )
    provinces_reached: int = Field(
        description="Distinct adopter provinces of commitments not cancelled."
    )
    awards: list[AwardSummary] = Field(description="Awards, newest first.")
    latest_verdict: str | None = Field(description="Latest sustainability verdict at origin.")
    latest_score: float | None = Field(description="Its score (0–100).")
    latest_period: int | None = Field(description="Its period (year).")

    model_config = ConfigDict(json_schema_extra={"examples": [_EVIDENCE_EXAMPLE]})


# --- Proposals --------------------------------------------------------------------------

# Kartu Insentif Anak, approved as the national Kartu Identitas Anak in the demo data.
_PROPOSAL_EXAMPLE: dict[str, Any] = {
    "innovation_id": "54d87ab4-7253-5ee2-95a5-e173b25ad0b8",
    "target_scale": "national",
    "target_province_code": None,
    "rationale": "Direplikasi di tiga provinsi dan tetap berjalan setelah pergantian kepala "
    "daerah; layak menjadi program nasional.",
}


class ProposalCreate(RequestModel):
    """A proposal to scale an innovation up (usulan glokalisasi)."""

    innovation_id: uuid.UUID = Field(description="A published innovation not yet at the target.")
    target_scale: TargetScale
    target_province_code: ProvinceCode | None = Field(
        default=None,
        description="The province adopting it: required for `provincial`, absent for `national`.",
    )
    rationale: RequiredText = Field(description="Why it should be scaled up.")

    # Innovations of the demo data (app/demo) with no proposal for these targets: Laboratorium
    # Inovasi of Kota Makassar, and Sayangi dan Dampingi Ibu dan Anak of Kota Semarang.
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "innovation_id": "c7ee1067-ebe6-59bb-b3ab-6f5089f99a93",
                    "target_scale": "national",
                    "target_province_code": None,
                    "rationale": "Diadopsi empat kabupaten/kota di Jawa Tengah dan tetap "
                    "berjalan; layak menjadi program nasional pendampingan inovasi daerah.",
                },
                {
                    "innovation_id": "ba005b5b-7f69-50ce-b650-1c98669a1c23",
                    "target_scale": "provincial",
                    "target_province_code": "33",
                    "rationale": "Diadopsi sebagai program Provinsi Jawa Tengah untuk menekan "
                    "kematian ibu dan bayi.",
                },
            ]
        }
    )


class ReviewRequest(RequestModel):
    """Start (or resume, after a deferral) the review. The body may be empty."""

    notes: Text = Field(default="", description="Recorded in the event, e.g. who reviews.")

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"notes": "Dibahas pada rapat tim penilai 12 Desember."}]}
    )


class DecisionRequest(RequestModel):
    """The reviewer's decision on a proposal under review."""

    outcome: Outcome
    notes: RequiredText = Field(description="The reasons for the decision.")
    conditions: Text = Field(
        default="", description="Conditions attached, e.g. to an approval or for resubmitting."
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "outcome": "approved",
                    "notes": "Ditetapkan sebagai program nasional bersama Ditjen Dukcapil.",
                    "conditions": "Pedoman teknis nasional disusun dalam 6 bulan.",
                },
                {
                    "outcome": "deferred",
                    "notes": "Replikasi baru di satu provinsi lain; dibahas kembali setelah "
                    "penilaian keberlanjutan di daerah asal.",
                    "conditions": "Lengkapi penilaian keberlanjutan 2024 di daerah asal.",
                },
            ]
        }
    )


_DECISION_EXAMPLE: dict[str, Any] = {
    "outcome": "approved",
    "notes": "Memenuhi seluruh kriteria.",
    "conditions": "Pedoman teknis nasional disusun dalam 6 bulan.",
    "decided_by": "Tim Penilai KemenPANRB",
    "decided_at": "2026-11-30T02:00:00Z",
}


class Decision(ResponseModel):
    """The latest decision. After a deferral the proposal can be reviewed again and the
    deferral stays here until the next decision."""

    outcome: Outcome
    notes: str
    conditions: str
    decided_by: str = Field(description="Name of the reviewer's API key.")
    decided_at: datetime

    model_config = ConfigDict(json_schema_extra={"examples": [_DECISION_EXAMPLE]})


class ProposalRead(Record):
    """A scaling proposal with its evidence snapshot and, once decided, the decision."""

    id: uuid.UUID
    innovation_id: uuid.UUID
    innovation_title: str
    province_code: str | None = Field(description="The innovation's province when proposed.")
    target_scale: TargetScale
    target_province_code: str | None
    rationale: str
    evidence: Evidence
    status: ProposalStatus
    proposed_by: str = Field(description="Name of the proposer's API key.")
    reviewed_at: datetime | None = Field(description="When the review (last) started.")
    decision: Decision | None

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_PROPOSAL_EXAMPLE,
                    "id": "26911182-78a3-59b1-8dd4-e2f5897643e8",
                    "innovation_title": "Kartu Insentif Anak",
                    "province_code": "33",
                    "evidence": _EVIDENCE_EXAMPLE,
                    "status": "approved",
                    "proposed_by": "Biro Organisasi Jawa Tengah",
                    "reviewed_at": "2026-11-24T02:00:00Z",
                    "decision": _DECISION_EXAMPLE,
                    "created_at": "2026-11-23T03:00:00Z",
                    "updated_at": "2026-11-30T02:00:00Z",
                    "version": 3,
                }
            ]
        }
    )
