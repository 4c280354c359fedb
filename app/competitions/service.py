"""Competitions (kompetisi inovasi): the status machine, entries and the rules at submission,
screening, assignments and scores, field verification, closing a stage, objections, the
determination, nomination and statistics.

Confidentiality: before determination an entry's answers are read only by its submitter, the
organiser, admins and its assigned evaluators; scores and comments by the organiser, admins
and their author. Events never carry a score, a comment or an answer.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession

from app.competitions import repository
from app.competitions.schemas import (
    DEFAULT_GROUP_RULES,
    KIPP_TIERS,
    AssignmentsRequest,
    AssignmentsResult,
    CompetitionCreate,
    CompetitionRead,
    CompetitionStats,
    CompetitionStatus,
    CompetitionUpdate,
    Composition,
    Determination,
    DeterminationRequest,
    EntryCreate,
    EntryRead,
    EntryStatus,
    EntryUpdate,
    FieldVerificationRead,
    FieldVerificationRequest,
    GroupRuleRead,
    Nomination,
    NominationRequest,
    ObjectionCreate,
    ObjectionRead,
    ObjectionResolution,
    RankingRow,
    RubricCriterion,
    RubricRead,
    ScoreCreate,
    ScoreRead,
    Screening,
    ScreeningRequest,
    ScreeningResult,
    StageClosed,
    StageScore,
    TierComposition,
    TierRead,
    TransitionRequest,
)
from app.core.concurrency import ensure_version
from app.core.errors import Conflict, FieldError, Forbidden, NotFound, Unprocessable, field_error
from app.core.events import record_event, record_events
from app.core.pagination import decode_cursor, next_cursor
from app.core.schemas import Page, today
from app.core.security import Principal, Role, ensure_institution
from app.core.transitions import ensure_transition
from app.models.competition import Competition, CompetitionEntry, CompetitionRubric

S = CompetitionStatus
TRANSITIONS: dict[CompetitionStatus, frozenset[CompetitionStatus]] = {
    S.planned: frozenset({S.open}),
    S.open: frozenset({S.screening}),
    S.screening: frozenset({S.evaluation}),
    S.evaluation: frozenset({S.objection}),
    # objection → determined is the determination itself (POST …/determination).
    S.objection: frozenset(),
    S.determined: frozenset(),
}
ENTRY = "competition_entry"
COMPETITION = "competition"

# --- Competitions -------------------------------------------------------------------------


def to_read(c: Competition) -> CompetitionRead:
    return CompetitionRead(
        id=c.id,
        name=c.name,
        organizer=c.organizer_province_code or "national",
        organizer_province_code=c.organizer_province_code,
        year=c.year,
        description=c.description,
        groups=list(c.groups),
        categories=list(c.categories),
        submission_opens_on=c.submission_opens_on,
        submission_closes_on=c.submission_closes_on,
        group_rules={g: GroupRuleRead(**r) for g, r in c.group_rules.items()},
        tiers=[TierRead(**t) for t in c.tiers],
        objection_days=c.objection_days,
        objection_closes_on=c.objection_closes_on,
        stages_closed=c.stages_closed,
        status=S(c.status),
        decree_number=c.decree_number,
        determined_on=c.determined_on,
        created_at=c.created_at,
        updated_at=c.updated_at,
        version=c.version,
    )


def is_organiser(principal: Principal | None, c: Competition) -> bool:
    """Admins organise every competition; a coordinator its province's."""
    if principal is None:
        return False
    if principal.role == Role.admin:
        return True
    return (
        principal.role == Role.coordinator
        and c.organizer_province_code is not None
        and c.organizer_province_code == principal.province_code
    )


def ensure_organiser(principal: Principal, c: Competition) -> None:
    if not is_organiser(principal, c):
        if c.organizer_province_code is None:
            raise Forbidden("Only admins organise the national competition.", code="not_organiser")
        raise Forbidden(
            f"This key is limited to province {principal.province_code}; the competition is "
            f"organised by province {c.organizer_province_code}.",
            code="other_province",
        )


def ensure_not_determined(c: Competition) -> None:
    if c.status == S.determined:
        raise Conflict(
            "The competition is determined: it is read-only.", code="competition_determined"
        )


async def _get(session: AsyncSession, competition_id: uuid.UUID) -> Competition:
    c = await repository.get_competition(session, competition_id)
    if c is None:
        raise NotFound(f"Competition {competition_id} does not exist.")
    return c


async def _locked(session: AsyncSession, competition_id: uuid.UUID) -> Competition:
    c = await repository.lock_competition(session, competition_id)
    if c is None:
        raise NotFound(f"Competition {competition_id} does not exist.")
    return c


