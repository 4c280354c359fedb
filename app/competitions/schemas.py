"""Request and response shapes of competitions (kompetisi inovasi): competitions, entries,
screening, assignments, scores, field verification, rankings, objections, determination,
nomination and statistics."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import ConfigDict, Field, StringConstraints

from app.core.patch import OMITTED, UpdateModel
from app.core.schemas import (
    HttpUrl,
    Name,
    PastDate,
    ProvinceCode,
    Record,
    RequestModel,
    RequiredText,
    ResponseModel,
    ShortText,
    Text,
)

COMPETITION_ID_EXAMPLE = "08baa6e4-7ea2-5a4c-8319-795803106c5b"
ENTRY_ID_EXAMPLE = "dc235e91-09ef-54ba-915a-16c858992d79"


class CompetitionStatus(StrEnum):
    """planned → open → screening → evaluation → objection → determined."""

    planned = "planned"
    open = "open"
    screening = "screening"
    evaluation = "evaluation"
    objection = "objection"
    determined = "determined"


class Group(StrEnum):
    """Entry groups: `general` (umum), `replication` (replikasi), `special` (khusus: by
    invitation)."""

    general = "general"
    replication = "replication"
    special = "special"


class Tier(StrEnum):
    """Tiers a competition can award (the award tiers)."""

    top_99 = "top_99"
    top_45 = "top_45"
    top_5 = "top_5"
    outstanding = "outstanding"
    winner = "winner"
    finalist = "finalist"
    nominee = "nominee"


class EntryStatus(StrEnum):
    """draft → submitted → screened_out | in_evaluation → eliminated | finalist → awarded |
    disqualified."""

    draft = "draft"
    submitted = "submitted"
    screened_out = "screened_out"
    in_evaluation = "in_evaluation"
    eliminated = "eliminated"
    finalist = "finalist"
    awarded = "awarded"
    disqualified = "disqualified"


class ScreeningResult(StrEnum):
    passed = "passed"
    failed = "failed"


class ScreeningReason(StrEnum):
    """Why a proposal failed administrative selection (seleksi administrasi)."""

    incomplete = "incomplete"
    too_young = "too_young"
    over_quota = "over_quota"
    duplicate = "duplicate"
    not_public_service = "not_public_service"
    frivolous_answers = "frivolous_answers"
    other = "other"


class ObjectionStatus(StrEnum):
    open = "open"
    upheld = "upheld"
    rejected = "rejected"


class ObjectionOutcome(StrEnum):
    upheld = "upheld"
    rejected = "rejected"


# Default rules per group (SPEC): minimum age of the innovation at closing, quota per agency.
DEFAULT_GROUP_RULES: dict[str, dict[str, int]] = {
    "general": {"min_age_years": 2, "quota": 10},
    "replication": {"min_age_years": 1, "quota": 5},
    "special": {"min_age_years": 0, "quota": 10},
}
RubricCode = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]


class GroupRule(RequestModel):
    """A group's rules at submission."""

    min_age_years: int = Field(
        ge=0, le=50, description="Minimum age of the innovation at closing (from launched_on)."
    )
    quota: int = Field(ge=1, le=1000, description="Entries per agency in this group.")

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"min_age_years": 2, "quota": 10}]}
    )


class TierSpec(RequestModel):
    """A tier, in order: closing stage n ranks the entries of tier n-1 (stage 0: those that
    passed screening) and advances the best `size` to tier n."""

    tier: Tier
    size: int = Field(ge=1, le=10_000)
    rubric: RubricCode = Field(
        default="kipp_proposal", description="Code of the rubric scored at this stage."
    )
    field_verification: bool = Field(
        default=False,
        description="Only field-verified entries may enter this tier (observasi lapangan).",
    )

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"tier": "top_99", "size": 99, "rubric": "kipp_proposal"},
                {
                    "tier": "top_45",
                    "size": 45,
                    "rubric": "kipp_presentation",
                    "field_verification": True,
                },
            ]
        },
    )


