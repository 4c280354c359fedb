from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import ConfigDict, Field

from app.core.errors import Problem
from app.core.patch import OMITTED, UpdateModel
from app.core.schemas import (
    HttpUrl,
    Name,
    PastDate,
    Record,
    RegionCode,
    RequestModel,
    ResponseModel,
    ShortText,
    Text,
)


class ProgramStatus(StrEnum):
    """Programme status: planned, active (running), closed."""

    planned = "planned"
    active = "active"
    closed = "closed"


class CommitmentStatus(StrEnum):
    """Commitment status: committed → in_progress → launched → sustained; stalled; cancelled."""

    committed = "committed"
    in_progress = "in_progress"
    stalled = "stalled"
    launched = "launched"
    sustained = "sustained"
    cancelled = "cancelled"


class ItemStatus(StrEnum):
    todo = "todo"
    doing = "doing"
    done = "done"
    blocked = "blocked"


# Request examples use the ids of the demo data (app/demo), so that each one works in Swagger
# UI on `make run`, and each create makes a new record rather than repeat a demo one.
_PROGRAM_EXAMPLE: dict[str, Any] = {
    "name": "Replikasi Inovasi Pelayanan Publik Provinsi Jawa Tengah 2024",
    "province_code": "33",
    "fiscal_year": 2025,
    "signed_on": "2024-11-05",
    "coordinator": "Sekretaris Daerah Provinsi Jawa Tengah",
    "mentor_team": "Tim JIPP Universitas Diponegoro",
    "description": "Lima inovasi direplikasi oleh 10 kabupaten/kota.",
    "status": "active",
}


class ProgramCreate(RequestModel):
    """A replication programme (program replikasi)."""

    name: Name
    province_code: RegionCode | None = Field(
        default=None, description="The province running it; null for a national programme."
    )
    fiscal_year: int = Field(ge=2000, le=2100)
    signed_on: PastDate | None = None
    coordinator: ShortText = Field(default="", description="e.g. the Sekda (regional secretary).")
    mentor_team: Text = Field(default="", description="Tim pendamping, e.g. a JIPP hub.")
    mentor_hub_id: uuid.UUID | None = Field(
        default=None, description="The JIPP hub that mentors the programme (`GET /hubs`)."
    )
    description: Text = ""
    status: ProgramStatus = ProgramStatus.planned

    model_config = ConfigDict(json_schema_extra={"examples": [_PROGRAM_EXAMPLE]})


class ProgramUpdate(UpdateModel):
    """Fields to change; only those sent are applied. Only `signed_on` may be cleared with
    null."""

    name: Name = OMITTED
    fiscal_year: int = Field(default=OMITTED, ge=2000, le=2100)
    signed_on: PastDate | None = Field(default=None, description="Null: not signed yet.")
    coordinator: ShortText = OMITTED
    mentor_team: Text = OMITTED
    mentor_hub_id: uuid.UUID | None = Field(
        default=None, description="The mentoring JIPP hub; null: none."
    )
    description: Text = OMITTED
    status: ProgramStatus = OMITTED

    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "closed"}]})


class ProgramRead(Record):
    id: uuid.UUID
    name: str
    province_code: str | None
    fiscal_year: int
    signed_on: date | None
    coordinator: str
    mentor_team: str
    mentor_hub_id: uuid.UUID | None = Field(
        description="The JIPP hub that mentors the programme (`GET /hubs/{hub_id}`), if any."
    )
    description: str
    status: ProgramStatus

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_PROGRAM_EXAMPLE,
                    "mentor_hub_id": None,
                    "id": "0b6c1d8e-4f7a-4a53-9a57-3f0c1e2d4b5a",
                    "created_at": "2026-01-05T03:00:00Z",
                    "updated_at": "2026-01-05T03:00:00Z",
                    "version": 1,
                }
            ]
        }
    )


