"""Replication (replikasi inovasi): programmes, commitments, action plans, progress reports."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.concurrency import ensure_version
from app.core.errors import (
    Conflict,
    FieldError,
    Forbidden,
    NotFound,
    Problem,
    ProblemError,
    Unprocessable,
    field_error,
    validation_errors,
)
from app.core.events import record_event, record_events
from app.core.pagination import decode_cursor, next_cursor
from app.core.repository import changed_fields
from app.core.schemas import Page, today
from app.core.security import Principal
from app.core.transitions import ensure_transition
from app.innovations import repository as innovations
from app.institutionalisation import service as hubs
from app.institutions import repository as institutions
from app.models.replication import ActionItem, Commitment
from app.replication import repository
from app.replication.repository import CommitmentFilters
from app.replication.schemas import (
    ActionItemCreate,
    ActionItemRead,
    ActionItemUpdate,
    BatchReport,
    CommitmentCreate,
    CommitmentDetail,
    CommitmentRead,
    CommitmentStatus,
    CommitmentUpdate,
    MatrixAdopter,
    MatrixCell,
    ProgramCreate,
    ProgramMatrix,
    ProgramRead,
    ProgramUpdate,
    ProgressReportCreate,
    ProgressReportRead,
    Ref,
    TransitionRequest,
)

C = CommitmentStatus
TRANSITIONS: dict[CommitmentStatus, frozenset[CommitmentStatus]] = {
    C.committed: frozenset({C.in_progress, C.stalled, C.cancelled}),
    C.in_progress: frozenset({C.launched, C.stalled, C.cancelled}),
    C.stalled: frozenset({C.committed, C.in_progress, C.cancelled}),
    C.launched: frozenset({C.sustained, C.cancelled}),
    C.sustained: frozenset(),
    C.cancelled: frozenset(),
}
PROGRAM_SORT = "-fiscal_year"
# The reason of the move a commitment's first accepted progress report makes (SPEC: it moves
# `committed` to `in_progress`).
FIRST_REPORT = "first progress report"

# --- Programmes -------------------------------------------------------------------------


async def _program(session: AsyncSession, program_id: uuid.UUID) -> Any:
    program = await repository.get_program(session, program_id)
    if program is None:
        raise NotFound(f"Replication programme {program_id} does not exist.")
    return program


async def create_program(
    session: AsyncSession,
    principal: Principal,
    data: ProgramCreate,
    *,
    record_id: uuid.UUID | None = None,
) -> ProgramRead:
    """A programme of a province (its coordinator or an admin) or national (admins only).
    `record_id`: the new record's id when the caller chooses it, else a random one."""
    principal.ensure_province(data.province_code, "programme")
    if data.province_code is not None:
        region = await _region_level(session, data.province_code)
        if region != "province":
            raise field_error("/body/province_code", "Must be a province code (2 digits).")
    values = data.model_dump(mode="json")
    values["signed_on"] = data.signed_on
    values["mentor_hub_id"] = data.mentor_hub_id
    await hubs.ensure_hub(session, data.mentor_hub_id, "/body/mentor_hub_id")
    values["id"] = record_id or uuid.uuid4()
    program = await repository.insert_program(session, values)
    await record_event(
        session,
        principal,
        "program.created",
        "replication_program",
        program.id,
        values,
        program.province_code,
    )
    return ProgramRead.model_validate(program)


async def _region_level(session: AsyncSession, code: str) -> str | None:
    from app.regions import repository as regions

    region = await regions.get_region(session, code)
    return region.level if region else None


async def get_program(session: AsyncSession, program_id: uuid.UUID) -> ProgramRead:
    return ProgramRead.model_validate(await _program(session, program_id))


async def update_program(
    session: AsyncSession,
    principal: Principal,
    program_id: uuid.UUID,
    version: int,
    data: ProgramUpdate,
) -> ProgramRead:
    program = await _program(session, program_id)
    principal.ensure_province(program.province_code, "programme")
    sent = data.model_dump(exclude_unset=True, mode="json")
    if "signed_on" in sent:
        sent["signed_on"] = data.signed_on
    if "mentor_hub_id" in sent:
        sent["mentor_hub_id"] = data.mentor_hub_id
        await hubs.ensure_hub(session, data.mentor_hub_id, "/body/mentor_hub_id")
    ensure_version(program.version, version)
    changes = changed_fields(program, sent)
    if changes:
        program = await repository.update_program(session, program, version, changes)
        await record_event(
            session,
            principal,
            "program.updated",
            "replication_program",
            program.id,
            changes,
            program.province_code,
        )
    return ProgramRead.model_validate(program)