KIPP_TIERS = [
    {"tier": "top_99", "size": 99, "rubric": "kipp_proposal", "field_verification": False},
    {"tier": "top_45", "size": 45, "rubric": "kipp_presentation", "field_verification": True},
    {"tier": "outstanding", "size": 5, "rubric": "kipp_presentation", "field_verification": True},
]

_COMPETITION_EXAMPLE: dict[str, Any] = {
    "name": "Kompetisi Inovasi Pelayanan Publik Jawa Tengah 2027",
    "organizer_province_code": "33",
    "year": 2027,
    "groups": ["general", "replication"],
    "categories": ["Kesehatan", "Pendidikan"],
    "submission_opens_on": "2027-02-01",
    "submission_closes_on": "2027-03-31",
    "tiers": [{"tier": "winner", "size": 3, "rubric": "kipp_proposal"}],
    "objection_days": 5,
}


class CompetitionCreate(RequestModel):
    """A new competition. Coordinators create their province's; admins any (national when
    `organizer_province_code` is null)."""

    name: Name
    organizer_province_code: ProvinceCode | None = Field(
        default=None, description="The organising province; null for the national KIPP."
    )
    year: int = Field(ge=1990, le=2100)
    description: Text = ""
    groups: list[Group] = Field(min_length=1, max_length=3)
    categories: list[ShortText] = Field(default_factory=list, max_length=50)
    submission_opens_on: date
    submission_closes_on: date
    group_rules: dict[Group, GroupRule] | None = Field(
        default=None,
        description="Per group; defaults: general 2 years and 10 per agency, replication "
        "1 year and 5, special 0 years and 10.",
    )
    tiers: list[TierSpec] | None = Field(
        default=None,
        max_length=10,
        description="In order; default KIPP's: top_99 (99), top_45 (45, field-verified), "
        "outstanding (5, field-verified).",
    )
    objection_days: int = Field(default=5, ge=0, le=60, description="Masa sanggah, in days.")

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [_COMPETITION_EXAMPLE]}
    )


class CompetitionUpdate(UpdateModel):
    """Fields to change (only those sent). Rules and tiers only while `planned`."""

    name: Name = OMITTED
    description: Text = OMITTED
    categories: list[ShortText] = Field(default=OMITTED, max_length=50)
    submission_opens_on: date = OMITTED
    submission_closes_on: date = OMITTED
    group_rules: dict[Group, GroupRule] = OMITTED
    objection_days: int = Field(default=OMITTED, ge=0, le=60)

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"description": "Tema: pelayanan publik inklusif."}]},
    )


class TierRead(ResponseModel):
    tier: str
    size: int
    rubric_id: uuid.UUID
    rubric: str
    field_verification: bool

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "tier": "top_99",
                    "size": 99,
                    "rubric_id": "2b7f7d0e-7a0a-5a3c-9d8e-0f1e2d3c4b5a",
                    "rubric": "kipp_proposal",
                    "field_verification": False,
                }
            ]
        }
    )


class GroupRuleRead(ResponseModel):
    min_age_years: int
    quota: int

    model_config = ConfigDict(json_schema_extra={"examples": [{"min_age_years": 2, "quota": 10}]})


class CompetitionRead(Record):
    id: uuid.UUID
    name: str
    organizer: str = Field(description="`national`, or the organising province's code.")
    organizer_province_code: str | None
    year: int
    description: str
    groups: list[str]
    categories: list[str]
    submission_opens_on: date
    submission_closes_on: date
    group_rules: dict[str, GroupRuleRead]
    tiers: list[TierRead]
    objection_days: int
    objection_closes_on: date | None = Field(
        description="Last day of the objection window (set when it opens)."
    )
    stages_closed: int = Field(description="How many stages (one per tier) are closed.")
    status: CompetitionStatus
    decree_number: str | None
    determined_on: date | None

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": COMPETITION_ID_EXAMPLE,
                    "name": "KIPP 2019 (demo)",
                    "organizer": "national",
                    "organizer_province_code": None,
                    "year": 2019,
                    "description": "",
                    "groups": ["general", "replication"],
                    "categories": [],
                    "submission_opens_on": "2019-01-07",
                    "submission_closes_on": "2019-02-28",
                    "group_rules": {"general": {"min_age_years": 2, "quota": 10}},
                    "tiers": [],
                    "objection_days": 5,
                    "objection_closes_on": "2019-07-10",
                    "stages_closed": 3,
                    "status": "determined",
                    "decree_number": "B/123/M.KT.02/2019",
                    "determined_on": "2019-07-18",
                    "created_at": "2019-01-02T03:00:00Z",
                    "updated_at": "2019-07-18T03:00:00Z",
                    "version": 9,
                }
            ]
        }
    )