# Kabupaten Wonosobo commits, in the Jawa Tengah programme, to Sayangi dan Dampingi Ibu dan Anak
# of Kota Semarang (it has committed to Gerakan Kembali Bersekolah only).
_COMMITMENT_EXAMPLE: dict[str, Any] = {
    "program_id": "e0e59d61-2730-5372-9ab0-4b6f3839d8f4",
    "innovation_id": "ba005b5b-7f69-50ce-b650-1c98669a1c23",
    "adopter_institution_id": "cce9722d-a47e-5fed-89e8-31c6a93e211e",
    "signed_on": "2021-11-02",
    "target_launch_on": "2022-06-30",
    "planned_modifications": "Pendampingan ibu hamil oleh bidan desa dan kader posyandu.",
    "budget_idr": 150000000,
    "mentors": "Dosen Universitas Diponegoro",
}


class CommitmentCreate(RequestModel):
    """A commitment (komitmen replikasi) of an adopter to replicate an innovation."""

    program_id: uuid.UUID
    innovation_id: uuid.UUID = Field(description="The source: published, not the adopter's own.")
    adopter_institution_id: uuid.UUID = Field(
        description="Inside the programme's province when it has one."
    )
    signed_on: PastDate
    target_launch_on: date | None = None
    planned_modifications: Text = ""
    budget_idr: int = Field(default=0, ge=0, le=10**15)
    mentors: Text = ""

    model_config = ConfigDict(json_schema_extra={"examples": [_COMMITMENT_EXAMPLE]})


class CommitmentUpdate(UpdateModel):
    """Fields to change; status changes go through `/transitions`. Only `target_launch_on`
    may be cleared with null."""

    signed_on: PastDate = OMITTED
    target_launch_on: date | None = Field(default=None, description="Null: no target date.")
    planned_modifications: Text = OMITTED
    budget_idr: int = Field(default=OMITTED, ge=0, le=10**15)
    mentors: Text = OMITTED

    model_config = ConfigDict(json_schema_extra={"examples": [{"budget_idr": 200000000}]})


class TransitionRequest(RequestModel):
    """Move a commitment to another status."""

    to: CommitmentStatus
    reason: Text | None = Field(default=None, description="Required for `cancelled`.")

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"to": "launched", "reason": "Diluncurkan Bupati"}]}
    )


class ActionItemCreate(RequestModel):
    """An action-plan item (rencana aksi)."""

    title: Name
    due_on: date | None = None
    weight: float = Field(default=1, gt=0, le=1000)
    status: ItemStatus = ItemStatus.todo
    progress: int = Field(default=0, ge=0, le=100)

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"title": "Menyusun Perbup", "due_on": "2022-03-31", "weight": 2}]
        }
    )


class ActionItemUpdate(UpdateModel):
    """Fields to change; only those sent are applied. `due_on` and `completed_on` may be
    cleared with null."""

    title: Name = OMITTED
    due_on: date | None = Field(default=None, description="Null: no due date.")
    weight: float = Field(default=OMITTED, gt=0, le=1000)
    status: ItemStatus = OMITTED
    progress: int = Field(default=OMITTED, ge=0, le=100)
    completed_on: PastDate | None = Field(
        default=None,
        description="When it was done: today when it becomes `done` unless sent; null when "
        "it is reopened, or to clear it.",
    )

    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "done", "progress": 100}]})


_ACTION_ITEM_EXAMPLE: dict[str, Any] = {
    "id": "9a8b7c6d-4f7a-4a53-9a57-3f0c1e2d4b5a",
    "commitment_id": "5d1c2b3a-4f7a-4a53-9a57-3f0c1e2d4b5a",
    "title": "Menyusun Perbup",
    "due_on": "2022-03-31",
    "weight": 2.0,
    "status": "doing",
    "progress": 50,
    "completed_on": None,
    "created_at": "2026-01-05T03:00:00Z",
    "updated_at": "2026-01-05T03:00:00Z",
    "version": 1,
}


