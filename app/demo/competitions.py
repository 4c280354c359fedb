"""Demo competitions: an illustrative KIPP 2019 edition and the Jawa Tengah provincial
competition of the same year, whose winner is nominated to it.

Both go through the services the API calls, step by step: drafted and submitted entries,
screening (two proposals screened out), evaluators' assignments and scores (one pair of
scores diverging, so a third evaluator scores), field verification (one entry not
verified), stage closing, an objection upheld (the next in rank moves up) and the
determination that creates the awards. Scores, tiers and sizes are illustrative, not the
real 2019 results (SPEC section 7): the descriptions say so. The submission window and the
objection window run around the day of seeding (the services check them against today);
once a competition is determined its dates are set to 2019's.

Idempotent: each competition has a stable id, and one found in place is left as it is.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import date, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.competitions import repository, service
from app.competitions.schemas import (
    Answers,
    Assignment,
    AssignmentsRequest,
    CompetitionCreate,
    CompetitionStatus,
    DeterminationRequest,
    EntryCreate,
    FieldVerificationRequest,
    Group,
    NominationRequest,
    ObjectionCreate,
    ObjectionOutcome,
    ObjectionResolution,
    ScoreCreate,
    ScreeningReason,
    ScreeningRequest,
    ScreeningResult,
    TierSpec,
    TransitionRequest,
)
from app.core.schemas import today
from app.core.security import Principal, Role
from app.demo import data

KIPP_ID = data.demo_id("competition", "kipp_2019")
JATENG_ID = data.demo_id("competition", "jateng_2019")
EVALUATORS = [
    Principal(
        id=data.demo_id("principal", f"evaluator {n}"),
        name=f"Tim Evaluator {n} (demo)",
        role=Role.evaluator,
        province_code=None,
    )
    for n in ("A", "B", "C")
]
PROPOSAL = [
    "significance",
    "novelty",
    "transferability",
    "resources_sustainability",
    "stakeholder_involvement",
]
PRESENTATION = [*PROPOSAL, "presentation"]

# KIPP entries: innovation key → proposal scores of evaluators A and B (1–10), then the
# presentation scores at stages 1 and 2 (same for both evaluators).
KIPP_ENTRIES: dict[str, tuple[int, int]] = {
    "labinov": (9, 9),
    "akta_dd": (9, 3),  # diverges: evaluator C scores a third time
    "bakp": (8, 8),
    "pidj": (7, 8),
    "eopen": (7, 7),
    "mge": (6, 7),
    "sbcb": (6, 6),
    "pikobar": (8, 9),
    "klinik_bumdes": (5, 6),
    "kia": (8, 7),
    "pjj": (5, 5),  # screened out: incomplete
    "ekosistem_data": (5, 5),  # screened out: duplicate of another proposal
}
SCREENED_OUT = {
    "pjj": ScreeningReason.incomplete,
    "ekosistem_data": ScreeningReason.duplicate,
}
JATENG_ENTRIES = {"gkb": (9, 9), "sdida": (8, 8), "dkmo": (7, 8)}


# One competition held at each step of the flow, so that every operation can be tried on
# the demo data (Swagger UI's examples point at them): planned; open, with draft entries;
# screening, with submitted ones; evaluation, with entries scored; objection, with an
# objection open; and objection with the window over, ready for the determination.
STEPS = ("planned", "open", "screening", "evaluation", "objection", "objection_over")
STEP_ENTRIES = ("gkb", "labinov")


def step_id(step: str) -> uuid.UUID:
    return data.demo_id("competition", "step", step)


def entry_id(competition: str, innovation: str) -> uuid.UUID:
    return data.demo_id("competition_entry", competition, innovation)


async def load(session: AsyncSession, principal: Principal, created: Counter[str]) -> None:
    """Both competitions, unless the KIPP edition is in place already."""
    if await repository.get_competition(session, KIPP_ID) is not None:
        return
    for evaluator in EVALUATORS:
        await repository.ensure_evaluator_key(session, evaluator.id, evaluator.name)
    now = today()
    window = {
        "submission_opens_on": now - timedelta(days=30),
        "submission_closes_on": now + timedelta(days=1),
    }
    await service.create_competition(
        session,
        principal,
        CompetitionCreate(
            name="KIPP 2019 (ilustratif)",
            year=2019,
            description=f"{data.DEMO_MARK} Kompetisi Inovasi Pelayanan Publik, a handful of "
            "entries through every stage; tier sizes are scaled down.",
            groups=[Group.general, Group.replication],
            tiers=[
                TierSpec(tier="top_99", size=6, rubric="kipp_proposal"),
                TierSpec(
                    tier="top_45", size=3, rubric="kipp_presentation", field_verification=True
                ),
                TierSpec(
                    tier="outstanding",
                    size=1,
                    rubric="kipp_presentation",
                    field_verification=True,
                ),
            ],
            **window,
        ),
        record_id=KIPP_ID,
    )
    await _move(session, principal, KIPP_ID, CompetitionStatus.open)
    # The provincial competition runs first; its winner is nominated to the open KIPP.
    await service.create_competition(
        session,
        principal,
        CompetitionCreate(
            name="Kompetisi Inovasi Pelayanan Publik Jawa Tengah 2019 (ilustratif)",
            organizer_province_code="33",
            year=2019,
            description=f"{data.DEMO_MARK} The province's yearly competition; its winner "
            "goes to the national KIPP.",
            groups=[Group.general],
            tiers=[
                TierSpec(tier="finalist", size=2, rubric="kipp_proposal"),
                TierSpec(tier="winner", size=1, rubric="kipp_presentation"),
            ],
            **window,
        ),
        record_id=JATENG_ID,
    )
    await _move(session, principal, JATENG_ID, CompetitionStatus.open)
    await _run(session, principal, JATENG_ID, "jateng", JATENG_ENTRIES, {}, created)
    await _determine(session, principal, JATENG_ID, "DEMO/JATENG/2019", date(2019, 6, 20))
    finalists = await service.list_entries(
        session,
        principal,
        JATENG_ID,
        status="awarded",
        cursor=None,
        limit=50,
        include_total=False,
    )
    winners = [e.id for e in finalists.items if e.tier == "winner"]
    await service.nominate(
        session,
        principal,
        JATENG_ID,
        NominationRequest(target_competition_id=KIPP_ID, entry_ids=winners),
    )
    await _run(session, principal, KIPP_ID, "kipp", KIPP_ENTRIES, SCREENED_OUT, created)
    # An objection against the last of the top_99: upheld, the next in rank moves up.
    ranking = await service.ranking(session, principal, KIPP_ID, 0, cursor=None, limit=50)
    last = [r for r in ranking.items if r.advanced][-1]
    objection = await service.file_objection(
        session,
        principal,
        KIPP_ID,
        ObjectionCreate(
            entry_id=last.entry_id, grounds="Layanan tidak lagi berjalan sejak 2018 (demo)."
        ),
        record_id=data.demo_id("competition_objection", "kipp_2019", 1),
    )
    await service.resolve_objection(
        session,
        principal,
        objection.id,
        None,
        ObjectionResolution(
            outcome=ObjectionOutcome.upheld, note="Terbukti dari observasi (demo)."
        ),
    )
    created["competition_objections"] += 1
    await _determine(session, principal, KIPP_ID, "DEMO/KIPP/2019", date(2019, 7, 18))
    created["competitions"] += 2
    for step in STEPS:
        await _step(session, principal, step, created)


async def _move(
    session: AsyncSession, principal: Principal, cid: uuid.UUID, to: CompetitionStatus
) -> None:
    await service.transition(session, principal, cid, None, TransitionRequest(to=to))


def _criteria(value: int, stage: int) -> dict[str, int]:
    return dict.fromkeys(PROPOSAL if stage == 0 else PRESENTATION, value)


async def _run(
    session: AsyncSession,
    principal: Principal,
    cid: uuid.UUID,
    key: str,
    entries: dict[str, tuple[int, int]],
    screened_out: dict[str, ScreeningReason],
    created: Counter[str],
) -> None:
    """Submit, screen, and score and close every stage."""
    for innovation in entries:
        eid = entry_id(key, innovation)
        await service.create_entry(
            session,
            principal,
            cid,
            EntryCreate(
                innovation_id=data.innovation_id(innovation),
                group=Group.general,
                answers=Answers(
                    significance=f"{data.DEMO_MARK} Dampak bagi masyarakat.",
                    novelty=f"{data.DEMO_MARK} Pendekatan baru di daerahnya.",
                ),
            ),
            record_id=eid,
        )
        await service.submit_entry(session, principal, eid, None)
        created["competition_entries"] += 1
    await _move(session, principal, cid, CompetitionStatus.screening)
    page = await service.list_entries(
        session, principal, cid, status="submitted", cursor=None, limit=200, include_total=False
    )
    keys = {e.id: k for k in entries for e in page.items if e.id == entry_id(key, k)}
    for entry in page.items:
        reason = screened_out.get(keys.get(entry.id, ""))
        body = (
            ScreeningRequest(result=ScreeningResult.failed, reasons=[reason], note="Demo.")
            if reason
            else ScreeningRequest(result=ScreeningResult.passed)
        )
        await service.screen_entry(session, principal, entry.id, None, body)
    await _move(session, principal, cid, CompetitionStatus.evaluation)
    competition = await service.get_competition(session, cid)
    a, b, c = EVALUATORS
    for stage, tier in enumerate(competition.tiers):
        pool = await service.list_entries(
            session,
            principal,
            cid,
            status="in_evaluation" if stage == 0 else "finalist",
            cursor=None,
            limit=200,
            include_total=False,
        )
        items = [e for e in pool.items if stage == 0 or e.tier == competition.tiers[stage - 1].tier]
        await service.assign(
            session,
            principal,
            cid,
            AssignmentsRequest(
                stage=stage,
                assignments=[
                    Assignment(entry_id=e.id, evaluator_key_id=ev.id)
                    for e in items
                    for ev in (a, b)
                ],
            ),
        )
        for e in items:
            first, second = _scores(keys.get(e.id), entries, stage)
            await _score(session, a, e.id, stage, first)
            await _score(session, b, e.id, stage, second)
            if abs(first - second) >= 3:  # the divergence: a third evaluator
                await service.assign(
                    session,
                    principal,
                    cid,
                    AssignmentsRequest(
                        stage=stage, assignments=[Assignment(entry_id=e.id, evaluator_key_id=c.id)]
                    ),
                )
                await _score(session, c, e.id, stage, (first + second) // 2)
            if tier.field_verification:
                await service.verify_in_field(
                    session,
                    principal,
                    e.id,
                    FieldVerificationRequest(
                        visited_on=today(),
                        team=["Tim Observasi Lapangan (demo)"],
                        findings="Layanan berjalan sesuai proposal (demo).",
                        # One entry of the KIPP top_99 is not verified: it cannot go on.
                        verified=keys.get(e.id) != "kia",
                    ),
                )
        await service.close_stage(session, principal, cid, stage)
    await _move(session, principal, cid, CompetitionStatus.objection)


def _scores(
    innovation: str | None, entries: dict[str, tuple[int, int]], stage: int
) -> tuple[int, int]:
    """Proposal scores from the table; later stages follow the proposal's mean, a point up
    for every other entry of the table (a nominated entry, not in it, scores 8)."""
    first, second = entries.get(innovation or "", (8, 8))
    if stage == 0:
        return first, second
    bonus = list(entries).index(innovation) % 2 if innovation in entries else 0
    mean = max(1, min(10, (first + second) // 2 + bonus))
    return mean, mean


async def _score(
    session: AsyncSession, evaluator: Principal, eid: uuid.UUID, stage: int, value: int
) -> None:
    await service.score_entry(
        session,
        evaluator,
        eid,
        ScoreCreate(stage=stage, criteria=_criteria(value, stage), comment="Demo."),
        record_id=data.demo_id("entry_score", eid, stage, evaluator.id),
    )


async def _determine(
    session: AsyncSession, principal: Principal, cid: uuid.UUID, decree: str, on: date
) -> None:
    """End the objection window, determine, and set the competition's dates to 2019's."""
    competition = await repository.lock_competition(session, cid)
    assert competition is not None  # noqa: S101 - created above
    await repository.update_competition(
        session,
        competition,
        competition.version,
        {"objection_closes_on": today() - timedelta(days=1)},
    )
    await service.determine(
        session, principal, cid, None, DeterminationRequest(decree_number=decree, determined_on=on)
    )
    competition = await repository.lock_competition(session, cid)
    assert competition is not None  # noqa: S101
    history: dict[str, Any] = {
        "submission_opens_on": date(2019, 1, 7),
        "submission_closes_on": date(2019, 2, 28),
        "objection_closes_on": on - timedelta(days=1),
    }
    await repository.update_competition(session, competition, competition.version, history)


async def _step(
    session: AsyncSession, principal: Principal, step: str, created: Counter[str]
) -> None:
    """A small national competition taken as far as `step`."""
    order = STEPS.index(step)
    now = today()
    cid = step_id(step)
    await service.create_competition(
        session,
        principal,
        CompetitionCreate(
            name=f"Kompetisi uji coba: tahap {step} (demo)",
            year=now.year,
            description=f"{data.DEMO_MARK} A competition held at one step of the flow, to "
            "try the API on.",
            groups=[Group.general],
            tiers=[TierSpec(tier="top_99", size=1, rubric="kipp_proposal")],
            submission_opens_on=now - timedelta(days=30),
            submission_closes_on=now + timedelta(days=365),
        ),
        record_id=cid,
    )
    created["competitions"] += 1
    if order < STEPS.index("open"):
        return
    await _move(session, principal, cid, CompetitionStatus.open)
    ids = [entry_id(f"step_{step}", key) for key in STEP_ENTRIES]
    for key, eid in zip(STEP_ENTRIES, ids, strict=True):
        await service.create_entry(
            session,
            principal,
            cid,
            EntryCreate(
                innovation_id=data.innovation_id(key),
                group=Group.general,
                answers=Answers(significance=f"{data.DEMO_MARK} Dampak bagi masyarakat."),
            ),
            record_id=eid,
        )
        created["competition_entries"] += 1
    if order < STEPS.index("screening"):
        return
    for eid in ids:
        await service.submit_entry(session, principal, eid, None)
    await _move(session, principal, cid, CompetitionStatus.screening)
    if order < STEPS.index("evaluation"):
        return
    for eid in ids:
        await service.screen_entry(
            session, principal, eid, None, ScreeningRequest(result=ScreeningResult.passed)
        )
    await _move(session, principal, cid, CompetitionStatus.evaluation)
    a, b, _ = EVALUATORS
    await service.assign(
        session,
        principal,
        cid,
        AssignmentsRequest(
            stage=0,
            assignments=[
                Assignment(entry_id=e, evaluator_key_id=k.id) for e in ids for k in (a, b)
            ],
        ),
    )
    for value, eid in zip((8, 6), ids, strict=True):
        await _score(session, a, eid, 0, value)
        await _score(session, b, eid, 0, value)
    if order < STEPS.index("objection"):
        return
    await service.close_stage(session, principal, cid, 0)
    await _move(session, principal, cid, CompetitionStatus.objection)
    if step == "objection":
        await service.file_objection(
            session,
            principal,
            cid,
            ObjectionCreate(entry_id=ids[0], grounds="Data dampak belum terverifikasi (demo)."),
            record_id=data.demo_id("competition_objection", "step", step),
        )
        created["competition_objections"] += 1
        return
    competition = await repository.lock_competition(session, cid)
    assert competition is not None  # noqa: S101 - created above
    await repository.update_competition(
        session,
        competition,
        competition.version,
        {"objection_closes_on": now - timedelta(days=1)},
    )