class TransitionRequest(RequestModel):
    """Move a competition: `planned → open → screening → evaluation → objection`. The
    determination has its own operation."""

    to: CompetitionStatus

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"to": "open"}]})


class Answers(RequestModel):
    """The proposal's answers, by section (each optional while drafting)."""

    significance: Text | None = None
    novelty: Text | None = None
    transferability: Text | None = None
    resources_sustainability: Text | None = None
    stakeholder_involvement: Text | None = None

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "significance": "Angka putus sekolah turun 40% dalam dua tahun.",
                    "novelty": "Pendataan anak tidak sekolah berbasis desa.",
                }
            ]
        },
    )


class EntryCreate(RequestModel):
    """A draft entry of an innovation. `institution_id`: the submitting institution, the
    innovation's own (default) or one above it."""

    innovation_id: uuid.UUID
    group: Group
    category: ShortText | None = None
    institution_id: uuid.UUID | None = None
    answers: Answers = Field(default_factory=Answers)
    video_url: HttpUrl | None = None
    document_urls: list[HttpUrl] = Field(default_factory=list, max_length=10)

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "innovation_id": "7801cd81-7c43-5c3c-af76-39d648f35104",
                    "group": "general",
                    "answers": {"significance": "Layanan tuntas dalam satu hari."},
                }
            ]
        },
    )


class EntryUpdate(UpdateModel):
    """Draft fields to change (only those sent)."""

    group: Group = OMITTED
    category: ShortText | None = None
    answers: Answers = OMITTED
    video_url: HttpUrl | None = None
    document_urls: list[HttpUrl] = Field(default=OMITTED, max_length=10)

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"answers": {"novelty": "Pertama di Jawa Tengah."}}]},
    )


class NearDuplicate(ResponseModel):
    entry_id: uuid.UUID
    title: str
    similarity: float

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"entry_id": ENTRY_ID_EXAMPLE, "title": "Sayangi Ibu", "similarity": 0.7}]
        }
    )


class Screening(ResponseModel):
    result: ScreeningResult
    reasons: list[ScreeningReason]
    note: str
    screened_at: datetime

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "result": "failed",
                    "reasons": ["too_young"],
                    "note": "Diluncurkan 2018.",
                    "screened_at": "2019-03-10T02:00:00Z",
                }
            ]
        }
    )


class StageScore(ResponseModel):
    stage: int
    score: float = Field(description="The mean of the evaluators' weighted totals (0–100).")
    rank: int
    advanced: bool

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"stage": 0, "score": 84.5, "rank": 3, "advanced": True}]}
    )


