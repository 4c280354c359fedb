"""The `inovasi` command: serve, migrate, seed and manage API keys.

Every command reads DATABASE_URL; without it, it starts the embedded PostgreSQL under .data/.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from app.core.config import get_settings
from app.core.embedded import resolve_database_url
from app.core.errors import ProblemError
from app.core.security import Role

T = TypeVar("T")
ROOT = Path(__file__).resolve().parent.parent


def _project_dir() -> Path:
    """Where alembic.ini lives: the checkout, or the working directory of an installed app."""
    for candidate in (ROOT, Path.cwd()):
        if (candidate / "alembic.ini").is_file():
            return candidate
    raise SystemExit("alembic.ini not found: run from the project directory")


def database_url() -> URL:
    settings = get_settings()
    return resolve_database_url(settings.database_url, settings.data_dir)


def run_in_session(url: URL, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in one committed transaction."""

    async def main() -> T:
        engine = create_async_engine(url)
        try:
            async with async_sessionmaker(engine, expire_on_commit=False)() as session:
                async with session.begin():
                    return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(main())


def migrate(url: URL) -> None:
    from alembic.config import Config

    from alembic import command

    root = _project_dir()
    config = Config(str(root / "alembic.ini"))
    config.set_main_option("script_location", str(root / "alembic"))
    config.set_main_option(
        "sqlalchemy.url", url.render_as_string(hide_password=False).replace("%", "%%")
    )
    command.upgrade(config, "head")


def seed_regions(url: URL) -> int:
    from app.regions.service import seed_regions as seed

    return run_in_session(url, seed)


def seed_demo(url: URL) -> dict[str, int]:
    """Load the demo data set (and the regions it needs); running it again changes nothing."""
    from app.demo.service import load_demo
    from app.regions.service import seed_regions as regions

    async def work(session: AsyncSession) -> dict[str, int]:
        await regions(session)
        return dict(await load_demo(session))

    return run_in_session(url, work)


def _report_demo(created: dict[str, int]) -> None:
    if not any(created.values()):
        print("demo data: already loaded, nothing to add", file=sys.stderr)
        return
    counts = ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in created.items() if n)
    print(f"demo data loaded: {counts}", file=sys.stderr)


def create_key(
    url: URL, name: str, role: Role, province: str | None, institution: uuid.UUID | None = None
) -> str:
    from app.core.keys import create_key as create

    async def work(session: AsyncSession) -> str:
        key, plaintext = await create(
            session, name=name, role=role, province_code=province, institution_id=institution
        )
        print(f"id: {key.id}\nname: {key.name}\nrole: {key.role}", file=sys.stderr)
        return plaintext

    return run_in_session(url, work)


