"""Search (`q`): Indonesian stemming, partial names and acronyms, relevance order and pages."""

from __future__ import annotations

import csv
import io
import uuid

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.innovation import Innovation
from app.models.institution import Institution
from tests.builders import make_innovation, make_institution
from tests.conftest import problem
from tests.innovations._api import URL, Headers, ids, walk, walked_ids


@pytest.fixture
async def institution(session: AsyncSession) -> Institution:
    return await make_institution(session, name="Dinas Lingkungan Hidup", region_code="32.04")


async def search(client: httpx.AsyncClient, q: str, **params: str) -> list[str]:
    return ids(await client.get(URL, params={"q": q, **params}))


async def test_two_words_find_the_title_that_holds_them(
    client: httpx.AsyncClient, session: AsyncSession, institution: Institution
) -> None:
    plastik = await make_innovation(
        session, institution=institution, title="Bandung Anti Kantong Plastik"
    )
    await make_innovation(session, institution=institution, title="Kantong Darah Digital")
    await make_innovation(session, institution=institution, title="Daur Ulang Botol Plastik")

    assert await search(client, "kantong plastik") == [str(plastik.id)]


async def test_inflected_query_matches_a_document_through_its_stem(
    client: httpx.AsyncClient, session: AsyncSession, institution: Institution
) -> None:
    stems = await session.scalar(
        text("SELECT to_tsvector('indonesian', 'penggunaan menggunakan')::text")
    )
    assert stems == "'guna':1,2"  # both words reduce to the stem "guna"
    antrean = await make_innovation(
        session,
        institution=institution,
        title="Sistem Antrean Puskesmas",
        summary="Warga menggunakan telepon untuk mengambil nomor antrean.",
    )
    await make_innovation(
        session,
        institution=institution,
        title="Sistem Antrean Rumah Sakit",
        summary="Warga mengambil nomor antrean di loket.",
    )
    assert "penggunaan" not in f"{antrean.title} {antrean.summary}".lower()

    assert await search(client, "penggunaan") == [str(antrean.id)]


async def test_stemmed_match_reaches_problem_and_approach(
    client: httpx.AsyncClient, session: AsyncSession, institution: Institution
) -> None:
    found = await make_innovation(
        session,
        institution=institution,
        title="Pasar Bersih",
        problem="Sampah pasar menumpuk.",
        approach="Pedagang menggunakan tas kain.",
    )

    assert await search(client, "penggunaan") == [str(found.id)]


async def test_acronym_prefix_finds_pikobar(
    client: httpx.AsyncClient, session: AsyncSession, institution: Institution
) -> None:
    pikobar = await make_innovation(session, institution=institution, title="PIKOBAR")
    await make_innovation(session, institution=institution, title="Ekosistem Data")

    assert await search(client, "pikob") == [str(pikobar.id)]


async def test_hyphenated_lower_case_query_finds_e_open(
    client: httpx.AsyncClient, session: AsyncSession, institution: Institution
) -> None:
    e_open = await make_innovation(session, institution=institution, title="e-OPen")
    await make_innovation(session, institution=institution, title="Open Data Kota")

    assert await search(client, "e-open") == [str(e_open.id)]


async def test_two_words_find_menyeting_gigi_emas(
    client: httpx.AsyncClient, session: AsyncSession, institution: Institution
) -> None:
    gigi = await make_innovation(session, institution=institution, title="Menyeting Gigi Emas")
    await make_innovation(session, institution=institution, title="Emas Hijau Pertanian")
    await make_innovation(session, institution=institution, title="Klinik Gigi Keliling")

    assert await search(client, "gigi emas") == [str(gigi.id)]


async def test_like_wildcards_in_the_query_are_literal(
    client: httpx.AsyncClient, session: AsyncSession, institution: Institution
) -> None:
    await make_innovation(session, institution=institution, title="Layanan Satu Pintu")
    underscored = await make_innovation(session, institution=institution, title="e_KTP Keliling")

    assert await search(client, "%") == []
    assert await search(client, "_") == [str(underscored.id)]


async def test_a_title_match_ranks_above_a_summary_only_match(
    client: httpx.AsyncClient, session: AsyncSession, institution: Institution
) -> None:
    # Inserted first so that the id tie-break alone would not explain the order.
    in_summary = await make_innovation(
        session,
        institution=institution,
        title="Pasar Tanpa Sampah",
        summary="Pedagang dilarang memberi kantong plastik.",
    )
    in_title = await make_innovation(
        session, institution=institution, title="Bandung Anti Kantong Plastik"
    )

    assert await search(client, "kantong plastik") == [str(in_title.id), str(in_summary.id)]
    assert await search(client, "kantong plastik", sort="relevance") == [
        str(in_title.id),
        str(in_summary.id),
    ]