class EntryRead(Record):
    id: uuid.UUID
    competition_id: uuid.UUID
    innovation_id: uuid.UUID
    title: str
    institution_id: uuid.UUID
    agency_id: uuid.UUID = Field(description="Top of the submitting institution's chain.")
    province_code: str | None
    group: Group
    category: str | None
    answers: dict[str, Any] | None = Field(
        description="Null for a caller who may not read them (before determination: only the "
        "submitter, the organiser, admins and assigned evaluators)."
    )
    video_url: str | None
    document_urls: list[str]
    nominated_from_entry_id: uuid.UUID | None
    status: EntryStatus
    submitted_at: datetime | None
    near_duplicates: list[NearDuplicate] = Field(
        description="Entries of the same competition whose title is similar (pg_trgm "
        "similarity ≥ 0.6), found at submission; flagged for screening, not refused."
    )
    screening: Screening | None
    tier: str | None = Field(description="The highest tier reached.")
    eliminated_at_stage: int | None
    stage_scores: list[StageScore] | None = Field(
        description="Stage totals: for the organiser and admins, and for everyone after "
        "determination; null otherwise."
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": ENTRY_ID_EXAMPLE,
                    "competition_id": COMPETITION_ID_EXAMPLE,
                    "innovation_id": "3f2b8c1e-5a6d-5e7f-8a9b-0c1d2e3f4a5b",
                    "title": "Gerakan Kembali Bersekolah",
                    "institution_id": "1d2c3b4a-5e6f-5a7b-8c9d-0e1f2a3b4c5d",
                    "agency_id": "1d2c3b4a-5e6f-5a7b-8c9d-0e1f2a3b4c5d",
                    "province_code": "33",
                    "group": "general",
                    "category": None,
                    "answers": {"significance": "Angka putus sekolah turun."},
                    "video_url": None,
                    "document_urls": [],
                    "nominated_from_entry_id": None,
                    "status": "finalist",
                    "submitted_at": "2019-02-01T02:00:00Z",
                    "near_duplicates": [],
                    "screening": None,
                    "tier": "top_99",
                    "eliminated_at_stage": None,
                    "stage_scores": None,
                    "created_at": "2019-01-20T02:00:00Z",
                    "updated_at": "2019-07-18T02:00:00Z",
                    "version": 4,
                }
            ]
        }
    )


class ScreeningRequest(RequestModel):
    """Administrative selection: `passed`, or `failed` with at least one reason."""

    result: ScreeningResult
    reasons: list[ScreeningReason] = Field(default_factory=list, max_length=7)
    note: Text = ""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"result": "passed"},
                {"result": "failed", "reasons": ["incomplete"], "note": "Video tidak ada."},
            ]
        },
    )


EVALUATION_ENTRY_EXAMPLE = "2cd19622-9d2f-533a-bbda-7cb5788dcaf7"
EVALUATOR_EXAMPLE = "847b165b-ecc2-56cb-8901-a8b591a6e429"


class Assignment(RequestModel):
    entry_id: uuid.UUID
    evaluator_key_id: uuid.UUID = Field(description="Id of an API key of role `evaluator`.")

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"entry_id": EVALUATION_ENTRY_EXAMPLE, "evaluator_key_id": EVALUATOR_EXAMPLE}
            ]
        },
    )


class AssignmentsRequest(RequestModel):
    """Assign evaluators to entries of a stage (an assignment already made is kept)."""

    stage: int = Field(ge=0, le=9)
    assignments: list[Assignment] = Field(min_length=1, max_length=10_000)

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "stage": 0,
                    "assignments": [
                        {
                            "entry_id": EVALUATION_ENTRY_EXAMPLE,
                            "evaluator_key_id": EVALUATOR_EXAMPLE,
                        }
                    ],
                }
            ]
        },
    )


class AssignmentsResult(ResponseModel):
    stage: int
    assigned: int = Field(description="New assignments made.")
    already: int = Field(description="Assignments that existed already.")

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"stage": 0, "assigned": 2, "already": 0}]}
    )


class ScoreCreate(RequestModel):
    """An evaluator's score at a stage: one value per criterion of the stage's rubric."""

    stage: int = Field(ge=0, le=9)
    criteria: dict[
        Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")],
        Annotated[int, Field(ge=0, le=100)],
    ] = Field(max_length=20)
    comment: Text = ""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "stage": 0,
                    "criteria": {
                        "significance": 8,
                        "novelty": 7,
                        "transferability": 9,
                        "resources_sustainability": 7,
                        "stakeholder_involvement": 8,
                    },
                    "comment": "Data dampak kuat.",
                }
            ]
        },
    )