def serve(host: str, port: int, workers: int) -> None:
    import signal

    import uvicorn

    # uvicorn shuts down gracefully on SIGTERM, then re-raises it with the handler it found:
    # make that an orderly exit, so at-exit clean-up (stopping the embedded PostgreSQL) runs.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))

    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        access_log=False,
        proxy_headers=False,
        timeout_graceful_shutdown=20,
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="inovasi", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    for name, help_text in (
        ("serve", "serve the API"),
        (
            "dev",
            "migrate, load the regions and the demo data, print an admin key and serve "
            "(what `make run` does)",
        ),
    ):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("--host", default="127.0.0.1")
        p.add_argument("--port", type=int, default=8000)
        p.add_argument("--workers", type=int, default=1)

    sub.add_parser("migrate", help="apply database migrations")
    seed = sub.add_parser("seed", help="load reference or demo data")
    seed.add_argument(
        "what",
        choices=["regions", "demo"],
        help="regions: Kemendagri regions; demo: the demo data set (marked as demo data)",
    )

    keys = sub.add_parser("keys", help="manage API keys")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    create = keys_sub.add_parser("create", help="issue a key (printed once, on the last line)")
    create.add_argument("--name", required=True)
    create.add_argument("--role", required=True, choices=[r.value for r in Role])
    create.add_argument("--province", default=None, help="province code, for scoped roles")
    create.add_argument(
        "--institution",
        type=uuid.UUID,
        default=None,
        help="institution id, for submitter keys (it and the institutions under it)",
    )
    keys_sub.add_parser("list", help="list keys (never their secrets)")
    revoke = keys_sub.add_parser("revoke", help="revoke a key")
    revoke.add_argument("id", type=uuid.UUID)

    webhooks = sub.add_parser("webhooks", help="outbound webhooks")
    webhooks_sub = webhooks.add_subparsers(dest="webhooks_command", required=True)
    webhooks_sub.add_parser(
        "work",
        help="deliver webhooks until SIGTERM or SIGINT (as `inovasi serve` does in each "
        "worker; run as many as needed)",
    )
    summaries = sub.add_parser("summaries", help="the dashboards' kept tallies")
    summaries_sub = summaries.add_subparsers(dest="summaries_command", required=True)
    summaries_sub.add_parser(
        "check", help="compare every kept figure with a recomputation from the base tables"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _dispatch(args)
    except ProblemError as exc:
        print(f"error: {exc.detail}", file=sys.stderr)
        return 2


def _dispatch(args: argparse.Namespace) -> int:
    url = database_url()
    if args.command == "serve":
        serve(args.host, args.port, args.workers)
    elif args.command == "dev":
        migrate(url)
        count = seed_regions(url)
        print(f"{count} regions loaded.", file=sys.stderr)
        _report_demo(seed_demo(url))
        plaintext = create_key(url, "make run admin", Role.admin, None)
        print(
            f"\nAdmin key (shown once): {plaintext}\n"
            f"Swagger UI: http://{args.host}:{args.port}/docs  (press Authorize, paste the key)\n",
            file=sys.stderr,
            flush=True,
        )
        serve(args.host, args.port, args.workers)
    elif args.command == "migrate":
        migrate(url)
        print("migrated to head", file=sys.stderr)
    elif args.command == "seed" and args.what == "demo":
        _report_demo(seed_demo(url))
    elif args.command == "seed":
        print(f"{seed_regions(url)} regions loaded", file=sys.stderr)
    elif args.command == "keys":
        return _keys(args, url)
    elif args.command == "webhooks":
        work_webhooks(url)
    elif args.command == "summaries":
        return check_summaries(url)
    return 0


def check_summaries(url: URL) -> int:
    """Exit 1 and name the figures whose kept value is not what the base tables give."""
    from app.stats.recompute import differences

    wrong = run_in_session(url, differences)
    for name in wrong:
        print(f"differs: {name}", file=sys.stderr)
    print("summaries: exact" if not wrong else f"summaries: {len(wrong)} differ", file=sys.stderr)
    return 1 if wrong else 0


def work_webhooks(url: URL) -> None:
    """Run a webhook dispatcher until SIGTERM or SIGINT; deliveries in flight get a few
    seconds to finish, the rest are sent again by another dispatcher or the next run."""
    import signal

    from app.core.logging import configure_logging
    from app.webhooks.dispatcher import Running

    settings = get_settings()
    configure_logging(settings.log_level, json=settings.log_json)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        running = Running(url, settings)
        print("delivering webhooks (SIGTERM or Ctrl-C to stop)", file=sys.stderr, flush=True)
        try:
            await stop.wait()
        finally:
            await running.stop()

    asyncio.run(main())


def _keys(args: argparse.Namespace, url: URL) -> int:
    from app.core import keys

    if args.keys_command == "create":
        print(create_key(url, args.name, Role(args.role), args.province, args.institution))
    elif args.keys_command == "list":
        rows = run_in_session(url, keys.list_keys)
        for k in rows:
            state = "revoked" if k.revoked_at else "active"
            last = k.last_used_at.isoformat() if k.last_used_at else "never"
            print(
                f"{k.id}  {k.prefix}…  {k.role:<11} {k.province_code or '-':<3} "
                f"{state:<8} last used {last}  {k.name}"
            )
    elif args.keys_command == "revoke":

        async def work(session: AsyncSession) -> None:
            await keys.revoke_key(session, args.id)

        run_in_session(url, work)
        print(f"revoked {args.id}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