async def test_search_sorted_by_title_keeps_the_matches_only(
    client: httpx.AsyncClient, session: AsyncSession, institution: Institution
) -> None:
    b = await make_innovation(session, institution=institution, title="Bank Sampah Digital")
    a = await make_innovation(
        session, institution=institution, title="Angkut Sampah", summary="bank sampah warga"
    )
    await make_innovation(session, institution=institution, title="Bank Darah")

    assert await search(client, "bank sampah", sort="title") == [str(a.id), str(b.id)]


async def test_search_hides_drafts_from_anonymous_clients(
    client: httpx.AsyncClient, session: AsyncSession, institution: Institution, admin: Headers
) -> None:
    draft = await make_innovation(session, institution=institution, title="PIKOBAR", status="draft")

    assert await search(client, "pikobar") == []
    assert ids(await client.get(URL, params={"q": "pikobar"}, headers=admin)) == [str(draft.id)]


async def test_search_combines_with_filters(
    client: httpx.AsyncClient, session: AsyncSession, institution: Institution
) -> None:
    other = await make_institution(session, kind="city_government", region_code="61.71")
    jabar = await make_innovation(session, institution=institution, title="Ekosistem Data")
    await make_innovation(session, institution=other, title="Ekosistem Data Pontianak")

    assert await search(client, "ekosistem data", province="32") == [str(jabar.id)]


async def test_sort_by_relevance_without_a_query_is_422(client: httpx.AsyncClient) -> None:
    body = problem(await client.get(URL, params={"sort": "relevance"}), 422)

    assert body["errors"][0]["pointer"] == "/query/sort"


@pytest.mark.parametrize("q", ["", "x" * 201, "a\x00b"])
async def test_invalid_query_is_422(client: httpx.AsyncClient, q: str) -> None:
    body = problem(await client.get(URL, params={"q": q}), 422)

    assert body["errors"][0]["pointer"] == "/query/q"


# --- Relevance pages ----------------------------------------------------------------------


@pytest.fixture
async def ranked(session: AsyncSession, institution: Institution) -> list[Innovation]:
    """Ten matches for "bank sampah" in three tiers of relevance, tied within each tier;
    in the expected order (relevance descending, then id descending)."""

    async def tier(count: int, title: str, summary: str) -> list[Innovation]:
        rows = [
            await make_innovation(session, institution=institution, title=title, summary=summary)
            for _ in range(count)
        ]
        return sorted(rows, key=lambda r: r.id, reverse=True)

    best = await tier(2, "Bank Sampah", "Bank sampah di setiap kelurahan.")
    title_only = await tier(4, "Bank Sampah Digital", "")
    summary_only = await tier(4, "Tabungan Warga", "Menabung di bank sampah.")
    await make_innovation(session, institution=institution, title="Bank Darah Digital")
    return best + title_only + summary_only


async def test_relevance_is_the_default_order_with_a_query(
    client: httpx.AsyncClient, ranked: list[Innovation]
) -> None:
    assert await search(client, "bank sampah") == [str(r.id) for r in ranked]


@pytest.mark.parametrize("limit", [1, 2, 3])
async def test_relevance_pages_see_every_match_once_in_order(
    client: httpx.AsyncClient, ranked: list[Innovation], limit: int
) -> None:
    pages = await walk(client, {"q": "bank sampah", "include_total": "true"}, limit=limit)

    assert walked_ids(pages) == [str(r.id) for r in ranked]
    assert {p["total"] for p in pages} == {10}


async def test_relevance_cursor_is_bound_to_its_query(
    client: httpx.AsyncClient, ranked: list[Innovation]
) -> None:
    cursor = (await client.get(URL, params={"q": "bank sampah", "limit": 2})).json()["next_cursor"]

    r = await client.get(URL, params={"q": "sampah", "limit": 2, "cursor": cursor})

    assert problem(r, 400)["code"] == "invalid_cursor"