async def list_programs(
    session: AsyncSession,
    *,
    province: str | None,
    fiscal_year: int | None,
    status: str | None,
    cursor: str | None,
    limit: int,
    include_total: bool,
) -> Page[ProgramRead]:
    where = repository.program_filters(province, fiscal_year, status)
    after = decode_cursor(cursor, PROGRAM_SORT, 2) if cursor else None
    rows = await repository.list_programs(session, where, after, limit + 1)
    items = [ProgramRead.model_validate(r) for r in rows[:limit]]
    cursor_after = next_cursor(rows, limit, PROGRAM_SORT, lambda r: [r.fiscal_year, r.id])
    total = await repository.count_programs(session, where) if include_total else None
    return Page[ProgramRead](items=items, next_cursor=cursor_after, total=total)


async def program_matrix(session: AsyncSession, program_id: uuid.UUID) -> ProgramMatrix:
    """Innovation × adopter with status and progress: two statements."""
    program = await _program(session, program_id)
    rows = await repository.matrix_rows(session, program_id)
    innovations_seen: dict[uuid.UUID, Ref] = {}
    adopters_seen: dict[uuid.UUID, MatrixAdopter] = {}
    cells = []
    for r in rows:
        innovations_seen.setdefault(
            r.innovation_id, Ref(id=r.innovation_id, name=r.innovation_title)
        )
        adopters_seen.setdefault(
            r.adopter_institution_id,
            MatrixAdopter(
                id=r.adopter_institution_id, name=r.adopter_name, region_code=r.adopter_region_code
            ),
        )
        cells.append(
            MatrixCell(
                innovation_id=r.innovation_id,
                adopter_institution_id=r.adopter_institution_id,
                commitment_id=r.id,
                status=r.status,
                progress=float(r.progress),
            )
        )
    return ProgramMatrix(
        program=ProgramRead.model_validate(program),
        innovations=list(innovations_seen.values()),
        adopters=sorted(adopters_seen.values(), key=lambda a: (a.name, str(a.id))),
        cells=cells,
    )


# --- Commitments ------------------------------------------------------------------------


def to_commitment(row: Any) -> CommitmentRead:
    c: Commitment = row.Commitment
    return CommitmentRead(
        id=c.id,
        program_id=c.program_id,
        innovation_id=c.innovation_id,
        innovation_title=row.innovation_title,
        adopter_institution_id=c.adopter_institution_id,
        adopter_name=row.adopter_name,
        adopter_region_code=c.adopter_region_code,
        adopter_province_code=c.adopter_province_code,
        origin_province_code=c.origin_province_code,
        signed_on=c.signed_on,
        target_launch_on=c.target_launch_on,
        planned_modifications=c.planned_modifications,
        budget_idr=c.budget_idr,
        mentors=c.mentors,
        status=C(c.status),
        status_reason=c.status_reason,
        progress=float(c.progress),
        last_report_at=c.last_report_at,
        overdue=bool(row.overdue),
        stale=bool(row.stale),
        created_at=c.created_at,
        updated_at=c.updated_at,
        version=c.version,
    )


async def _commitment(session: AsyncSession, commitment_id: uuid.UUID) -> Commitment:
    commitment = await repository.lock_commitment(session, commitment_id)
    if commitment is None:
        raise NotFound(f"Commitment {commitment_id} does not exist.")
    return commitment