class ActionItemRead(Record):
    id: uuid.UUID
    commitment_id: uuid.UUID
    title: str
    due_on: date | None
    weight: float
    status: ItemStatus
    progress: int
    completed_on: date | None

    model_config = ConfigDict(json_schema_extra={"examples": [_ACTION_ITEM_EXAMPLE]})


class ItemUpdate(RequestModel):
    """A change to one item of the commitment's action plan, applied with the report."""

    item_id: uuid.UUID
    progress: int | None = Field(default=None, ge=0, le=100)
    status: ItemStatus | None = None

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "item_id": "9a8b7c6d-4f7a-4a53-9a57-3f0c1e2d4b5a",
                    "progress": 100,
                    "status": "done",
                }
            ]
        }
    )


# A report on Kabupaten Purworejo's replication of Sayangi dan Dampingi Ibu dan Anak (in
# progress; signed 2021-11-02): its second action item (SOP, system and budget) is done.
_REPORT_EXAMPLE: dict[str, Any] = {
    "as_of": "2022-08-31",
    "percent_complete": 70,
    "item_updates": [
        {"item_id": "48d5a6b8-c7f9-5e08-aa03-20e4f8daeea9", "progress": 100, "status": "done"}
    ],
    "narrative": "Perbup telah ditandatangani; SOP pendampingan berlaku di 5 puskesmas.",
    "obstacles": "Anggaran perubahan belum cair.",
    "evidence_urls": ["https://jdih.example.go.id/perbup-12-2022.pdf"],
    "reported_by": "Dinas Kesehatan Kabupaten Purworejo",
}
# A report of a batch: Kabupaten Kendal's replication of the Aceh Barat birth and death
# certificates (in progress), with an update of its second action item.
_BATCH_REPORT_EXAMPLE: dict[str, Any] = {
    "commitment_id": "558cc748-b917-56c7-828b-9d093b655d34",
    "as_of": "2023-06-30",
    "percent_complete": 70,
    "item_updates": [
        {"item_id": "66867b50-f677-54fa-b751-344f30c23504", "progress": 90, "status": "doing"}
    ],
    "narrative": "Aplikasi terpasang di 10 desa.",
    "obstacles": "",
    "evidence_urls": [],
    "reported_by": "Dinas Kependudukan dan Pencatatan Sipil Kabupaten Kendal",
}


class ProgressReportCreate(RequestModel):
    """A progress report (laporan kemajuan). Append-only once accepted."""

    as_of: PastDate = Field(description="Not in the future, not before the commitment's signing.")
    percent_complete: int = Field(ge=0, le=100)
    item_updates: list[ItemUpdate] = Field(default_factory=list, max_length=200)
    narrative: Text = ""
    obstacles: Text = ""
    evidence_urls: list[HttpUrl] = Field(default_factory=list, max_length=10)
    reported_by: ShortText = ""

    model_config = ConfigDict(json_schema_extra={"examples": [_REPORT_EXAMPLE]})


class BatchReport(ProgressReportCreate):
    commitment_id: uuid.UUID

    model_config = ConfigDict(json_schema_extra={"examples": [_BATCH_REPORT_EXAMPLE]})


class BatchRequest(RequestModel):
    """Up to 500 reports; each is validated and applied on its own."""

    reports: list[dict[str, Any]] = Field(
        min_length=1,
        max_length=500,
        description="Each item has the shape of `BatchReport`; an invalid one fails alone "
        "(its result is a 422), so any object is accepted here.",
        json_schema_extra={
            "items": {"anyOf": [{"$ref": "#/components/schemas/BatchReport"}, {"type": "object"}]}
        },
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "reports": [
                        _BATCH_REPORT_EXAMPLE,
                        {
                            **_REPORT_EXAMPLE,
                            "commitment_id": "77def33a-e1dc-5af8-9412-10cadb011e9b",
                        },
                    ]
                }
            ]
        }
    )