class ScoreRead(Record):
    id: uuid.UUID
    entry_id: uuid.UUID
    stage: int
    evaluator_key_id: uuid.UUID
    rubric_id: uuid.UUID
    criteria: dict[str, int]
    total: float = Field(description="Weighted total on 0–100.")
    comment: str

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "5c4d3e2f-1a0b-4c9d-8e7f-6a5b4c3d2e1f",
                    "entry_id": ENTRY_ID_EXAMPLE,
                    "stage": 0,
                    "evaluator_key_id": "7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d",
                    "rubric_id": "2b7f7d0e-7a0a-5a3c-9d8e-0f1e2d3c4b5a",
                    "criteria": {"significance": 8},
                    "total": 78.0,
                    "comment": "",
                    "created_at": "2019-04-01T02:00:00Z",
                    "updated_at": "2019-04-01T02:00:00Z",
                    "version": 1,
                }
            ]
        }
    )


class FieldVerificationRequest(RequestModel):
    """The field observation of a shortlisted entry (replaces an earlier one)."""

    visited_on: PastDate
    team: list[Name] = Field(min_length=1, max_length=20)
    findings: Text = ""
    verified: bool
    evidence_urls: list[HttpUrl] = Field(default_factory=list, max_length=10)

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "visited_on": "2019-06-20",
                    "team": ["Tim Observasi KemenPANRB"],
                    "findings": "Layanan berjalan sesuai proposal.",
                    "verified": True,
                }
            ]
        },
    )


class FieldVerificationRead(Record):
    id: uuid.UUID
    entry_id: uuid.UUID
    visited_on: date
    team: list[str]
    findings: str
    verified: bool
    evidence_urls: list[str]

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d",
                    "entry_id": ENTRY_ID_EXAMPLE,
                    "visited_on": "2019-06-20",
                    "team": ["Tim Observasi"],
                    "findings": "",
                    "verified": True,
                    "evidence_urls": [],
                    "created_at": "2019-06-21T02:00:00Z",
                    "updated_at": "2019-06-21T02:00:00Z",
                    "version": 1,
                }
            ]
        }
    )


class StageClosed(ResponseModel):
    stage: int
    tier: str
    ranked: int = Field(description="Entries ranked at this stage.")
    advanced: int = Field(description="Entries that reached the tier.")
    closed_now: bool = Field(description="False when the stage was closed already.")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"stage": 0, "tier": "top_99", "ranked": 3156, "advanced": 99, "closed_now": True}
            ]
        }
    )


class RankingRow(ResponseModel):
    rank: int
    entry_id: uuid.UUID
    title: str
    score: float
    eligible: bool = Field(description="Could advance (field-verified where required).")
    advanced: bool

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "rank": 1,
                    "entry_id": ENTRY_ID_EXAMPLE,
                    "title": "Gerakan Kembali Bersekolah",
                    "score": 91.5,
                    "eligible": True,
                    "advanced": True,
                }
            ]
        }
    )


class ObjectionCreate(RequestModel):
    entry_id: uuid.UUID
    grounds: RequiredText

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "entry_id": "fe3aa330-7da2-581c-a269-2d6270e40492",
                    "grounds": "Inovasi ini sudah dihentikan sejak 2018.",
                }
            ]
        },
    )


class ObjectionResolution(RequestModel):
    outcome: ObjectionOutcome
    note: RequiredText

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"outcome": "rejected", "note": "Layanan masih berjalan."}]
        },
    )


class ObjectionRead(Record):
    id: uuid.UUID
    competition_id: uuid.UUID
    entry_id: uuid.UUID
    grounds: str
    filed_by: str
    status: ObjectionStatus
    resolution_note: str | None
    resolved_at: datetime | None
    promoted_entry_ids: list[uuid.UUID] = Field(
        description="Entries that moved up when the objection was upheld."
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "4d3c2b1a-0f9e-4d8c-7b6a-5f4e3d2c1b0a",
                    "competition_id": COMPETITION_ID_EXAMPLE,
                    "entry_id": ENTRY_ID_EXAMPLE,
                    "grounds": "Sudah dihentikan.",
                    "filed_by": "Pemkab Contoh",
                    "status": "open",
                    "resolution_note": None,
                    "resolved_at": None,
                    "promoted_entry_ids": [],
                    "created_at": "2019-07-08T02:00:00Z",
                    "updated_at": "2019-07-08T02:00:00Z",
                    "version": 1,
                }
            ]
        }
    )