async def test_search_vector_follows_a_title_change(
    client: httpx.AsyncClient, session: AsyncSession, institution: Institution, admin: Headers
) -> None:
    innovation = await make_innovation(session, institution=institution, title="Layanan Lama")

    r = await client.patch(
        f"{URL}/{innovation.id}",
        json={"title": "Menyeting Gigi Emas"},
        headers=admin | {"If-Match": '"1"'},
    )

    assert r.status_code == 200, r.text
    assert await search(client, "gigi emas") == [str(innovation.id)]
    assert await search(client, "lama") == []
    assert uuid.UUID(r.json()["id"]) == innovation.id


async def test_a_partial_word_matches_the_title_in_either_case_and_follows_its_change(
    client: httpx.AsyncClient, session: AsyncSession, institution: Institution, admin: Headers
) -> None:
    # Partial words reach only the title pattern (no full-text lexeme starts with them), which
    # is tested against the stored lower-case title: it must fold both sides and follow edits.
    innovation = await make_innovation(session, institution=institution, title="SiPeKaDu Kota")
    await make_innovation(session, institution=institution, title="Ekosistem Data")

    assert await search(client, "ipekad") == [str(innovation.id)]
    assert await search(client, "IPEKAD") == [str(innovation.id)]

    r = await client.patch(
        f"{URL}/{innovation.id}",
        json={"title": "Jemput BOLA Kependudukan"},
        headers=admin | {"If-Match": '"1"'},
    )

    assert r.status_code == 200, r.text
    assert await search(client, "ipekad") == []
    assert await search(client, "mput bol") == [str(innovation.id)]
    assert await search(client, "mput bol", sort="title") == [str(innovation.id)]


@pytest.mark.parametrize("q", ["kantong & | !", "'", ":*", "\\", '"lorem', "(((", "-"])
async def test_query_syntax_characters_are_searched_not_parsed(
    client: httpx.AsyncClient, session: AsyncSession, institution: Institution, q: str
) -> None:
    await make_innovation(session, institution=institution, title="Menyeting Gigi Emas")

    r = await client.get(URL, params={"q": q})

    assert r.status_code == 200, r.text
    assert r.json()["items"] == []


# --- Relevance ranks the most replicated matches ------------------------------------------


@pytest.fixture
async def popular(session: AsyncSession, institution: Institution) -> list[Innovation]:
    """Five matches for "bank sampah", replicated 5, 4, 3, 2 and 1 times; the less
    replicated, the better the match (a title match beats a summary-only one)."""
    rows = []
    for replications, title, summary in (
        (5, "Tabungan Warga", "Menabung di bank sampah."),
        (4, "Tabungan Sekolah", "Menabung di bank sampah."),
        (3, "Bank Sampah Digital", ""),
        (2, "Bank Sampah", "Bank sampah di setiap kelurahan."),
        (1, "Bank Sampah", "Bank sampah di setiap kelurahan, bank sampah induk."),
    ):
        rows.append(
            await make_innovation(
                session,
                institution=institution,
                title=title,
                summary=summary,
                replication_count=replications,
            )
        )
    return rows


async def test_relevance_ranks_only_the_most_replicated_matches(
    client: httpx.AsyncClient, popular: list[Innovation], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("app.innovations.repository.RANKED_MATCHES", 3)
    top3 = {str(r.id) for r in popular[:3]}

    pages = await walk(client, {"q": "bank sampah", "include_total": "true"}, limit=2)
    found = walked_ids(pages)

    # The three most replicated, and the title match first among them.
    assert set(found) == top3
    assert found[0] == str(popular[2].id)
    # `total` still counts every match; another sort lists every one.
    assert {p["total"] for p in pages} == {5}
    by_replications = await search(client, "bank sampah", sort="-replications")
    assert by_replications == [str(r.id) for r in popular]


async def test_without_the_bound_relevance_ranks_every_match(
    client: httpx.AsyncClient, popular: list[Innovation]
) -> None:
    found = await search(client, "bank sampah")

    assert len(found) == 5
    assert set(found[:2]) == {str(popular[3].id), str(popular[4].id)}


async def test_the_export_ranks_every_match(
    client: httpx.AsyncClient, popular: list[Innovation], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("app.innovations.repository.RANKED_MATCHES", 3)

    r = await client.get(f"{URL}/export.csv", params={"q": "bank sampah"})

    assert r.status_code == 200
    exported = [row["id"] for row in csv.DictReader(io.StringIO(r.content.decode("utf-8-sig")))]
    assert sorted(exported) == sorted(str(p.id) for p in popular)