_REPORT_READ_EXAMPLE: dict[str, Any] = {
    **_REPORT_EXAMPLE,
    "id": "1a2b3c4d-4f7a-4a53-9a57-3f0c1e2d4b5a",
    "commitment_id": "5d1c2b3a-4f7a-4a53-9a57-3f0c1e2d4b5a",
    "created_at": "2022-04-01T03:00:00Z",
}


class ProgressReportRead(ResponseModel):
    id: uuid.UUID
    commitment_id: uuid.UUID
    as_of: date
    percent_complete: int
    item_updates: list[dict[str, Any]]
    narrative: str
    obstacles: str
    evidence_urls: list[str]
    reported_by: str
    created_at: datetime

    model_config = ConfigDict(json_schema_extra={"examples": [_REPORT_READ_EXAMPLE]})


class BatchItemResult(ResponseModel):
    """The outcome of one report of a batch, in request order."""

    index: int = Field(description="Position of the report in the request.")
    status: int = Field(description="201 when stored, else the problem's status.")
    report: ProgressReportRead | None = None
    problem: Problem | None = None

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "index": 1,
                    "status": 404,
                    "report": None,
                    "problem": {
                        "type": "https://inovasi.go.id/problems/not_found",
                        "title": "Not Found",
                        "status": 404,
                        "detail": "Commitment 5d1c2b3a-4f7a-4a53-9a57-3f0c1e2d4b5a does not exist.",
                        "instance": "/api/v1/progress-reports/batch",
                        "code": "not_found",
                    },
                }
            ]
        }
    )


class BatchResponse(ResponseModel):
    accepted: int
    rejected: int
    results: list[BatchItemResult]

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "accepted": 1,
                    "rejected": 1,
                    "results": [
                        {
                            "index": 0,
                            "status": 201,
                            "report": {
                                **_REPORT_EXAMPLE,
                                "id": "1a2b3c4d-4f7a-4a53-9a57-3f0c1e2d4b5a",
                                "commitment_id": "5d1c2b3a-4f7a-4a53-9a57-3f0c1e2d4b5a",
                                "created_at": "2022-04-01T03:00:00Z",
                            },
                        },
                        {
                            "index": 1,
                            "status": 403,
                            "problem": {
                                "type": "https://inovasi.go.id/problems/other_province",
                                "title": "Forbidden",
                                "status": 403,
                                "detail": "This key is limited to province 33.",
                                "instance": "/api/v1/progress-reports/batch",
                                "code": "other_province",
                            },
                        },
                    ],
                }
            ]
        }
    )


class Ref(ResponseModel):
    """A record's id and name."""

    id: uuid.UUID
    name: str

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"id": "5d1c2b3a-4f7a-4a53-9a57-3f0c1e2d4b5a", "name": "PIKOBAR"}]
        }
    )


_COMMITMENT_READ_EXAMPLE: dict[str, Any] = {
    **_COMMITMENT_EXAMPLE,
    "id": "5d1c2b3a-4f7a-4a53-9a57-3f0c1e2d4b5a",
    "innovation_title": "Sayangi dan Dampingi Ibu dan Anak",
    "adopter_name": "Pemerintah Kabupaten Wonosobo",
    "adopter_region_code": "33.07",
    "adopter_province_code": "33",
    "origin_province_code": "33",
    "status": "in_progress",
    "status_reason": None,
    "progress": 40.0,
    "last_report_at": "2022-04-01T03:00:00Z",
    "overdue": False,
    "stale": False,
    "created_at": "2026-01-05T03:00:00Z",
    "updated_at": "2026-01-05T03:00:00Z",
    "version": 3,
}