async def _tiers(session: AsyncSession, specs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The tiers with each stage's rubric pinned to its latest version."""
    codes = sorted({s["rubric"] for s in specs})
    found = await repository.latest_rubrics(session, codes)
    out = []
    for n, spec in enumerate(specs):
        rubric = found.get(spec["rubric"])
        if rubric is None:
            raise field_error(f"/body/tiers/{n}/rubric", f"No rubric {spec['rubric']!r}.")
        out.append(
            {
                "tier": spec["tier"],
                "size": spec["size"],
                "rubric": rubric.code,
                "rubric_id": str(rubric.id),
                "field_verification": bool(spec.get("field_verification", False)),
            }
        )
    return out


def _group_rules(
    groups: list[str], sent: dict[Any, Any] | None, base: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The rules of each group: `base` (else the defaults) with those sent over it."""
    rules = {g: dict((base or DEFAULT_GROUP_RULES)[g]) for g in groups}
    for group, rule in (sent or {}).items():
        key = str(group.value if hasattr(group, "value") else group)
        if key not in rules:
            raise field_error(f"/body/group_rules/{key}", "Not one of the competition's groups.")
        rules[key] = rule.model_dump()
    return rules


async def create_competition(
    session: AsyncSession,
    principal: Principal,
    data: CompetitionCreate,
    *,
    record_id: uuid.UUID | None = None,
) -> CompetitionRead:
    """A new competition, `planned`. Coordinators create their own province's only."""
    if data.submission_opens_on > data.submission_closes_on:
        raise field_error("/body/submission_closes_on", "The window closes before it opens.")
    if len(set(data.groups)) != len(data.groups):
        raise field_error("/body/groups", "A group is listed twice.")
    if data.tiers is not None and len({t.tier for t in data.tiers}) != len(data.tiers):
        raise field_error("/body/tiers", "A tier is listed twice.")
    if not data.tiers and data.tiers is not None:
        raise field_error("/body/tiers", "At least one tier (or none sent, for KIPP's).")
    province = data.organizer_province_code
    if principal.role == Role.coordinator and province != principal.province_code:
        raise Forbidden(
            f"This key organises competitions of province {principal.province_code} only.",
            code="other_province",
        )
    if province is not None and await repository.region_level(session, province) != "province":
        raise field_error("/body/organizer_province_code", f"{province} is not a province.")
    groups = [g.value for g in data.groups]
    tiers = [t.model_dump(mode="json") for t in data.tiers] if data.tiers else KIPP_TIERS
    values: dict[str, Any] = {
        "id": record_id or uuid.uuid4(),
        "name": data.name,
        "organizer_province_code": province,
        "year": data.year,
        "description": data.description,
        "groups": groups,
        "categories": list(data.categories),
        "submission_opens_on": data.submission_opens_on,
        "submission_closes_on": data.submission_closes_on,
        "group_rules": _group_rules(groups, data.group_rules),
        "tiers": await _tiers(session, tiers),
        "objection_days": data.objection_days,
    }
    c = await repository.insert_competition(session, values)
    await record_event(
        session, principal, "competition.created", COMPETITION, c.id, values, province
    )
    return to_read(c)


async def get_competition(session: AsyncSession, competition_id: uuid.UUID) -> CompetitionRead:
    return to_read(await _get(session, competition_id))


async def list_competitions(
    session: AsyncSession,
    *,
    status: str | None,
    year: int | None,
    organizer: str | None,
    cursor: str | None,
    limit: int,
    include_total: bool,
) -> Page[CompetitionRead]:
    where = repository.competition_filters(status, year, organizer)
    name = "competitions:-year"
    after = decode_cursor(cursor, name, 2) if cursor else None
    rows = await repository.list_competitions(session, where, after, limit + 1)
    items = [to_read(c) for c in rows[:limit]]
    nxt = next_cursor(rows, limit, name, lambda c: [c.year, c.id])
    total = await repository.count_competitions(session, where) if include_total else None
    return Page[CompetitionRead](items=items, next_cursor=nxt, total=total)


async def update_competition(
    session: AsyncSession,
    principal: Principal,
    competition_id: uuid.UUID,
    version: int,
    data: CompetitionUpdate,
) -> CompetitionRead:
    """Change the fields sent; group rules only while planned, the window until screening."""
    c = await _locked(session, competition_id)
    ensure_organiser(principal, c)
    ensure_version(c.version, version)
    ensure_not_determined(c)
    sent = data.model_dump(exclude_unset=True, mode="json")
    if "group_rules" in sent and c.status != S.planned:
        raise Conflict("Group rules change only while planned.", code="competition_started")
    if {"submission_opens_on", "submission_closes_on"} & sent.keys() and c.status not in (
        S.planned,
        S.open,
    ):
        raise Conflict("The window is past.", code="competition_started")
    if "group_rules" in sent:
        sent["group_rules"] = _group_rules(list(c.groups), data.group_rules, c.group_rules)
    for key in ("submission_opens_on", "submission_closes_on"):
        if key in sent:
            sent[key] = getattr(data, key)
    opens = sent.get("submission_opens_on", c.submission_opens_on)
    closes = sent.get("submission_closes_on", c.submission_closes_on)
    if opens > closes:
        raise field_error("/body/submission_closes_on", "The window closes before it opens.")
    changes = {k: v for k, v in sent.items() if getattr(c, k) != v}
    if changes:
        c = await repository.update_competition(session, c, version, changes)
        await record_event(
            session,
            principal,
            "competition.updated",
            COMPETITION,
            c.id,
            changes,
            c.organizer_province_code,
        )
    return to_read(c)


async def transition(
    session: AsyncSession,
    principal: Principal,
    competition_id: uuid.UUID,
    version: int | None,
    data: TransitionRequest,
) -> CompetitionRead:
    """Move the competition along its status machine; illegal moves are 409 with `allowed`."""
    c = await _locked(session, competition_id)
    ensure_organiser(principal, c)
    if version is not None:
        ensure_version(c.version, version)
    hint = " (the determination has its own operation)" if data.to == S.determined else ""
    current = S(c.status)
    ensure_transition(TRANSITIONS, current, data.to, "A competition", hint)
    values: dict[str, Any] = {"status": data.to.value}
    if data.to == S.evaluation:
        waiting = await repository.unscreened(session, c.id)
        if waiting:
            raise Conflict(
                f"{len(waiting)} submitted entries are not screened yet: "
                + ", ".join(str(i) for i in waiting[:20]),
                code="screening_outstanding",
                errors=[
                    FieldError(pointer=f"/entries/{i}", detail="Not screened.")
                    for i in waiting[:50]
                ],
            )
    if data.to == S.objection:
        if c.stages_closed < len(c.tiers):
            raise Conflict(
                f"{len(c.tiers) - c.stages_closed} stage(s) are not closed yet.",
                code="stages_open",
            )
        values["objection_closes_on"] = today() + timedelta(days=c.objection_days)
    c = await repository.update_competition(session, c, c.version, values)
    await record_event(
        session,
        principal,
        "competition.status_changed",
        COMPETITION,
        c.id,
        {"from": current.value, "to": data.to.value},
        c.organizer_province_code,
    )
    return to_read(c)


def rubric_read(r: CompetitionRubric) -> RubricRead:
    return RubricRead(
        id=r.id,
        code=r.code,
        version=r.rubric_version,
        name=r.name,
        criteria=[RubricCriterion(**c) for c in r.criteria],
        scale_min=r.scale_min,
        scale_max=r.scale_max,
        divergence_threshold=float(r.divergence_threshold),
        source=r.source,
    )


async def competition_rubrics(session: AsyncSession, competition_id: uuid.UUID) -> list[RubricRead]:
    """The rubric of each stage, in stage order (a rubric used twice is listed once)."""
    c = await _get(session, competition_id)
    ids = list(dict.fromkeys(uuid.UUID(t["rubric_id"]) for t in c.tiers))
    found = await repository.rubrics_by_id(session, ids)
    return [rubric_read(found[i]) for i in ids if i in found]


# --- Entries ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Viewer:
    kind: str  # organiser | evaluator | submitter | province | public
    principal: Principal | None

    def clause(self, c: Competition) -> Any:
        p = self.principal
        return repository.visible_to(
            self.kind,
            key_id=p.id if p else None,
            province_code=p.province_code if p else None,
            institution_id=p.institution_id if p else None,
            determined=c.status == S.determined,
        )

    def sees_scores(self, c: Competition) -> bool:
        return self.kind == "organiser" or c.status == S.determined


def viewer(principal: Principal | None, c: Competition) -> Viewer:
    if is_organiser(principal, c):
        return Viewer("organiser", principal)
    if principal is None:
        return Viewer("public", None)
    kinds = {
        Role.evaluator: "evaluator",
        Role.submitter: "submitter",
        Role.coordinator: "province",
    }
    return Viewer(kinds.get(principal.role, "public"), principal)


def entry_read(
    e: CompetitionEntry,
    c: Competition,
    *,
    scores: list[StageScore] | None,
) -> EntryRead:
    screening = None
    if e.screening_result is not None and e.screened_at is not None:
        screening = Screening(
            result=ScreeningResult(e.screening_result),
            reasons=list(e.screening_reasons),
            note=e.screening_note or "",
            screened_at=e.screened_at,
        )
    tier = c.tiers[e.tier_index]["tier"] if e.tier_index is not None else None
    return EntryRead(
        id=e.id,
        competition_id=e.competition_id,
        innovation_id=e.innovation_id,
        title=e.title,
        institution_id=e.institution_id,
        agency_id=e.agency_id,
        province_code=e.province_code,
        group=e.group,
        category=e.category,
        answers=dict(e.answers),
        video_url=e.video_url,
        document_urls=list(e.document_urls),
        nominated_from_entry_id=e.nominated_from_entry_id,
        status=EntryStatus(e.status),
        submitted_at=e.submitted_at,
        near_duplicates=e.near_duplicates,
        screening=screening,
        tier=tier,
        eliminated_at_stage=e.eliminated_at_stage,
        stage_scores=scores,
        created_at=e.created_at,
        updated_at=e.updated_at,
        version=e.version,
    )


async def _reads(
    session: AsyncSession, entries: list[CompetitionEntry], c: Competition, v: Viewer
) -> list[EntryRead]:
    scores: dict[uuid.UUID, list[StageScore]] = defaultdict(list)
    if v.sees_scores(c) and entries:
        for r in await repository.rankings_of(session, [e.id for e in entries]):
            scores[r.entry_id].append(
                StageScore(stage=r.stage, score=float(r.score), rank=r.rank, advanced=r.advanced)
            )
    return [entry_read(e, c, scores=scores[e.id] if v.sees_scores(c) else None) for e in entries]


async def _visible_entry(
    session: AsyncSession, principal: Principal | None, entry_id: uuid.UUID
) -> tuple[CompetitionEntry, Competition, Viewer]:
    """The entry if this caller may read it; 404 otherwise (nothing tells it exists)."""
    e = await repository.get_entry(session, entry_id)
    missing = NotFound(f"Entry {entry_id} does not exist.")
    if e is None:
        raise missing
    c = await _get(session, e.competition_id)
    v = viewer(principal, c)
    if v.kind != "organiser" and not await repository.entry_visible(session, e.id, v.clause(c)):
        raise missing
    return e, c, v


async def get_entry(
    session: AsyncSession, principal: Principal | None, entry_id: uuid.UUID
) -> EntryRead:
    e, c, v = await _visible_entry(session, principal, entry_id)
    return (await _reads(session, [e], c, v))[0]


async def list_entries(
    session: AsyncSession,
    principal: Principal | None,
    competition_id: uuid.UUID,
    *,
    status: str | None,
    cursor: str | None,
    limit: int,
    include_total: bool,
) -> Page[EntryRead]:
    """The entries this caller may see, oldest first."""
    c = await _get(session, competition_id)
    v = viewer(principal, c)
    where = [CompetitionEntry.competition_id == c.id, v.clause(c)]
    if status is not None:
        where.append(CompetitionEntry.status == status)
    name = "entries:created_at"
    after = decode_cursor(cursor, name, 2) if cursor else None
    rows = await repository.list_entries(session, where, after, limit + 1)
    items = await _reads(session, rows[:limit], c, v)
    nxt = next_cursor(rows, limit, name, lambda e: [e.created_at, e.id])
    total = await repository.count_entries(session, where) if include_total else None
    return Page[EntryRead](items=items, next_cursor=nxt, total=total)


async def _ensure_may_submit_for(
    session: AsyncSession, principal: Principal, institution_id: uuid.UUID, province: str | None
) -> None:
    """Admins for anyone; coordinators for institutions of their province; submitters for
    their institution and those under it."""
    principal.ensure_province(province, "institution")
    await ensure_institution(session, principal, institution_id, "institution")


async def create_entry(
    session: AsyncSession,
    principal: Principal,
    competition_id: uuid.UUID,
    data: EntryCreate,
    *,
    record_id: uuid.UUID | None = None,
) -> EntryRead:
    """A draft entry. The rules are checked when it is submitted."""
    c = await _get(session, competition_id)
    ensure_not_determined(c)
    if c.status not in (S.planned, S.open):
        raise Conflict("Submissions are closed.", code="submission_closed")
    if data.group.value not in c.groups:
        raise field_error("/body/group", f"The competition's groups are {', '.join(c.groups)}.")
    if c.categories and data.category is not None and data.category not in c.categories:
        raise field_error("/body/category", f"The categories are {', '.join(c.categories)}.")
    innovation = await repository.get_innovation(session, data.innovation_id)
    if innovation is None:
        raise field_error("/body/innovation_id", f"Innovation {data.innovation_id} does not exist.")
    institution_id = data.institution_id or innovation.institution_id
    if not await repository.within(session, innovation.institution_id, institution_id):
        raise field_error(
            "/body/institution_id",
            "The submitting institution is the innovation's own or one above it.",
        )
    await _ensure_may_submit_for(session, principal, institution_id, innovation.province_code)
    agency = await repository.agency_of(session, institution_id)
    assert agency is not None  # noqa: S101 - the institution exists (checked above)
    values: dict[str, Any] = {
        "id": record_id or uuid.uuid4(),
        "competition_id": c.id,
        "innovation_id": innovation.id,
        "institution_id": institution_id,
        "agency_id": agency.id,
        "agency_kind": agency.kind,
        "province_code": innovation.province_code,
        "title": innovation.title,
        "group": data.group.value,
        "category": data.category,
        "answers": data.answers.model_dump(mode="json", exclude_none=True),
        "video_url": str(data.video_url) if data.video_url else None,
        "document_urls": [str(u) for u in data.document_urls],
        "created_by_key_id": principal.id,
    }
    e = await repository.insert_entry(session, values)
    public = {k: values[k] for k in ("competition_id", "innovation_id", "institution_id", "group")}
    await record_event(
        session, principal, "competition_entry.created", ENTRY, e.id, public, e.province_code
    )
    return (await _reads(session, [e], c, Viewer("organiser", principal)))[0]


async def _own_entry(
    session: AsyncSession, principal: Principal, entry_id: uuid.UUID
) -> tuple[CompetitionEntry, Competition]:
    """The entry, locked, when this caller may edit it (404 when it may not read it)."""
    e = await repository.lock_entry(session, entry_id)
    if e is None:
        raise NotFound(f"Entry {entry_id} does not exist.")
    c = await _get(session, e.competition_id)
    if not is_organiser(principal, c):
        if principal.role == Role.submitter and not await repository.within(
            session, e.institution_id, principal.institution_id
        ):
            raise NotFound(f"Entry {entry_id} does not exist.")
        if principal.role == Role.coordinator and e.province_code != principal.province_code:
            raise NotFound(f"Entry {entry_id} does not exist.")
    ensure_not_determined(c)
    return e, c


async def update_entry(
    session: AsyncSession,
    principal: Principal,
    entry_id: uuid.UUID,
    version: int,
    data: EntryUpdate,
) -> EntryRead:
    """Change a draft (only the fields sent)."""
    e, c = await _own_entry(session, principal, entry_id)
    ensure_version(e.version, version)
    if e.status != EntryStatus.draft:
        raise Conflict("Only a draft entry can be edited.", code="entry_not_draft")
    sent = data.model_dump(exclude_unset=True, mode="json")
    if "group" in sent and sent["group"] not in c.groups:
        raise field_error("/body/group", f"The competition's groups are {', '.join(c.groups)}.")
    if "answers" in sent:
        sent["answers"] = data.answers.model_dump(mode="json", exclude_none=True)
    changes = {k: v for k, v in sent.items() if getattr(e, k) != v}
    if changes:
        e = await repository.update_entry(session, e, version, changes)
        await record_event(
            session,
            principal,
            "competition_entry.updated",
            ENTRY,
            e.id,
            {"fields": sorted(changes)},
            e.province_code,
        )
    return (await _reads(session, [e], c, Viewer("organiser", principal)))[0]


def _years_before(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year - years)
    except ValueError:  # 29 February
        return d.replace(year=d.year - years, day=28)


async def submit_entry(
    session: AsyncSession, principal: Principal, entry_id: uuid.UUID, version: int | None
) -> EntryRead:
    """Submit a draft: inside the window, the innovation old enough for the group, the
    agency within its quota for the group. A similar title is flagged, not refused."""
    e, c = await _own_entry(session, principal, entry_id)
    if version is not None:
        ensure_version(e.version, version)
    if e.status != EntryStatus.draft:
        raise Conflict("The entry is submitted already.", code="entry_not_draft")
    now = today()
    if c.status != S.open or not c.submission_opens_on <= now <= c.submission_closes_on:
        raise Conflict(
            f"Submissions are accepted from {c.submission_opens_on} to "
            f"{c.submission_closes_on} while the competition is open (it is {c.status}).",
            code="submission_closed",
        )
    rule = c.group_rules[e.group]
    innovation = await repository.get_innovation(session, e.innovation_id)
    assert innovation is not None  # noqa: S101 - foreign key
    min_age = int(rule["min_age_years"])
    latest = _years_before(c.submission_closes_on, min_age)
    if min_age and (innovation.launched_on is None or innovation.launched_on > latest):
        launched = innovation.launched_on.isoformat() if innovation.launched_on else "unknown"
        raise Unprocessable(
            f"The {e.group} group needs an innovation at least {min_age} year(s) old at "
            f"closing ({c.submission_closes_on}): launched on or before {latest}; this one "
            f"was launched {launched}.",
            code="too_young",
            errors=[FieldError(pointer="/innovation/launched_on", detail=f"After {latest}.")],
        )
    await repository.lock_quota(session, c.id, e.agency_id, e.group)
    used = await repository.count_submitted(session, c.id, e.agency_id, e.group)
    quota = int(rule["quota"])
    if used >= quota:
        raise Unprocessable(
            f"The agency's quota in the {e.group} group is {quota} entries, and {used} are "
            "submitted already.",
            code="over_quota",
            errors=[FieldError(pointer="/group", detail=f"Quota {quota} reached.")],
        )
    duplicates = await repository.near_duplicates(session, c.id, e.id, e.title)
    e = await repository.update_entry(
        session,
        e,
        e.version,
        {
            "status": "submitted",
            # The clock, not the transaction start: ties in a ranking go to the earlier one.
            "submitted_at": func.clock_timestamp(),
            "near_duplicates": duplicates,
        },
    )
    await record_event(
        session,
        principal,
        "competition_entry.submitted",
        ENTRY,
        e.id,
        {"near_duplicates": len(duplicates)},
        e.province_code,
    )
    return (await _reads(session, [e], c, Viewer("organiser", principal)))[0]


async def screen_entry(
    session: AsyncSession,
    principal: Principal,
    entry_id: uuid.UUID,
    version: int | None,
    data: ScreeningRequest,
) -> EntryRead:
    """Administrative selection of a submitted entry: passed → in evaluation; failed (with
    reasons) → screened out. A screening can be corrected until evaluation starts."""
    e = await repository.lock_entry(session, entry_id)
    if e is None:
        raise NotFound(f"Entry {entry_id} does not exist.")
    c = await _get(session, e.competition_id)
    ensure_organiser(principal, c)
    ensure_not_determined(c)
    if version is not None:
        ensure_version(e.version, version)
    if c.status != S.screening:
        raise Conflict(
            f"Screening happens while the competition is in screening (it is {c.status}).",
            code="not_screening",
        )
    if e.status not in ("submitted", "in_evaluation", "screened_out"):
        raise Conflict(f"A {e.status} entry is not screened.", code="entry_not_submitted")
    passed = data.result == ScreeningResult.passed
    if not passed and not data.reasons:
        raise field_error("/body/reasons", "A failed screening needs at least one reason.")
    if passed and data.reasons:
        raise field_error("/body/reasons", "A passed screening has no reasons.")
    values = {
        "status": "in_evaluation" if passed else "screened_out",
        "screening_result": data.result.value,
        "screening_reasons": [r.value for r in data.reasons],
        "screening_note": data.note,
        "screened_at": func.now(),
    }
    e = await repository.update_entry(session, e, e.version, values)
    await record_event(
        session,
        principal,
        "competition_entry.screened",
        ENTRY,
        e.id,
        {"result": data.result.value, "reasons": values["screening_reasons"]},
        e.province_code,
    )
    return (await _reads(session, [e], c, Viewer("organiser", principal)))[0]


# --- Assignments, scores, field verification ----------------------------------------------


def _current_stage(c: Competition, stage: int, pointer: str) -> dict[str, Any]:
    if c.status != S.evaluation:
        raise Conflict(
            f"Evaluation happens while the competition is in evaluation (it is {c.status}).",
            code="not_evaluation",
        )
    if stage >= len(c.tiers):
        raise field_error(
            pointer, f"The competition has {len(c.tiers)} stages (0–{len(c.tiers) - 1})."
        )
    if stage != c.stages_closed:
        raise Conflict(
            f"Stage {stage} is not the open stage; stage {c.stages_closed} is.",
            code="stage_not_open",
            allowed=[str(c.stages_closed)],
        )
    return c.tiers[stage]


async def assign(
    session: AsyncSession,
    principal: Principal,
    competition_id: uuid.UUID,
    data: AssignmentsRequest,
) -> AssignmentsResult:
    """Assign evaluators to entries of the open stage, in one statement."""
    c = await _locked(session, competition_id)
    ensure_organiser(principal, c)
    ensure_not_determined(c)
    _current_stage(c, data.stage, "/body/stage")
    pairs = list(dict.fromkeys((a.entry_id, a.evaluator_key_id) for a in data.assignments))
    outside = await repository.entries_outside_pool(
        session, c.id, data.stage, sorted({p[0] for p in pairs})
    )
    if outside:
        raise Unprocessable(
            f"{len(outside)} entries are not in stage {data.stage}'s pool of this competition.",
            errors=[
                FieldError(pointer=f"/entries/{i}", detail="Not in the stage's pool.")
                for i in outside[:50]
            ],
        )
    bad_keys = await repository.non_evaluator_keys(session, sorted({p[1] for p in pairs}))
    if bad_keys:
        raise Unprocessable(
            "Evaluators are live keys of role evaluator.",
            errors=[
                FieldError(pointer=f"/keys/{k}", detail="Not a live evaluator key.")
                for k in bad_keys[:50]
            ],
        )
    created = await repository.insert_assignments(session, c.id, data.stage, pairs)
    await record_event(
        session,
        principal,
        "competition.evaluators_assigned",
        COMPETITION,
        c.id,
        {"stage": data.stage, "assigned": created},
        c.organizer_province_code,
    )
    return AssignmentsResult(stage=data.stage, assigned=created, already=len(pairs) - created)


def weighted_total(rubric: CompetitionRubric, criteria: dict[str, int]) -> Decimal:
    """The weighted mean of the criteria on the rubric's scale, as 0–100."""
    weights = {c["key"]: Decimal(str(c["weight"])) for c in rubric.criteria}
    mean = sum((weights[k] * v for k, v in criteria.items()), Decimal(0)) / sum(
        weights.values(), Decimal(0)
    )
    span = Decimal(rubric.scale_max - rubric.scale_min)
    total = (mean - rubric.scale_min) / span * 100
    return total.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


async def score_entry(
    session: AsyncSession,
    principal: Principal,
    entry_id: uuid.UUID,
    data: ScoreCreate,
    *,
    record_id: uuid.UUID | None = None,
) -> ScoreRead:
    """An evaluator scores an entry it is assigned at the open stage (404 for any entry it
    is not assigned: nothing tells whether it exists)."""
    missing = NotFound(f"Entry {entry_id} does not exist.")
    if not await repository.is_assigned(session, entry_id, data.stage, principal.id):
        raise missing
    e = await repository.get_entry(session, entry_id)
    if e is None:
        raise missing
    c = await _get(session, e.competition_id)
    ensure_not_determined(c)
    tier = _current_stage(c, data.stage, "/body/stage")
    rubric = (await repository.rubrics_by_id(session, [uuid.UUID(tier["rubric_id"])]))[
        uuid.UUID(tier["rubric_id"])
    ]
    keys = [cr["key"] for cr in rubric.criteria]
    errors = (
        [
            FieldError(pointer=f"/body/criteria/{k}", detail="Missing.")
            for k in keys
            if k not in data.criteria
        ]
        + [
            FieldError(pointer=f"/body/criteria/{k}", detail="Not a criterion of the rubric.")
            for k in data.criteria
            if k not in keys
        ]
        + [
            FieldError(
                pointer=f"/body/criteria/{k}",
                detail=f"Scores run from {rubric.scale_min} to {rubric.scale_max}.",
            )
            for k, v in data.criteria.items()
            if k in keys and not rubric.scale_min <= v <= rubric.scale_max
        ]
    )
    if errors:
        raise Unprocessable(
            f"Score every criterion of rubric {rubric.code} v{rubric.rubric_version}: "
            + ", ".join(keys)
            + ".",
            errors=errors,
        )
    if e.status not in ("in_evaluation", "finalist"):
        raise Conflict(f"A {e.status} entry is not scored.", code="entry_not_in_evaluation")
    values: dict[str, Any] = {
        "id": record_id or uuid.uuid4(),
        "competition_id": c.id,
        "entry_id": e.id,
        "stage": data.stage,
        "evaluator_key_id": principal.id,
        "rubric_id": rubric.id,
        "criteria": dict(data.criteria),
        "total": weighted_total(rubric, dict(data.criteria)),
        "comment": data.comment,
    }
    score = await repository.insert_score(session, values)
    # No score and no comment in the event: they are confidential until determination.
    await record_event(
        session,
        principal,
        "entry_score.created",
        "entry_score",
        score.id,
        {"entry_id": e.id, "stage": data.stage},
        c.organizer_province_code,
    )
    return ScoreRead.model_validate(score)


async def list_scores(
    session: AsyncSession, principal: Principal, entry_id: uuid.UUID
) -> list[ScoreRead]:
    """The organiser and admins read every score of the entry; an evaluator only its own, on
    entries it is assigned (404 otherwise)."""
    missing = NotFound(f"Entry {entry_id} does not exist.")
    e = await repository.get_entry(session, entry_id)
    if e is None:
        raise missing
    c = await _get(session, e.competition_id)
    if is_organiser(principal, c):
        rows = await repository.scores_of(session, e.id, None)
    elif principal.role == Role.evaluator and await repository.is_assigned_any(
        session, e.id, principal.id
    ):
        rows = await repository.scores_of(session, e.id, principal.id)
    else:
        raise missing
    return [ScoreRead.model_validate(s) for s in rows]


async def verify_in_field(
    session: AsyncSession,
    principal: Principal,
    entry_id: uuid.UUID,
    data: FieldVerificationRequest,
) -> FieldVerificationRead:
    """Record (or replace) the field observation of an entry in evaluation."""
    e = await repository.lock_entry(session, entry_id)
    if e is None:
        raise NotFound(f"Entry {entry_id} does not exist.")
    c = await _get(session, e.competition_id)
    ensure_organiser(principal, c)
    ensure_not_determined(c)
    if c.status != S.evaluation or e.status not in ("in_evaluation", "finalist"):
        raise Conflict(
            "Field verification is for entries in evaluation while the competition is.",
            code="not_evaluation",
        )
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "entry_id": e.id,
        "visited_on": data.visited_on,
        "team": list(data.team),
        "findings": data.findings,
        "verified": data.verified,
        "evidence_urls": [str(u) for u in data.evidence_urls],
    }
    fv = await repository.upsert_verification(session, values)
    await record_event(
        session,
        principal,
        "competition_entry.field_verified",
        ENTRY,
        e.id,
        {"visited_on": data.visited_on, "verified": data.verified},
        e.province_code,
    )
    return FieldVerificationRead.model_validate(fv)


# --- Closing a stage ----------------------------------------------------------------------


async def close_stage(
    session: AsyncSession, principal: Principal, competition_id: uuid.UUID, stage: int
) -> StageClosed:
    """Rank the stage's pool by stage score (ties: earlier submission first), store the
    ranking and advance the tier's size (only field-verified entries where the tier asks).
    Refused (409, naming the entries) while a score or a divergence is outstanding. Closing
    a closed stage changes nothing. A constant number of statements, whatever the pool."""
    c = await _locked(session, competition_id)
    ensure_organiser(principal, c)
    if stage < len(c.tiers) and stage < c.stages_closed:
        ranked, advanced = await repository.stage_summary(session, c.id, stage)
        return StageClosed(
            stage=stage,
            tier=c.tiers[stage]["tier"],
            ranked=ranked,
            advanced=advanced,
            closed_now=False,
        )
    ensure_not_determined(c)
    if stage >= len(c.tiers):
        raise NotFound(f"The competition has {len(c.tiers)} stages (0–{len(c.tiers) - 1}).")
    tier = _current_stage(c, stage, "/path/stage")
    rubric_id = uuid.UUID(tier["rubric_id"])
    rubric = (await repository.rubrics_by_id(session, [rubric_id]))[rubric_id]
    threshold = float(rubric.divergence_threshold)
    pending = await repository.outstanding(session, c.id, stage, threshold)
    if pending:

        def why(r: Any) -> str:
            if r.n < 2:
                return f"{r.n} score(s) of the 2 needed"
            return f"two scores {float(r.spread):.2f} apart (> {threshold:g}): a third is needed"

        raise Conflict(
            f"Stage {stage} cannot close: {len(pending)}"
            f"{'+' if len(pending) == 50 else ''} entries are outstanding: "
            + "; ".join(f"{r.entry_id} ({r.title}): {why(r)}" for r in pending[:10]),
            code="stage_outstanding",
            errors=[FieldError(pointer=f"/entries/{r.entry_id}", detail=why(r)) for r in pending],
        )
    ranked, advanced = await repository.store_ranking(
        session, c.id, stage, int(tier["size"]), bool(tier["field_verification"])
    )
    await repository.apply_ranking(session, c.id, stage)
    c = await repository.update_competition(session, c, c.version, {"stages_closed": stage + 1})
    await record_event(
        session,
        principal,
        "competition.stage_closed",
        COMPETITION,
        c.id,
        {"stage": stage, "tier": tier["tier"], "ranked": ranked, "advanced": advanced},
        c.organizer_province_code,
    )
    return StageClosed(
        stage=stage, tier=tier["tier"], ranked=ranked, advanced=advanced, closed_now=True
    )


async def ranking(
    session: AsyncSession,
    principal: Principal | None,
    competition_id: uuid.UUID,
    stage: int,
    *,
    cursor: str | None,
    limit: int,
) -> Page[RankingRow]:
    """A closed stage's stored ranking: the organiser and admins before determination,
    everyone after."""
    c = await _get(session, competition_id)
    if not is_organiser(principal, c) and c.status != S.determined:
        raise Forbidden("Rankings are published with the determination.", code="not_published")
    if stage >= c.stages_closed:
        raise NotFound(f"Stage {stage} is not closed.")
    name = f"ranking:{stage}"
    after = decode_cursor(cursor, name, 1) if cursor else None
    rows = await repository.ranking_page(session, c.id, stage, after, limit + 1)
    items = [
        RankingRow(
            rank=r.rank,
            entry_id=r.entry_id,
            title=r.title,
            score=float(r.score),
            eligible=r.eligible,
            advanced=r.advanced,
        )
        for r in rows[:limit]
    ]
    return Page[RankingRow](
        items=items, next_cursor=next_cursor(rows, limit, name, lambda r: [r.rank])
    )


# --- Objections ---------------------------------------------------------------------------


async def file_objection(
    session: AsyncSession,
    principal: Principal,
    competition_id: uuid.UUID,
    data: ObjectionCreate,
    *,
    record_id: uuid.UUID | None = None,
) -> ObjectionRead:
    """Any key holder objects to a finalist during the objection window (masa sanggah)."""
    c = await _get(session, competition_id)
    ensure_not_determined(c)
    if c.status != S.objection or c.objection_closes_on is None or today() > c.objection_closes_on:
        raise Conflict("The objection window is not open.", code="objection_window_closed")
    e = await repository.get_entry(session, data.entry_id)
    if e is None or e.competition_id != c.id or e.status != "finalist":
        raise field_error("/body/entry_id", "Not a finalist of this competition.")
    values = {
        "id": record_id or uuid.uuid4(),
        "competition_id": c.id,
        "entry_id": e.id,
        "grounds": data.grounds,
        "filed_by": principal.name,
        "filed_by_key_id": principal.id,
    }
    o = await repository.insert_objection(session, values)
    await record_event(
        session,
        principal,
        "competition_objection.created",
        "competition_objection",
        o.id,
        {"competition_id": c.id, "entry_id": e.id},
        c.organizer_province_code,
    )
    return ObjectionRead.model_validate(o)


async def list_objections(
    session: AsyncSession, competition_id: uuid.UUID, *, cursor: str | None, limit: int
) -> Page[ObjectionRead]:
    c = await _get(session, competition_id)
    name = "objections:created_at"
    after = decode_cursor(cursor, name, 2) if cursor else None
    rows = await repository.list_objections(session, c.id, after, limit + 1)
    return Page[ObjectionRead](
        items=[ObjectionRead.model_validate(o) for o in rows[:limit]],
        next_cursor=next_cursor(rows, limit, name, lambda o: [o.created_at, o.id]),
    )


async def get_objection(session: AsyncSession, objection_id: uuid.UUID) -> ObjectionRead:
    o = await repository.get_objection(session, objection_id)
    if o is None:
        raise NotFound(f"Objection {objection_id} does not exist.")
    return ObjectionRead.model_validate(o)


async def resolve_objection(
    session: AsyncSession,
    principal: Principal,
    objection_id: uuid.UUID,
    version: int | None,
    data: ObjectionResolution,
) -> ObjectionRead:
    """`upheld` disqualifies the entry and, at each stage it advanced, the next in rank moves
    up; `rejected` keeps it."""
    o = await repository.lock_objection(session, objection_id)
    if o is None:
        raise NotFound(f"Objection {objection_id} does not exist.")
    c = await _locked(session, o.competition_id)
    ensure_organiser(principal, c)
    ensure_not_determined(c)
    if version is not None:
        ensure_version(o.version, version)
    if o.status != "open":
        raise Conflict(f"The objection is {o.status} already.", code="objection_resolved")
    promoted: list[uuid.UUID] = []
    if data.outcome.value == "upheld":
        e = await repository.lock_entry(session, o.entry_id)
        assert e is not None  # noqa: S101 - foreign key
        if e.status != "disqualified":
            for stage in await repository.advanced_stages(session, c.id, e.id):
                moved = await repository.promote_next(session, c.id, stage, e.id)
                if moved is not None:
                    promoted.append(moved)
            await repository.update_entry(session, e, e.version, {"status": "disqualified"})
    o = await repository.update_objection(
        session,
        o,
        {
            "status": data.outcome.value,
            "resolution_note": data.note,
            "resolved_at": func.now(),
            "promoted_entry_ids": promoted,
        },
    )
    await record_event(
        session,
        principal,
        "competition_objection.resolved",
        "competition_objection",
        o.id,
        {"outcome": data.outcome.value, "entry_id": o.entry_id, "promoted": promoted},
        c.organizer_province_code,
    )
    return ObjectionRead.model_validate(o)


# --- Determination and nomination ---------------------------------------------------------


async def determine(
    session: AsyncSession,
    principal: Principal,
    competition_id: uuid.UUID,
    version: int | None,
    data: DeterminationRequest,
) -> Determination:
    """After the objection window: every finalist's awards (each tier reached, linked to the
    competition) in this one transaction; the competition becomes read-only."""
    c = await _locked(session, competition_id)
    ensure_organiser(principal, c)
    if c.status == S.determined:
        raise Conflict(
            f"The competition was determined on {c.determined_on} ({c.decree_number}).",
            code="already_determined",
        )
    if version is not None:
        ensure_version(c.version, version)
    if c.status != S.objection:
        raise Conflict(
            f"Determination follows the objection window (the competition is {c.status}).",
            code="illegal_transition",
            allowed=sorted(a.value for a in TRANSITIONS[S(c.status)]),
        )
    assert c.objection_closes_on is not None  # noqa: S101 - set when the window opened
    if today() <= c.objection_closes_on:
        raise Conflict(
            f"The objection window runs until {c.objection_closes_on}.",
            code="objection_window_open",
        )
    waiting = await repository.open_objections(session, c.id)
    if waiting:
        raise Conflict(
            f"{len(waiting)} objections are not resolved: " + ", ".join(map(str, waiting)),
            code="objections_open",
        )
    kind = "KIPP" if c.organizer_province_code is None else "other"
    awards = await repository.create_awards(
        session, c, kind, data.decree_number, [t["tier"] for t in c.tiers]
    )
    await repository.award_finalists(session, c.id)
    c = await repository.update_competition(
        session,
        c,
        c.version,
        {
            "status": S.determined.value,
            "decree_number": data.decree_number,
            "determined_on": data.determined_on,
        },
    )
    await record_event(
        session,
        principal,
        "competition.determined",
        COMPETITION,
        c.id,
        {
            "decree_number": data.decree_number,
            "determined_on": data.determined_on,
            "awards": len(awards),
        },
        c.organizer_province_code,
    )
    for action, inserted in (("award.created", True), ("award.linked", False)):
        await record_events(
            session,
            principal,
            action,
            "award",
            [
                (
                    a.id,
                    {
                        "innovation_id": a.innovation_id,
                        "competition": kind,
                        "year": c.year,
                        "tier": a.tier,
                        "competition_id": c.id,
                    },
                    None,
                )
                for a in awards
                if a.inserted == inserted
            ],
        )
    return Determination(competition=to_read(c), awards=len(awards))


async def nominate(
    session: AsyncSession,
    principal: Principal,
    competition_id: uuid.UUID,
    data: NominationRequest,
) -> Nomination:
    """Forward a determined provincial competition's finalists into an open national one,
    answers carried over, `nominated_from_entry_id` kept."""
    source = await _get(session, competition_id)
    ensure_organiser(principal, source)
    if source.organizer_province_code is None or source.status != S.determined:
        raise Conflict(
            "Nominations come from a determined provincial competition.",
            code="not_nominating",
        )
    target = await _locked(session, data.target_competition_id)
    if target.organizer_province_code is not None or target.status != S.open:
        raise Conflict("Nominations go into an open national competition.", code="target_not_open")
    chosen = await repository.finalist_ids(session, source.id, data.entry_ids)
    if data.entry_ids is not None and len(chosen) != len(set(data.entry_ids)):
        missing = sorted(set(data.entry_ids) - set(chosen))
        raise Unprocessable(
            "Only finalists of the source competition are nominated.",
            errors=[
                FieldError(pointer=f"/body/entry_ids/{i}", detail="Not a finalist.")
                for i in missing
            ],
        )
    rows = await repository.nominate(session, source, target, chosen, principal.id)
    created = {r.nominated_from_entry_id: r.id for r in rows}
    await record_events(
        session,
        principal,
        "competition_entry.nominated",
        ENTRY,
        [
            (
                r.id,
                {"competition_id": target.id, "nominated_from_entry_id": r.nominated_from_entry_id},
                r.province_code,
            )
            for r in rows
        ],
    )
    return Nomination(
        nominated=[created[i] for i in chosen if i in created],
        skipped=[i for i in chosen if i not in created],
    )


# --- Statistics ---------------------------------------------------------------------------


async def stats(
    session: AsyncSession, principal: Principal | None, competition_id: uuid.UUID
) -> CompetitionStats:
    """Entries by status; and, once determined (or for the organiser), entries by tier,
    screening failures by reason and each tier's composition."""
    c = await _get(session, competition_id)
    by_status = await repository.entries_by_status(session, c.id)
    if not (is_organiser(principal, c) or c.status == S.determined):
        return CompetitionStats(
            entries_by_status=by_status, entries_by_tier=None, screening_failures=None, tiers=None
        )
    names = [t["tier"] for t in c.tiers]
    by_tier = {
        names[r.idx]: int(r.n)
        for r in await repository.entries_by_tier(session, c.id)
        if r.idx < len(names)
    }
    tiers: dict[int, TierComposition] = {}
    for r in await repository.composition(session, c.id):
        if r.idx >= len(names):
            continue
        t = tiers.setdefault(
            r.idx,
            TierComposition(
                tier=names[r.idx], innovations=0, institutions=0, by_kind={}, by_province={}
            ),
        )
        figures = Composition(innovations=int(r.innovations), institutions=int(r.institutions))
        if r.no_kind and r.no_province:
            t.innovations, t.institutions = figures.innovations, figures.institutions
        elif not r.no_kind:
            t.by_kind[r.agency_kind] = figures
        else:
            t.by_province[r.province] = figures
    return CompetitionStats(
        entries_by_status=by_status,
        entries_by_tier=by_tier,
        screening_failures=await repository.screening_failures(session, c.id),
        tiers=[tiers[i] for i in sorted(tiers)],
    )
