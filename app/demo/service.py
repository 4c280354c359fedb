"""Loading the demo data set through the same services the API uses.

Every record goes through the service that the matching API route calls, as a system
principal named "seed demo" (an admin): each one passes the rules a client's request would
(published sources, no adopter replicating its own region, the status machine, report
dates…) and writes its event, with that principal as the actor. Scaling decisions are taken
by a second system principal, "seed demo reviewer" (role reviewer), since only reviewers
decide.

Idempotent: records have stable ids (`data.demo_id`), and the seed creates only what is
missing, all in the caller's one transaction. A commitment found in place is left as it is
(its plan, reports and status are not replayed), so running the seed twice changes nothing,
and neither does running it after people have worked on the demo records.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import date, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import NotFound
from app.core.security import Principal, Role
from app.demo import competitions, data, institutionalisation, repository, webhooks
from app.demo.data import CommitmentSpec, ProgramSpec, ScaleUpSpec
from app.innovations import repository as innovations_repository
from app.innovations import service as innovations
from app.innovations.schemas import AwardCreate, InnovationCreate
from app.institutions import service as institutions
from app.institutions.schemas import InstitutionCreate
from app.models.innovation import Award, Innovation
from app.models.institution import Institution
from app.models.replication import Commitment, ReplicationProgram
from app.models.scaling import ScalingProposal
from app.replication import service as replication
from app.replication.schemas import (
    ActionItemCreate,
    CommitmentCreate,
    CommitmentStatus,
    ItemUpdate,
    ProgramCreate,
    ProgressReportCreate,
    TransitionRequest,
)
from app.scaling import service as scaling
from app.scaling.schemas import (
    DecisionRequest,
    Outcome,
    ProposalCreate,
    ReviewRequest,
    TargetScale,
)
from app.sustainability import service as sustainability
from app.sustainability.schemas import AssessmentCreate

SEED_PRINCIPAL = Principal(
    id=data.demo_id("principal", "seed demo"),
    name="seed demo",
    role=Role.admin,
    province_code=None,
)
SEED_REVIEWER = Principal(
    id=data.demo_id("principal", "seed demo reviewer"),
    name="seed demo reviewer",
    role=Role.reviewer,
    province_code=None,
)
# Where a problem raised while seeding says it happened.
INSTANCE = "inovasi seed demo"
_NAMES = {i.key: i.name for i in data.INSTITUTIONS}


async def load_demo(session: AsyncSession) -> Counter[str]:
    """Load what is missing of the demo data set; returns how many records of each kind
    were created (all zeros when it was loaded already). Needs the regions loaded."""
    created: Counter[str] = Counter()
    principal = SEED_PRINCIPAL
    for seed_principal in (SEED_PRINCIPAL, SEED_REVIEWER):
        await repository.ensure_principal(
            session, seed_principal.id, seed_principal.name, seed_principal.role
        )
    institution_ids = await _institutions(session, principal, created)
    await _innovations(session, principal, institution_ids, created)
    await _awards(session, principal, created)
    for program in data.PROGRAMS:
        await _program(session, principal, program, institution_ids, created)
    await _assessments(session, principal, created)
    # Last: a proposal's evidence snapshot shows the replicas, awards and verdicts above.
    for spec in data.SCALE_UPS:
        proposal_id = data.proposal_id(spec.innovation, spec.target_scale)
        if not await repository.existing_ids(session, ScalingProposal, [proposal_id]):
            if await scale_up(session, spec, proposal_id):
                created["scaling_proposals"] += 1
    await institutionalisation.load(session, principal, created)
    await competitions.load(session, principal, created)
    await webhooks.load(session, principal, created)
    return created


async def _institutions(
    session: AsyncSession, principal: Principal, created: Counter[str]
) -> dict[str, uuid.UUID]:
    """Governments first, then their OPDs. A demo institution found by its id (even renamed
    since) is kept; another one registered under the same name and region is reused."""
    seeded = await repository.existing_ids(
        session, Institution, [data.institution_id(i.key) for i in data.INSTITUTIONS]
    )
    found = await repository.institutions_by_name(
        session, [(i.name, i.region_code) for i in data.INSTITUTIONS]
    )
    ids: dict[str, uuid.UUID] = {}
    for spec in sorted(data.INSTITUTIONS, key=lambda i: i.parent is not None):
        record_id = data.institution_id(spec.key)
        existing = record_id if record_id in seeded else found.get((spec.name, spec.region_code))
        if existing is not None:
            ids[spec.key] = existing
            continue
        body = InstitutionCreate(
            name=spec.name,
            kind=spec.kind,
            region_code=spec.region_code,
            parent_id=ids[spec.parent] if spec.parent else None,
        )
        record = await institutions.create_institution(
            session, principal, body, record_id=record_id
        )
        ids[spec.key] = record.id
        created["institutions"] += 1
    return ids


async def _innovations(
    session: AsyncSession,
    principal: Principal,
    institution_ids: dict[str, uuid.UUID],
    created: Counter[str],
) -> None:
    existing = await repository.existing_ids(
        session, Innovation, [data.innovation_id(i.key) for i in data.INNOVATIONS]
    )
    for spec in data.INNOVATIONS:
        record_id = data.innovation_id(spec.key)
        if record_id in existing:
            continue
        body = InnovationCreate(
            title=spec.title,
            summary=spec.summary,
            sector=spec.sector,
            form=spec.form,
            initiator=spec.initiator,
            stage="implementation",
            launched_on=spec.launched_on,
            digital=spec.digital,
            institution_id=institution_ids[spec.owner],
            status="published",
            tags=[data.DEMO_TAG, *spec.tags],
        )
        await innovations.create_innovation(session, principal, body, record_id=record_id)
        created["innovations"] += 1


async def scale_up(session: AsyncSession, spec: ScaleUpSpec, proposal_id: uuid.UUID) -> bool:
    """Propose an innovation for scaling up (glokalisasi) through the scaling workflow and
    take the proposal as far as `spec` says: the seed proposes it (with the evidence snapshot
    the service takes); with review notes its reviewer starts the review; with decision notes
    the reviewer approves, and the approval sets the innovation's scale. Each step writes its
    own event.

    Kartu Insentif Anak became the national Kartu Identitas Anak by Permendagri 2/2016.
    Returns False, doing nothing, when the innovation is already at the target scale or
    someone else's proposal for the same target is open (the service would refuse a second).
    """
    innovation_id = data.innovation_id(spec.innovation)
    innovation = await innovations_repository.get(session, innovation_id)
    if innovation is None:
        raise NotFound(f"Innovation {innovation_id} does not exist.")
    if scaling.SCALE_RANK[innovation.scale] >= scaling.SCALE_RANK[spec.target_scale]:
        return False
    if await repository.open_proposal_exists(
        session, innovation_id, spec.target_scale, spec.target_province_code
    ):
        return False
    proposal = await scaling.propose(
        session,
        SEED_PRINCIPAL,
        ProposalCreate(
            innovation_id=innovation_id,
            target_scale=TargetScale(spec.target_scale),
            target_province_code=spec.target_province_code,
            rationale=spec.rationale,
        ),
        record_id=proposal_id,
    )
    if spec.review_notes is None:
        return True
    proposal = await scaling.review(
        session,
        SEED_REVIEWER,
        proposal_id,
        proposal.version,
        ReviewRequest(notes=spec.review_notes),
    )
    if spec.decision_notes is None:
        return True
    await scaling.decide(
        session,
        SEED_REVIEWER,
        proposal_id,
        proposal.version,
        DecisionRequest(
            outcome=Outcome.approved, notes=spec.decision_notes, conditions=spec.conditions
        ),
    )
    return True


async def _awards(session: AsyncSession, principal: Principal, created: Counter[str]) -> None:
    keyed = {
        data.demo_id("award", a.innovation, a.competition, a.year, a.tier): a for a in data.AWARDS
    }
    existing = await repository.existing_ids(session, Award, keyed)
    for record_id, spec in keyed.items():
        if record_id in existing:
            continue
        body = AwardCreate(competition=spec.competition, year=spec.year, tier=spec.tier)
        await innovations.add_award(
            session, principal, data.innovation_id(spec.innovation), body, record_id=record_id
        )
        created["awards"] += 1


async def _program(
    session: AsyncSession,
    principal: Principal,
    spec: ProgramSpec,
    institution_ids: dict[str, uuid.UUID],
    created: Counter[str],
) -> None:
    program_id = data.program_id(spec.key)
    if not await repository.existing_ids(session, ReplicationProgram, [program_id]):
        body = ProgramCreate(
            name=spec.name,
            province_code=spec.province_code,
            fiscal_year=spec.fiscal_year,
            signed_on=spec.signed_on,
            coordinator=spec.coordinator,
            mentor_team=spec.mentor_team,
            description=spec.description,
            status="active",
        )
        await replication.create_program(session, principal, body, record_id=program_id)
        created["replication_programs"] += 1
    keyed = {data.commitment_id(spec.key, c.innovation, c.adopter): c for c in spec.commitments}
    existing = await repository.existing_ids(session, Commitment, keyed)
    for commitment_id, commitment in keyed.items():
        if commitment_id not in existing:
            await _commitment(
                session, principal, spec, commitment, commitment_id, institution_ids, created
            )


async def _commitment(
    session: AsyncSession,
    principal: Principal,
    program: ProgramSpec,
    spec: CommitmentSpec,
    commitment_id: uuid.UUID,
    institution_ids: dict[str, uuid.UUID],
    created: Counter[str],
) -> None:
    """A new commitment with its action plan, then its scenario: the progress reports, and
    the status changes that are made by hand."""
    signed_on = program.signed_on
    body = CommitmentCreate(
        program_id=data.program_id(program.key),
        innovation_id=data.innovation_id(spec.innovation),
        adopter_institution_id=institution_ids[spec.adopter],
        signed_on=signed_on,
        target_launch_on=spec.target_launch_on,
        planned_modifications=f"{data.DEMO_MARK} Disesuaikan dengan layanan dan data daerah.",
        budget_idr=150_000_000,
        mentors=program.mentor_team,
    )
    await replication.create_commitment(session, principal, body, record_id=commitment_id)
    created["commitments"] += 1
    item_ids: list[uuid.UUID] = []
    for number, (title, weight, due_days) in enumerate(data.ACTION_PLAN, start=1):
        item_id = data.demo_id("action_item", commitment_id, number)
        item = ActionItemCreate(
            title=title, weight=weight, due_on=_on(signed_on, due_days, spec.target_launch_on)
        )
        await replication.add_item(session, principal, commitment_id, item, record_id=item_id)
        item_ids.append(item_id)
        created["action_items"] += 1
    scenario = data.SCENARIOS[spec.scenario]
    for report in scenario.reports:
        as_of = _on(signed_on, report.days, spec.target_launch_on)
        if as_of is None:
            raise ValueError(f"{spec}: a report on the target launch date needs one.")
        body_report = ProgressReportCreate(
            as_of=as_of,
            percent_complete=report.percent,
            item_updates=[
                ItemUpdate(item_id=item_ids[number - 1], progress=progress, status=status)
                for number, progress, status in report.item_updates
            ],
            narrative=report.narrative,
            obstacles=report.obstacles,
            reported_by=_NAMES[spec.adopter],
        )
        await replication.post_report(session, principal, commitment_id, body_report, INSTANCE)
        created["progress_reports"] += 1
    for to, reason in scenario.transitions:
        move = TransitionRequest(to=CommitmentStatus(to), reason=reason)
        await replication.transition(session, principal, commitment_id, move, None)


async def _assessments(session: AsyncSession, principal: Principal, created: Counter[str]) -> None:
    """Post the demo's assessments through the sustainability service, which scores them
    (and moves a launched commitment with a sustained verdict to sustained). One whose
    subject already has an assessment of that period, the seed's or anyone's, is skipped."""
    requests = assessment_requests()
    assessed = await repository.assessed_periods(
        session, [_subject_of(body) for _, body in requests]
    )
    for record_id, body in requests:
        if (_subject_of(body), body["period"]) in assessed:
            continue
        assessment = AssessmentCreate.model_validate(body)
        await sustainability.create_assessment(session, principal, assessment, record_id=record_id)
        created["sustainability_assessments"] += 1


def _subject_of(body: dict[str, Any]) -> uuid.UUID:
    subject: uuid.UUID = body.get("innovation_id") or body["commitment_id"]
    return subject


def assessment_requests() -> list[tuple[uuid.UUID, dict[str, Any]]]:
    """The demo's sustainability assessments as (stable id, request body): the indicators
    only, with the subject's id (`innovation_id` or `commitment_id`); the server scores
    them with its rubric."""
    requests = []
    for spec in data.ASSESSMENTS:
        body = {k: v for k, v in spec.items() if k not in ("innovation", "commitment", "notes")}
        if "innovation" in spec:
            subject = ("innovation", spec["innovation"])
            body["innovation_id"] = data.innovation_id(spec["innovation"])
        else:
            subject = ("commitment", *spec["commitment"])
            body["commitment_id"] = data.commitment_id(*spec["commitment"])
        body["notes"] = " ".join([data.DEMO_MARK, *([spec["notes"]] if "notes" in spec else [])])
        requests.append((data.demo_id("assessment", *subject, spec["period"]), body))
    return requests


def _on(signed_on: date, days: int | None, target: date | None) -> date | None:
    """`days` after the signing; None stands for the target launch date."""
    return target if days is None else signed_on + timedelta(days=days)
