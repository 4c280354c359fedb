"""Demo data of institutionalisation (pelembagaan inovasi): Jawa Tengah's Perda 3/2019 and
its Pergub "Satu OPD Satu Inovasi", the JIPP hubs (Jawa Timur, Sulawesi Selatan and Sumatera
Selatan in 2019; Universitas Tanjungpura, which mentors Kalimantan Barat's 2022 programme),
illustrative incentives, and OPDs of two Jawa Tengah governments (the province's and Kota
Semarang's) of which some have an innovation launched in 2025 and some do not.

Numbers and dates that the public record does not give are illustrative, and said so in the
records' notes (`DEMO_MARK`); the innovations carry the tag `demo`. Loaded through the
services of the API, idempotently: a record found by its stable id is left as it is.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.security import Principal
from app.demo import data, repository
from app.demo.data import DEMO_MARK, DEMO_TAG, InnovationSpec, InstitutionSpec
from app.innovations import service as innovations
from app.innovations.schemas import InnovationCreate
from app.institutionalisation import service
from app.institutionalisation.schemas import (
    HubCreate,
    IncentiveCreate,
    RegulationCreate,
    RegulationKind,
)
from app.institutions import service as institutions
from app.institutions.schemas import InstitutionCreate
from app.models.innovation import Innovation
from app.models.institution import Institution
from app.models.institutionalisation import Incentive, JippHub, Regulation
from app.replication import service as replication
from app.replication.schemas import ProgramUpdate

# --- Institutions -------------------------------------------------------------------------

GOV_JATENG = InstitutionSpec(
    "gov_jateng", "Pemerintah Provinsi Jawa Tengah", "provincial_government", "33"
)


def _jateng_opd(key: str, name: str, parent: str = "gov_jateng") -> InstitutionSpec:
    return InstitutionSpec(key, name, "regional_agency", "33", parent)


def _semarang_opd(key: str, name: str) -> InstitutionSpec:
    return InstitutionSpec(key, name, "regional_agency", "33.74", "gov_semarang")


# Governments first, then OPDs, then the unit under an OPD.
INSTITUTIONS: tuple[InstitutionSpec, ...] = (
    GOV_JATENG,
    InstitutionSpec(
        "gov_sulsel", "Pemerintah Provinsi Sulawesi Selatan", "provincial_government", "73"
    ),
    InstitutionSpec(
        "gov_sumsel", "Pemerintah Provinsi Sumatera Selatan", "provincial_government", "16"
    ),
    _jateng_opd("bappeda_jateng", "Badan Perencanaan Pembangunan Daerah Provinsi Jawa Tengah"),
    _jateng_opd("dinkes_jateng", "Dinas Kesehatan Provinsi Jawa Tengah"),
    _jateng_opd("dinsos_jateng", "Dinas Sosial Provinsi Jawa Tengah"),
    _jateng_opd("disdikbud_jateng", "Dinas Pendidikan dan Kebudayaan Provinsi Jawa Tengah"),
    _jateng_opd("diskominfo_jateng", "Dinas Komunikasi dan Informatika Provinsi Jawa Tengah"),
    _jateng_opd(
        "dpmptsp_jateng",
        "Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu Provinsi Jawa Tengah",
    ),
    # A unit of the Health Office: its innovation counts for the Health Office.
    _jateng_opd(
        "balkesmas_jateng", "Balai Kesehatan Masyarakat Provinsi Jawa Tengah", "dinkes_jateng"
    ),
    _semarang_opd("bappeda_semarang", "Badan Perencanaan Pembangunan Daerah Kota Semarang"),
    _semarang_opd("disdukcapil_semarang", "Dinas Kependudukan dan Pencatatan Sipil Kota Semarang"),
    _semarang_opd(
        "dpmptsp_semarang",
        "Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu Kota Semarang",
    ),
)


def _summary(text: str) -> str:
    return f"{text} {DEMO_MARK}"


# Illustrative innovations of those OPDs: four launched in 2025, one in 2019.
INNOVATIONS: tuple[InnovationSpec, ...] = (
    InnovationSpec(
        "skrining_keliling",
        "Skrining Kesehatan Keliling",
        "balkesmas_jateng",
        "health",
        "public_service",
        "agency",
        date(2025, 3, 10),
        _summary("Pemeriksaan kesehatan berkala yang mendatangi pasar dan kawasan industri."),
    ),
    InnovationSpec(
        "dasbor_pengaduan",
        "Dasbor Pengaduan Layanan Publik Terpadu",
        "diskominfo_jateng",
        "data_information",
        "governance",
        "agency",
        date(2025, 5, 20),
        _summary("Satu dasbor pengaduan warga untuk semua perangkat daerah provinsi."),
        digital=True,
    ),
    InnovationSpec(
        "izin_jemput_bola",
        "Perizinan Berusaha Jemput Bola",
        "dpmptsp_jateng",
        "licensing",
        "public_service",
        "agency",
        date(2025, 2, 3),
        _summary("Petugas perizinan melayani pelaku usaha mikro di sentra-sentra usaha."),
    ),
    InnovationSpec(
        "musrenbang_daring",
        "Musrenbang Daring",
        "bappeda_jateng",
        "governance",
        "governance",
        "agency",
        date(2019, 4, 1),
        _summary("Usulan musyawarah perencanaan pembangunan disampaikan dan dipantau daring."),
        digital=True,
    ),
    InnovationSpec(
        "ikd_kelurahan",
        "Aktivasi Identitas Kependudukan Digital di Kelurahan",
        "disdukcapil_semarang",
        "population_administration",
        "public_service",
        "agency",
        date(2025, 7, 1),
        _summary("Aktivasi identitas kependudukan digital dilayani di kantor kelurahan."),
        digital=True,
    ),
)

# --- Regulations ----------------------------------------------------------------------------

_ILLUSTRATIVE_DATES = f"{DEMO_MARK} Tanggal berlaku ilustratif."
REGULATIONS: dict[str, RegulationCreate] = {
    "perda_jateng_3_2019": RegulationCreate(
        region_code="33",
        kind=RegulationKind.bylaw,
        number="3",
        year=2019,
        title="Inovasi Daerah",
        effective_on=date(2019, 7, 1),
        notes=f"Peraturan Daerah Provinsi Jawa Tengah Nomor 3 Tahun 2019. {_ILLUSTRATIVE_DATES}",
    ),
    "pergub_jateng_1opd1inovasi": RegulationCreate(
        region_code="33",
        kind=RegulationKind.head_regulation,
        number="(ilustratif)",
        year=2019,
        title="Satu OPD Satu Inovasi",
        effective_on=date(2019, 10, 1),
        mandates_yearly_innovation=True,
        notes="Peraturan Gubernur pelaksana Perda 3/2019: setiap OPD paling sedikit satu "
        f"inovasi setiap tahun. {DEMO_MARK} Nomor dan tanggal berlaku ilustratif.",
    ),
    "permenpanrb_91_2021": RegulationCreate(
        region_code=None,
        kind=RegulationKind.ministerial_regulation,
        number="91",
        year=2021,
        title="Pembinaan Inovasi Pelayanan Publik",
        effective_on=date(2021, 10, 1),
        notes=f"Peraturan Menteri PANRB Nomor 91 Tahun 2021. {_ILLUSTRATIVE_DATES}",
    ),
}

# --- JIPP hubs ------------------------------------------------------------------------------


@dataclass(frozen=True)
class HubSpec:
    key: str
    name: str
    province_code: str
    host: str  # an institution key (of data.INSTITUTIONS or INSTITUTIONS above)
    description: str
    members: tuple[str, ...] = ()
    mentors: tuple[str, ...] = ()
    mentors_program: str | None = None  # a programme key (data.PROGRAMS)


HUBS: tuple[HubSpec, ...] = (
    HubSpec(
        "jipp_jatim",
        "JIPP Jawa Timur",
        "35",
        "gov_jatim",
        f"{DEMO_MARK} Simpul JIPP Jawa Timur, dibentuk 2019.",
        members=("dpmd_jatim",),
    ),
    HubSpec(
        "jipp_sulsel",
        "JIPP Sulawesi Selatan",
        "73",
        "gov_sulsel",
        f"{DEMO_MARK} Simpul JIPP Sulawesi Selatan, dibentuk 2019.",
        members=("gov_makassar", "balitbangda_makassar"),
    ),
    HubSpec(
        "jipp_sumsel",
        "JIPP Sumatera Selatan",
        "16",
        "gov_sumsel",
        f"{DEMO_MARK} Simpul JIPP Sumatera Selatan, dibentuk 2019.",
    ),
    HubSpec(
        "jipp_untan",
        "JIPP Hub Universitas Tanjungpura",
        "61",
        "untan",
        f"{DEMO_MARK} Mendampingi replikasi inovasi Provinsi Kalimantan Barat tahun 2022.",
        members=("gov_pontianak", "gov_kubu_raya", "gov_sambas"),
        mentors=("Tim JIPP hub Universitas Tanjungpura",),
        mentors_program="kalbar_2022",
    ),
)

# --- Incentives -----------------------------------------------------------------------------


@dataclass(frozen=True)
class IncentiveSpec:
    key: str
    region_code: str
    year: int
    amount_idr: int
    basis: str
    innovation: str | None = None  # an innovation key (data.INNOVATIONS)


INCENTIVES: tuple[IncentiveSpec, ...] = (
    IncentiveSpec(
        "jateng_kipp_2019", "33", 2019, 5_000_000_000, "KIPP 2019: 25 inovasi Jawa Tengah Top 99"
    ),
    IncentiveSpec(
        "jateng_2025", "33", 2025, 2_000_000_000, "Kinerja inovasi daerah (Satu OPD Satu Inovasi)"
    ),
    IncentiveSpec("brebes_gkb_2025", "33.29", 2025, 1_500_000_000, "Keberlanjutan inovasi", "gkb"),
    IncentiveSpec(
        "semarang_sdida_2025", "33.74", 2025, 1_250_000_000, "Keberlanjutan inovasi", "sdida"
    ),
    IncentiveSpec(
        "surakarta_kia_2016",
        "33.72",
        2016,
        1_000_000_000,
        "Glokalisasi: Kartu Identitas Anak",
        "kia",
    ),
    IncentiveSpec(
        "kalbar_replikasi_2022", "61", 2022, 1_000_000_000, "Replikasi inovasi pelayanan publik"
    ),
)


def institution_id(key: str) -> uuid.UUID:
    return data.institution_id(key)


def regulation_id(key: str) -> uuid.UUID:
    return data.demo_id("regulation", key)


def hub_id(key: str) -> uuid.UUID:
    return data.demo_id("hub", key)


def incentive_id(key: str) -> uuid.UUID:
    return data.demo_id("incentive", key)


# --- Loading --------------------------------------------------------------------------------


async def load(session: AsyncSession, principal: Principal, created: Counter[str]) -> None:
    """Load what is missing of this part of the demo (after the rest of it: its hubs name
    institutions and a programme of the main demo, its incentives innovations)."""
    ids = await _institutions(session, principal, created)
    await _innovations(session, principal, ids, created)
    await _regulations(session, principal, created)
    await _hubs(session, principal, ids, created)
    await _incentives(session, principal, created)


async def _institutions(
    session: AsyncSession, principal: Principal, created: Counter[str]
) -> dict[str, uuid.UUID]:
    """Register the missing institutions; the ids of these and of the main demo's, by key.
    As in the main demo, one found by its stable id is kept, and one registered under the
    same name and region is reused."""
    specs = (*data.INSTITUTIONS, *INSTITUTIONS)
    seeded = await repository.existing_ids(
        session, Institution, [institution_id(i.key) for i in specs]
    )
    found = await repository.institutions_by_name(session, [(i.name, i.region_code) for i in specs])
    ids: dict[str, uuid.UUID] = {}
    for spec in specs:
        record_id = institution_id(spec.key)
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
        await institutions.create_institution(session, principal, body, record_id=record_id)
        ids[spec.key] = record_id
        created["institutions"] += 1
    return ids


async def _innovations(
    session: AsyncSession, principal: Principal, ids: dict[str, uuid.UUID], created: Counter[str]
) -> None:
    existing = await repository.existing_ids(
        session, Innovation, [data.innovation_id(i.key) for i in INNOVATIONS]
    )
    for spec in INNOVATIONS:
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
            institution_id=ids[spec.owner],
            status="published",
            tags=[DEMO_TAG, *spec.tags],
        )
        await innovations.create_innovation(session, principal, body, record_id=record_id)
        created["innovations"] += 1


async def _regulations(session: AsyncSession, principal: Principal, created: Counter[str]) -> None:
    existing = await repository.existing_ids(
        session, Regulation, [regulation_id(k) for k in REGULATIONS]
    )
    for key, body in REGULATIONS.items():
        if regulation_id(key) not in existing:
            await service.create_regulation(session, principal, body, record_id=regulation_id(key))
            created["regulations"] += 1


async def _hubs(
    session: AsyncSession, principal: Principal, ids: dict[str, uuid.UUID], created: Counter[str]
) -> None:
    existing = await repository.existing_ids(session, JippHub, [hub_id(h.key) for h in HUBS])
    for spec in HUBS:
        if hub_id(spec.key) in existing:
            continue
        body = HubCreate(
            name=spec.name,
            province_code=spec.province_code,
            host_institution_id=ids[spec.host],
            description=spec.description,
            member_institution_ids=[ids[m] for m in spec.members],
            mentors=list(spec.mentors),
        )
        await service.create_hub(session, principal, body, record_id=hub_id(spec.key))
        created["jipp_hubs"] += 1
        if spec.mentors_program is not None:
            # Named on the programme together with the hub's creation only, so that a
            # programme someone has changed since is left as it is.
            program = await replication.get_program(session, data.program_id(spec.mentors_program))
            if program.mentor_hub_id is None:
                await replication.update_program(
                    session,
                    principal,
                    program.id,
                    program.version,
                    ProgramUpdate(mentor_hub_id=hub_id(spec.key)),
                )


async def _incentives(session: AsyncSession, principal: Principal, created: Counter[str]) -> None:
    existing = await repository.existing_ids(
        session, Incentive, [incentive_id(i.key) for i in INCENTIVES]
    )
    for spec in INCENTIVES:
        if incentive_id(spec.key) in existing:
            continue
        body = IncentiveCreate(
            region_code=spec.region_code,
            year=spec.year,
            amount_idr=spec.amount_idr,
            basis=spec.basis,
            innovation_id=data.innovation_id(spec.innovation) if spec.innovation else None,
            notes=f"{DEMO_MARK} Jumlah ilustratif.",
        )
        await service.create_incentive(session, principal, body, record_id=incentive_id(spec.key))
        created["incentives"] += 1