class CommitmentRead(Record):
    """A commitment with its current progress and health flags."""

    id: uuid.UUID
    program_id: uuid.UUID
    innovation_id: uuid.UUID
    innovation_title: str
    adopter_institution_id: uuid.UUID
    adopter_name: str
    adopter_region_code: str | None
    adopter_province_code: str | None
    origin_province_code: str | None
    signed_on: date
    target_launch_on: date | None
    planned_modifications: str
    budget_idr: int
    mentors: str
    status: CommitmentStatus
    status_reason: str | None
    progress: float = Field(
        description="Weighted mean of the action items' progress; with no items, the latest "
        "reported percentage."
    )
    last_report_at: datetime | None
    overdue: bool = Field(description="Target launch date passed and not launched.")
    stale: bool = Field(description="No progress report in 90 days.")

    model_config = ConfigDict(json_schema_extra={"examples": [_COMMITMENT_READ_EXAMPLE]})


class CommitmentDetail(CommitmentRead):
    """A commitment with its action plan and latest report."""

    action_items: list[ActionItemRead]
    latest_report: ProgressReportRead | None

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_COMMITMENT_READ_EXAMPLE,
                    "action_items": [_ACTION_ITEM_EXAMPLE],
                    "latest_report": _REPORT_READ_EXAMPLE,
                }
            ]
        }
    )


_CELL_EXAMPLE: dict[str, Any] = {
    "innovation_id": "5d1c2b3a-4f7a-4a53-9a57-3f0c1e2d4b5a",
    "adopter_institution_id": "7e2d3c4b-4f7a-4a53-9a57-3f0c1e2d4b5a",
    "commitment_id": "1a2b3c4d-4f7a-4a53-9a57-3f0c1e2d4b5a",
    "status": "in_progress",
    "progress": 40.0,
}
_ADOPTER_EXAMPLE: dict[str, Any] = {
    "id": "7e2d3c4b-4f7a-4a53-9a57-3f0c1e2d4b5a",
    "name": "Pemerintah Kabupaten Blora",
    "region_code": "33.16",
}


class MatrixCell(ResponseModel):
    """One commitment of the grid: an innovation adopted by an adopter."""

    innovation_id: uuid.UUID
    adopter_institution_id: uuid.UUID
    commitment_id: uuid.UUID
    status: CommitmentStatus
    progress: float

    model_config = ConfigDict(json_schema_extra={"examples": [_CELL_EXAMPLE]})


class MatrixAdopter(Ref):
    """An adopter of the grid, with its region."""

    region_code: str | None

    model_config = ConfigDict(json_schema_extra={"examples": [_ADOPTER_EXAMPLE]})


class ProgramMatrix(ResponseModel):
    """Innovation × adopter grid of a programme, for dashboards."""

    program: ProgramRead
    innovations: list[Ref]
    adopters: list[MatrixAdopter]
    cells: list[MatrixCell]

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "program": {
                        **_PROGRAM_EXAMPLE,
                        "mentor_hub_id": None,
                        "id": "0b6c1d8e-4f7a-4a53-9a57-3f0c1e2d4b5a",
                        "created_at": "2026-01-05T03:00:00Z",
                        "updated_at": "2026-01-05T03:00:00Z",
                        "version": 1,
                    },
                    "innovations": [
                        {"id": "5d1c2b3a-4f7a-4a53-9a57-3f0c1e2d4b5a", "name": "PIKOBAR"}
                    ],
                    "adopters": [
                        {
                            "id": "7e2d3c4b-4f7a-4a53-9a57-3f0c1e2d4b5a",
                            "name": "Pemerintah Kabupaten Blora",
                            "region_code": "33.16",
                        }
                    ],
                    "cells": [
                        {
                            "innovation_id": "5d1c2b3a-4f7a-4a53-9a57-3f0c1e2d4b5a",
                            "adopter_institution_id": "7e2d3c4b-4f7a-4a53-9a57-3f0c1e2d4b5a",
                            "commitment_id": "1a2b3c4d-4f7a-4a53-9a57-3f0c1e2d4b5a",
                            "status": "in_progress",
                            "progress": 40.0,
                        }
                    ],
                }
            ]
        }
    )
