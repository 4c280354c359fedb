"""Statistics for dashboards, maps and charts (statistik)."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from app.core.schemas import ResponseModel

_STATUS: dict[str, Any] = {"draft": 0, "published": 15, "withdrawn": 0}
_SCALE: dict[str, Any] = {"local": 14, "provincial": 0, "national": 1}
_COMMITMENTS_33: dict[str, Any] = {
    "committed": 2,
    "in_progress": 4,
    "stalled": 3,
    "launched": 5,
    "sustained": 4,
    "cancelled": 1,
}
_VERDICTS: dict[str, Any] = {"sustained": 4, "at_risk": 2, "discontinued": 2}
_VERDICTS_33: dict[str, Any] = {"sustained": 4, "at_risk": 0, "discontinued": 1}
_PROPOSALS: dict[str, Any] = {
    "submitted": 0,
    "under_review": 0,
    "approved": 1,
    "rejected": 0,
    "deferred": 0,
}


class InnovationStatusCounts(ResponseModel):
    """Innovations per publication status; every status is present, zeros included."""

    draft: int
    published: int
    withdrawn: int

    model_config = ConfigDict(json_schema_extra={"examples": [_STATUS]})


class ScaleCounts(ResponseModel):
    """Published innovations per scale (glokalisasi: scaled up to a province or the nation)."""

    local: int
    provincial: int
    national: int

    model_config = ConfigDict(json_schema_extra={"examples": [_SCALE]})


class CommitmentStatusCounts(ResponseModel):
    """Commitments per status; every status is present, zeros included."""

    committed: int
    in_progress: int
    stalled: int
    launched: int
    sustained: int
    cancelled: int

    model_config = ConfigDict(json_schema_extra={"examples": [_COMMITMENTS_33]})


class VerdictCounts(ResponseModel):
    """Assessed subjects (innovations at their origin and commitments) per the verdict of
    their latest sustainability assessment (the one with the latest period): a subject
    assessed in 2022 and 2023 counts once, with its 2023 verdict."""

    sustained: int
    at_risk: int
    discontinued: int

    model_config = ConfigDict(json_schema_extra={"examples": [_VERDICTS]})


class ProposalStatusCounts(ResponseModel):
    """Scaling proposals (usulan glokalisasi) per status; every status is present, zeros
    included."""

    submitted: int
    under_review: int
    approved: int
    rejected: int
    deferred: int

    model_config = ConfigDict(json_schema_extra={"examples": [_PROPOSALS]})


class Overview(ResponseModel):
    """Headline figures of the whole registry, for a dashboard's first screen."""

    innovations_by_status: InnovationStatusCounts
    innovations_by_scale: ScaleCounts = Field(description="Published innovations only.")
    commitments_by_status: CommitmentStatusCounts
    overdue_commitments: int = Field(
        description="Target launch date passed and still committed, in progress or stalled."
    )
    latest_verdicts: VerdictCounts
    scaling_proposals_by_status: ProposalStatusCounts

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "innovations_by_status": _STATUS,
                    "innovations_by_scale": _SCALE,
                    "commitments_by_status": {
                        "committed": 4,
                        "in_progress": 6,
                        "stalled": 4,
                        "launched": 9,
                        "sustained": 5,
                        "cancelled": 1,
                    },
                    "overdue_commitments": 12,
                    "latest_verdicts": _VERDICTS,
                    "scaling_proposals_by_status": _PROPOSALS,
                }
            ]
        }
    )


_PROVINCE_EXAMPLE: dict[str, Any] = {
    "code": "33",
    "name": "Jawa Tengah",
    "innovations": 5,
    "commitments": _COMMITMENTS_33,
    "average_progress": 64.17,
    "overdue": 8,
    "latest_verdicts": _VERDICTS_33,
    "incentives_idr": 10_750_000_000,
}


class ProvinceStats(ResponseModel):
    """One province: what was born there and what it adopts."""

    code: str = Field(description="Province code (2 digits).")
    name: str
    innovations: int = Field(
        description="Published innovations born there (owned by an institution of the province)."
    )
    commitments: CommitmentStatusCounts = Field(
        description="Commitments whose adopter is in the province, per status."
    )
    average_progress: float | None = Field(
        description="Mean `progress` (0–100) of the province's commitments that are not "
        "cancelled; null when it has none."
    )
    overdue: int = Field(description="The province's overdue commitments.")
    latest_verdicts: VerdictCounts = Field(
        description="Subjects of the province (innovations born there, commitments adopted "
        "there) per the verdict of their latest assessment."
    )
    incentives_idr: int = Field(
        description="Incentive funds (dana insentif daerah) recorded for the province and its "
        "regencies and cities, all years (`GET /incentives?region=…`)."
    )

    model_config = ConfigDict(json_schema_extra={"examples": [_PROVINCE_EXAMPLE]})


class ProvinceStatsList(ResponseModel):
    """All 38 provinces, by code, zeros included (one row per province for a map)."""

    items: list[ProvinceStats]

    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [_PROVINCE_EXAMPLE]}]})


_FLOW_EXAMPLE: dict[str, Any] = {
    "origin_province_code": "32",
    "origin_province_name": "Jawa Barat",
    "adopter_province_code": "61",
    "adopter_province_name": "Kalimantan Barat",
    "commitments": 5,
    "launched": 3,
}


class ReplicationFlow(ResponseModel):
    """Commitments from one origin province to one adopter province (not cancelled)."""

    origin_province_code: str | None = Field(
        description="Where the innovations were born; null for innovations of an institution "
        "without a region (a ministry)."
    )
    origin_province_name: str | None
    adopter_province_code: str | None = Field(description="Where the adopters are.")
    adopter_province_name: str | None
    commitments: int = Field(description="Commitments that are not cancelled.")
    launched: int = Field(description="Of those, the ones launched or sustained.")

    model_config = ConfigDict(json_schema_extra={"examples": [_FLOW_EXAMPLE]})


class ReplicationFlows(ResponseModel):
    """Origin → adopter province pairs, the largest flows first."""

    items: list[ReplicationFlow]

    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [_FLOW_EXAMPLE]}]})
