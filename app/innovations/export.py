"""Open-data CSV export of innovations, streamed, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterable

from app.innovations.schemas import InnovationRead

COLUMNS = (
    "id",
    "title",
    "institution_id",
    "institution_name",
    "province_code",
    "region_code",
    "sector",
    "form",
    "digital",
    "initiator",
    "stage",
    "status",
    "scale",
    "launched_on",
    "replica_of_id",
    "replications",
    "awards",
    "tags",
    "evidence_urls",
    "summary",
    "created_at",
    "updated_at",
)

# The header and one row, as the export writes them (documentation's example).
CSV_EXAMPLE = (
    ",".join(COLUMNS)
    + "\r\n"
    + "0b6c1d8e-4f7a-4a53-9a57-3f0c1e2d4b5a,PIKOBAR,7e2d3c4b-4f7a-4a53-9a57-3f0c1e2d4b5a,"
    "Dinas Komunikasi dan Informatika Provinsi Jawa Barat,32,32,disaster_response,"
    "public_service,true,agency,implementation,published,local,2020-03-02,,1,"
    "KIPP 2021 top_99,covid-19,https://pikobar.jabarprov.go.id/,"
    "Pusat informasi dan koordinasi COVID-19 Jawa Barat.,"
    "2026-01-05T03:00:00+00:00,2026-01-05T03:00:00+00:00\r\n"
)

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str) -> str:
    """Prefix a quote to cells a spreadsheet would run as a formula (CSV injection)."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def row_of(item: InnovationRead) -> list[str]:
    values = {
        "id": str(item.id),
        "title": item.title,
        "institution_id": str(item.institution.id),
        "institution_name": item.institution.name,
        "province_code": item.province_code or "",
        "region_code": item.region_code or "",
        "sector": item.sector.value,
        "form": item.form.value,
        "digital": "true" if item.digital else "false",
        "initiator": item.initiator.value,
        "stage": item.stage.value,
        "status": item.status.value,
        "scale": item.scale.value,
        "launched_on": item.launched_on.isoformat() if item.launched_on else "",
        "replica_of_id": str(item.replica_of_id) if item.replica_of_id else "",
        "replications": str(item.replications),
        "awards": "; ".join(f"{a.competition.value} {a.year} {a.tier.value}" for a in item.awards),
        "tags": "; ".join(item.tags),
        "evidence_urls": " ".join(item.evidence_urls),
        "summary": item.summary,
        "created_at": item.created_at.isoformat(),
        "updated_at": item.updated_at.isoformat(),
    }
    return [neutralise(values[c]) for c in COLUMNS]


def _render(rows: Iterable[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


async def csv_chunks(
    items: AsyncIterator[InnovationRead], batch: int = 200
) -> AsyncIterator[bytes]:
    """UTF-8 CSV (with BOM, so spreadsheets detect the encoding), a header row first."""
    yield ("\ufeff" + _render([list(COLUMNS)])).encode()
    pending: list[list[str]] = []
    async for item in items:
        pending.append(row_of(item))
        if len(pending) >= batch:
            yield _render(pending).encode()
            pending = []
    if pending:
        yield _render(pending).encode()