class DeterminationRequest(RequestModel):
    decree_number: Name
    determined_on: PastDate

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"decree_number": "B/123/M.KT.02/2019", "determined_on": "2019-07-18"}]
        },
    )


class Determination(ResponseModel):
    competition: CompetitionRead
    awards: int = Field(description="Awards created or linked (one per finalist and tier).")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "competition": CompetitionRead.model_config["json_schema_extra"]["examples"][0],  # type: ignore[index]
                    "awards": 149,
                }
            ]
        }
    )


class NominationRequest(RequestModel):
    """Forward a determined provincial competition's finalists to an open national one."""

    target_competition_id: uuid.UUID
    entry_ids: list[uuid.UUID] | None = Field(
        default=None, max_length=1000, description="Default: every finalist."
    )

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"target_competition_id": "9883b731-7441-5b3b-aa9a-9a132037f70e"}]
        },
    )


class Nomination(ResponseModel):
    nominated: list[uuid.UUID] = Field(description="The new entries in the target competition.")
    skipped: list[uuid.UUID] = Field(
        description="Source entries whose innovation already has an entry there."
    )

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"nominated": [ENTRY_ID_EXAMPLE], "skipped": []}]}
    )


class Composition(ResponseModel):
    innovations: int
    institutions: int = Field(description="Distinct agencies (top of the submitting chain).")

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"innovations": 19, "institutions": 12}]}
    )


class TierComposition(ResponseModel):
    tier: str
    innovations: int
    institutions: int
    by_kind: dict[str, Composition]
    by_province: dict[str, Composition] = Field(description="Ministries and agencies: `-`.")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "tier": "top_99",
                    "innovations": 99,
                    "institutions": 70,
                    "by_kind": {"ministry": {"innovations": 19, "institutions": 12}},
                    "by_province": {"33": {"innovations": 25, "institutions": 12}},
                }
            ]
        }
    )


class CompetitionStats(ResponseModel):
    entries_by_status: dict[str, int]
    entries_by_tier: dict[str, int] | None = Field(
        description="Entries that reached each tier (null before determination for callers "
        "other than the organiser and admins)."
    )
    screening_failures: dict[str, int] | None = Field(
        description="Failed screenings counted by reason (idem)."
    )
    tiers: list[TierComposition] | None = Field(description="Composition of each tier (idem).")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "entries_by_status": {"awarded": 99, "eliminated": 2900},
                    "entries_by_tier": {"top_99": 99, "top_45": 45},
                    "screening_failures": {"too_young": 40},
                    "tiers": [],
                }
            ]
        }
    )


class RubricCriterion(ResponseModel):
    key: str
    name: str
    weight: float
    description: str

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"key": "novelty", "name": "Kebaruan", "weight": 20, "description": "…"}]
        }
    )


class RubricRead(ResponseModel):
    id: uuid.UUID
    code: str
    version: int = Field(description="The rubric's version (a new version is a new row).")
    name: str
    criteria: list[RubricCriterion]
    scale_min: int
    scale_max: int
    divergence_threshold: float = Field(
        description="Two totals (0–100) further apart than this need a third evaluator."
    )
    source: str = Field(description="Where the criteria and weights come from.")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "2b7f7d0e-7a0a-5a3c-9d8e-0f1e2d3c4b5a",
                    "code": "kipp_proposal",
                    "version": 1,
                    "name": "KIPP proposal evaluation",
                    "criteria": [],
                    "scale_min": 1,
                    "scale_max": 10,
                    "divergence_threshold": 20,
                    "source": "…",
                }
            ]
        }
    )