async def create_commitment(
    session: AsyncSession,
    principal: Principal,
    data: CommitmentCreate,
    *,
    record_id: uuid.UUID | None = None,
) -> CommitmentRead:
    """Every rule of a commitment: published source, not the adopter's own, adopter inside
    the programme's province, unique per (programme, innovation, adopter).
    `record_id`: the new record's id when the caller chooses it, else a random one."""
    program = await repository.get_program(session, data.program_id)
    if program is None:
        raise field_error("/body/program_id", f"Programme {data.program_id} does not exist.")
    innovation = await innovations.get(session, data.innovation_id)
    if innovation is None:
        raise field_error("/body/innovation_id", f"Innovation {data.innovation_id} does not exist.")
    adopter = await institutions.get(session, data.adopter_institution_id)
    if adopter is None:
        raise field_error(
            "/body/adopter_institution_id",
            f"Institution {data.adopter_institution_id} does not exist.",
        )
    principal.ensure_province(adopter.province_code, "adopter")
    principal.ensure_province(program.province_code or adopter.province_code, "programme")
    if program.status == "closed":
        raise Conflict("The programme is closed.", code="program_closed")
    if innovation.status != "published":
        raise field_error("/body/innovation_id", "Only published innovations can be replicated.")
    if adopter.id == innovation.institution_id or (
        adopter.region_code is not None and adopter.region_code == innovation.region_code
    ):
        raise field_error(
            "/body/adopter_institution_id",
            "An adopter replicates innovations of other regions, not its own.",
        )
    if program.province_code is not None and adopter.province_code != program.province_code:
        raise field_error(
            "/body/adopter_institution_id",
            f"The adopter must be inside the programme's province {program.province_code}.",
        )
    if data.target_launch_on is not None and data.target_launch_on < data.signed_on:
        raise field_error("/body/target_launch_on", "The target launch is before the signing.")
    values = data.model_dump(mode="json")
    values.update(
        id=record_id or uuid.uuid4(),
        program_id=data.program_id,
        innovation_id=data.innovation_id,
        adopter_institution_id=data.adopter_institution_id,
        signed_on=data.signed_on,
        target_launch_on=data.target_launch_on,
        adopter_region_code=adopter.region_code,
        adopter_province_code=adopter.province_code,
        origin_province_code=innovation.province_code,
    )
    commitment = await repository.insert_commitment(session, values)
    await repository.add_replications(session, innovation.id, 1)
    await record_event(
        session,
        principal,
        "commitment.created",
        "commitment",
        commitment.id,
        values,
        adopter.province_code,
    )
    return await get_commitment_read(session, commitment.id)


async def get_commitment_read(session: AsyncSession, commitment_id: uuid.UUID) -> CommitmentRead:
    row = await repository.get_commitment_row(session, commitment_id)
    if row is None:
        raise NotFound(f"Commitment {commitment_id} does not exist.")
    return to_commitment(row)


async def get_commitment(session: AsyncSession, commitment_id: uuid.UUID) -> CommitmentDetail:
    """A commitment with its action plan and latest report."""
    read = await get_commitment_read(session, commitment_id)
    items = await repository.items_of(session, commitment_id)
    latest = await repository.latest_report(session, commitment_id)
    return CommitmentDetail(
        **read.model_dump(),
        action_items=[ActionItemRead.model_validate(i) for i in items],
        latest_report=ProgressReportRead.model_validate(latest) if latest else None,
    )


async def update_commitment(
    session: AsyncSession,
    principal: Principal,
    commitment_id: uuid.UUID,
    version: int,
    data: CommitmentUpdate,
) -> CommitmentRead:
    commitment = await _commitment(session, commitment_id)
    principal.ensure_province(commitment.adopter_province_code, "commitment")
    sent = data.model_dump(exclude_unset=True)
    signed = sent.get("signed_on", commitment.signed_on)
    target = sent.get("target_launch_on", commitment.target_launch_on)
    if target is not None and target < signed:
        raise field_error("/body/target_launch_on", "The target launch is before the signing.")
    ensure_version(commitment.version, version)
    changes = changed_fields(commitment, sent)
    if changes:
        await repository.update_commitment(session, commitment, version, changes)
        await record_event(
            session,
            principal,
            "commitment.updated",
            "commitment",
            commitment_id,
            changes,
            commitment.adopter_province_code,
        )
    return await get_commitment_read(session, commitment_id)


async def transition(
    session: AsyncSession,
    principal: Principal | None,
    commitment_id: uuid.UUID,
    data: TransitionRequest,
    version: int | None,
) -> CommitmentRead:
    """Move a commitment along its status machine; anything else is 409 naming the allowed."""
    commitment = await _commitment(session, commitment_id)
    if principal is not None:
        principal.ensure_province(commitment.adopter_province_code, "commitment")
    if version is not None:
        ensure_version(commitment.version, version)
    await apply_transition(session, principal, commitment, data.to, data.reason)
    return await get_commitment_read(session, commitment_id)


async def apply_transition(
    session: AsyncSession,
    principal: Principal | None,
    commitment: Commitment,
    to: CommitmentStatus,
    reason: str | None,
) -> None:
    """Move one commitment (also used by sustainability verdicts): `apply_transitions`."""
    await apply_transitions(session, principal, [commitment], to, reason)


async def apply_transitions(
    session: AsyncSession,
    principal: Principal | None,
    commitments: Sequence[Commitment],
    to: CommitmentStatus,
    reason: str | None,
) -> None:
    """The one place a commitment changes status, for one or many locked commitments at once
    (a batch of progress reports moves every commitment it starts): each move must be allowed
    by `TRANSITIONS`; each writes its event."""
    for commitment in commitments:
        ensure_transition(TRANSITIONS, C(commitment.status), to, "A commitment")
    if to == C.cancelled and not (reason and reason.strip()):
        raise field_error("/body/reason", "Cancelling a commitment needs a reason.")
    before = {c.id: c.status for c in commitments}
    updated = await repository.set_status(session, commitments, to.value, reason)
    if to == C.cancelled:
        for commitment in updated:
            await repository.add_replications(session, commitment.innovation_id, -1)
    await record_events(
        session,
        principal,
        "commitment.transitioned",
        "commitment",
        [
            (
                c.id,
                {"from": before[c.id], "to": to.value, "reason": reason},
                c.adopter_province_code,
            )
            for c in updated
        ],
    )


async def list_commitments(
    session: AsyncSession,
    filters: CommitmentFilters,
    *,
    sort: str,
    cursor: str | None,
    limit: int,
    include_total: bool,
) -> Page[CommitmentRead]:
    keys = repository.COMMITMENT_SORTS[sort]
    where = repository.commitment_filters(filters)
    after = decode_cursor(cursor, sort, len(keys)) if cursor else None
    if repository.overdue_walk_applies(filters, sort):
        rows = await repository.list_overdue_commitments(session, filters.status, after, limit + 1)
    else:
        rows = await repository.list_commitments(session, where, keys, after, limit + 1)
    items = [to_commitment(r) for r in rows[:limit]]
    cursor_after = next_cursor(
        rows, limit, sort, lambda r: [getattr(r.Commitment, sort.lstrip("-")), r.Commitment.id]
    )
    if not include_total:
        return Page[CommitmentRead](items=items, next_cursor=cursor_after)
    total = await repository.count_commitments(session, where)
    return Page[CommitmentRead](
        items=items,
        next_cursor=cursor_after,
        total=total.value,
        total_is_estimate=total.estimate,
    )


# --- Action items -----------------------------------------------------------------------


async def add_item(
    session: AsyncSession,
    principal: Principal,
    commitment_id: uuid.UUID,
    data: ActionItemCreate,
    *,
    record_id: uuid.UUID | None = None,
) -> ActionItemRead:
    commitment = await _commitment(session, commitment_id)
    principal.ensure_province(commitment.adopter_province_code, "commitment")
    values = data.model_dump(mode="json")
    values.update(id=record_id or uuid.uuid4(), commitment_id=commitment_id, due_on=data.due_on)
    if data.status.value == "done":
        values["completed_on"] = today()
    item = await repository.insert_item(session, values)
    await repository.recompute_progress(session, [commitment_id])
    await record_event(
        session,
        principal,
        "action_item.created",
        "action_item",
        item.id,
        values,
        commitment.adopter_province_code,
    )
    return ActionItemRead.model_validate(item)


async def list_items(session: AsyncSession, commitment_id: uuid.UUID) -> list[ActionItemRead]:
    await get_commitment_read(session, commitment_id)
    return [
        ActionItemRead.model_validate(i) for i in await repository.items_of(session, commitment_id)
    ]


async def update_item(
    session: AsyncSession,
    principal: Principal,
    commitment_id: uuid.UUID,
    item_id: uuid.UUID,
    version: int,
    data: ActionItemUpdate,
) -> ActionItemRead:
    commitment = await _commitment(session, commitment_id)
    principal.ensure_province(commitment.adopter_province_code, "commitment")
    item: ActionItem | None = await repository.get_item(session, item_id)
    if item is None or item.commitment_id != commitment_id:
        raise NotFound(f"Action item {item_id} does not exist in this commitment.")
    sent = data.model_dump(exclude_unset=True, mode="json")
    for name in ("due_on", "completed_on"):
        if name in sent:
            sent[name] = getattr(data, name)
    if sent.get("status") == "done" and item.completed_on is None and "completed_on" not in sent:
        sent["completed_on"] = today()
    # A reopened item is not completed (as when a progress report reopens it).
    if sent.get("status") not in (None, "done") and "completed_on" not in sent:
        sent["completed_on"] = None
    ensure_version(item.version, version)
    changes = changed_fields(item, sent)
    if changes:
        item = await repository.update_item(session, item, version, changes)
        await repository.recompute_progress(session, [commitment_id])
        await record_event(
            session,
            principal,
            "action_item.updated",
            "action_item",
            item_id,
            changes,
            commitment.adopter_province_code,
        )
    return ActionItemRead.model_validate(item)


# --- Progress reports -------------------------------------------------------------------

_reports_adapter: TypeAdapter[list[BatchReport]] = TypeAdapter(list[BatchReport])
_report_serializer = BatchReport.__pydantic_serializer__
_json: TypeAdapter[Any] = TypeAdapter(Any)


@dataclass(slots=True)
class BatchOutcome:
    """A batch's results, each already serialised (JSON bytes in the shape of
    `BatchItemResult`): 500 stored reports are written out once, by pydantic's serialiser,
    instead of being turned into dicts or models and serialised again."""

    accepted: int
    results: list[bytes]

    def to_json(self) -> bytes:
        """The response body, in the shape of `BatchResponse`."""
        rejected = len(self.results) - self.accepted
        head = b'{"accepted":%d,"rejected":%d,"results":[' % (self.accepted, rejected)
        return head + b",".join(self.results) + b"]}"


def _problem(exc: ProblemError, instance: str, pointer_prefix: str = "") -> Problem:
    errors = exc.errors
    if errors and pointer_prefix:
        errors = [
            FieldError(pointer=pointer_prefix + e.pointer.removeprefix("/body"), detail=e.detail)
            for e in errors
        ]
    return Problem.model_construct(
        type="https://inovasi.go.id/problems/" + exc.code,
        title=exc.title,
        status=exc.status,
        detail=exc.detail,
        instance=instance,
        code=exc.code,
        errors=errors,
        allowed=exc.allowed,
        request_id=None,
    )


def _rejected(index: int, exc: ProblemError, instance: str, pointer_prefix: str = "") -> bytes:
    problem = _problem(exc, instance, pointer_prefix)
    return _json.dump_json(
        {"index": index, "status": exc.status, "report": None, "problem": problem}
    )


def _stored(index: int, report_id: uuid.UUID, report: bytes, created_at: bytes) -> bytes:
    """A stored report's result: `report` is the report's JSON object, to which the stored
    id and creation time are added."""
    return b'{"index":%d,"status":201,"report":{"id":"%s",%s,"created_at":%s},"problem":null}' % (
        index,
        str(report_id).encode(),
        report[1:-1],
        created_at,
    )


def _validate(raw: Sequence[Any]) -> tuple[dict[int, BatchReport], dict[int, list[Any]]]:
    """Validate every report in one call; on errors, once more without the bad ones."""
    try:
        return dict(enumerate(_reports_adapter.validator.validate_python(raw))), {}
    except ValidationError as exc:
        bad: dict[int, list[Any]] = {}
        for err in exc.errors():
            index = int(err["loc"][0])
            bad.setdefault(index, []).append({**err, "loc": ("body", "reports", *err["loc"])})
    good = [i for i in range(len(raw)) if i not in bad]
    return dict(
        zip(good, _reports_adapter.validate_python([raw[i] for i in good]), strict=True)
    ), bad


def _refusal(
    principal: Principal, report: BatchReport, reason: str, signed_on: date | None
) -> ProblemError:
    """The problem of a report the database refused (see `repository.IngestOutcome`)."""
    if reason == "not_found":
        return NotFound(f"Commitment {report.commitment_id} does not exist.")
    if reason == "other_province":
        return Forbidden(
            f"This key is limited to province {principal.province_code}; "
            "the commitment is not in it.",
            code="other_province",
        )
    if reason == "commitment_cancelled":
        return Conflict(
            "The commitment is cancelled; it takes no more reports.", code="commitment_cancelled"
        )
    if reason == "before_signing":
        return field_error(
            "/body/as_of", f"as_of is before the commitment was signed ({signed_on})."
        )
    n = reason.removeprefix("foreign_item:")
    return field_error(
        f"/body/item_updates/{n}/item_id", "This item is not in the commitment's action plan."
    )


async def ingest_reports(
    session: AsyncSession,
    principal: Principal,
    raw_reports: Sequence[Any],
    instance: str,
) -> BatchOutcome:
    """Validate each report on its own, then let the database store the storable ones.

    It locks the commitments, then checks, per report, that the commitment exists,
    is in the key's province, is not cancelled, was signed on or before `as_of`, and owns
    every item the report updates; the reports that pass are stored with their item
    updates, commitment changes and events. The result lists one outcome per report, in order.
    """
    results: list[bytes] = [b""] * len(raw_reports)
    parsed, invalid = _validate(raw_reports)
    for index, errors in invalid.items():
        problem = Unprocessable(
            "The report is not valid: see `errors`.", errors=validation_errors(errors)
        )
        results[index] = _rejected(index, problem, instance)
    accepted = 0
    if parsed:
        to_json = _report_serializer.to_json
        docs = [to_json(r) for r in parsed.values()]
        outcome = await repository.ingest_reports(
            session,
            (b"[" + b",".join(docs) + b"]").decode(),
            [r.commitment_id for r in parsed.values()],
            principal,
        )
        if outcome.first_reported:
            started = await repository.get_commitments(session, outcome.first_reported)
            await apply_transitions(session, principal, started, C.in_progress, FIRST_REPORT)
        created_at = _json.dump_json(outcome.created_at)
        for n, (index, doc, report_id) in enumerate(zip(parsed, docs, outcome.ids, strict=True)):
            if report_id is not None:
                results[index] = _stored(index, report_id, doc, created_at)
                accepted += 1
            else:
                reason, signed_on = outcome.problems[n], outcome.signed_on[n]
                assert reason is not None  # noqa: S101 - a refused report has a reason
                exc = _refusal(principal, parsed[index], reason, signed_on)
                results[index] = _rejected(index, exc, instance, f"/body/reports/{index}")
    return BatchOutcome(accepted, results)


async def post_report(
    session: AsyncSession,
    principal: Principal,
    commitment_id: uuid.UUID,
    data: ProgressReportCreate,
    instance: str,
) -> ProgressReportRead:
    """One report: the batch path with one entry; its problem, if any, is raised."""
    raw = {**data.model_dump(mode="json"), "commitment_id": str(commitment_id)}
    outcome = await ingest_reports(session, principal, [raw], instance)
    result = json.loads(outcome.results[0])
    if result["report"] is not None:
        return ProgressReportRead.model_validate(result["report"])
    problem = result["problem"]
    error = ProblemError(problem["detail"], code=problem["code"], allowed=problem["allowed"])
    error.status, error.title = problem["status"], problem["title"]
    if problem["errors"]:
        error.errors = [
            FieldError(
                pointer="/body" + e["pointer"].removeprefix("/body/reports/0"), detail=e["detail"]
            )
            for e in problem["errors"]
        ]
    raise error


async def list_reports(
    session: AsyncSession, commitment_id: uuid.UUID, cursor: str | None, limit: int
) -> Page[ProgressReportRead]:
    await get_commitment_read(session, commitment_id)
    after = decode_cursor(cursor, "-created_at", 2) if cursor else None
    rows = await repository.list_reports(session, commitment_id, after, limit + 1)
    items = [ProgressReportRead.model_validate(r) for r in rows[:limit]]
    return Page[ProgressReportRead](
        items=items,
        next_cursor=next_cursor(rows, limit, "-created_at", lambda r: [r.created_at, r.id]),
    )
