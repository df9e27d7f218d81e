"""The ``mailtab`` command: serve, worker, migrate, token, export-schema, rotate-key."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

from config import ConfigError, Settings, load_settings

if TYPE_CHECKING:
    from services.secrets import KeyCheck

__all__ = ["main"]

log = logging.getLogger("mailtab")
T = TypeVar("T")


class Fatal(Exception):
    """A failure the operator can act on; printed as one line, exit code 1."""


def _with_orm(settings: Settings, work: Callable[[], Awaitable[T]]) -> T:
    """Run ``work`` with the ORM connected to the configured database."""
    _check_database_file(settings)

    async def run() -> T:
        from tortoise import Tortoise

        from models.db import check_connection, tortoise_config

        await Tortoise.init(
            config=tortoise_config(settings.db_url, pool_timeout=settings.db_timeout)
        )
        try:
            await check_connection()
            return await work()
        finally:
            await Tortoise.close_connections()

    return _run(run(), settings)


def _run(coro: Awaitable[T], settings: Settings) -> T:
    """Run ``coro``; a database failure becomes one line with the advice that fits it."""
    from models.db import is_missing_database, is_unmigrated

    try:
        return asyncio.run(coro)  # type: ignore[arg-type]
    except Exception as exc:
        from tortoise.exceptions import BaseORMException

        if is_missing_database(exc):
            raise Fatal(
                f"{_database_name(settings)} does not exist: create it, then run `mailtab migrate`"
            ) from None
        if is_unmigrated(exc):
            raise Fatal(
                f"the database lacks migrations: run `mailtab migrate` first ({exc})"
            ) from None
        if isinstance(exc, OSError | TimeoutError):
            raise Fatal(f"database unreachable: {exc.__class__.__name__}: {exc}") from None
        if isinstance(exc, BaseORMException):
            raise Fatal(f"database error: {exc}") from None
        raise


def _database_name(settings: Settings) -> str:
    """ "database NAME on HOST:PORT", never the URL (it may hold the password)."""
    from tortoise.backends.base.config_generator import expand_db_url

    credentials = expand_db_url(settings.db_url)["credentials"]
    return (
        f"the database {credentials.get('database')!r} on "
        f"{credentials.get('host')}:{credentials.get('port')}"
    )


def _check_database_file(settings: Settings) -> None:
    """One line naming the path when the SQLite file cannot be used (Tortoise would hang)."""
    from models.db import DatabaseFileError, check_sqlite_file

    try:
        # The default file is the service's own: it is kept readable by its owner only.
        narrowed = check_sqlite_file(settings.db_url, owner_only=not settings.database_url)
    except DatabaseFileError as exc:
        raise Fatal(str(exc)) from None
    for path in narrowed:
        log.warning("made %s readable by its owner only (it holds the stored passwords)", path)


def prepare_database(settings: Settings) -> None:
    """Create the data folder and migrate the embedded SQLite database."""
    from models.db import migrate_database

    if settings.embedded and not settings.database_url:
        settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    _check_database_file(settings)
    _run(migrate_database(settings.db_url), settings)


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    prepare_database(settings)
    print("migrations applied")
    return 0


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from models.db import pending_migrations, tortoise_config
    from services.errors import KeyLost
    from services.secrets import check_stored_passwords, load_password_box
    from services.tokens import ensure_first_token
    from web.logs import configure_logging, logging_config
    from web.protocol import HeaderTimeoutProtocol

    configure_logging(settings)
    if args.workers > 1 and settings.redis_url is None:
        log.warning(
            "--workers %d without MAILTAB_REDIS_URL: each worker keeps its own test-letter "
            "rate limit, so a token may send %d × %s; set MAILTAB_REDIS_URL to share one",
            args.workers,
            args.workers,
            settings.test_email_rate_limit,
        )
    if settings.embedded:
        prepare_database(settings)
    try:
        # Before the workers start, so that they all read one key file instead of racing to
        # make it; and never a new key while stored passwords need the old one.
        box = load_password_box(settings)
    except KeyLost as exc:
        raise Fatal(str(exc)) from None

    async def first_start() -> str | None:
        config = tortoise_config(settings.db_url)
        # The embedded database was migrated just above: nothing can be pending there.
        pending = [] if settings.embedded else await pending_migrations(config["apps"])
        if pending:
            raise Fatal(
                f"the database lacks migrations {', '.join(pending)}: run `mailtab migrate` first"
            )
        _warn_about_unreadable_passwords(settings, await check_stored_passwords(box))
        return await ensure_first_token()

    token = _with_orm(settings, first_start)
    if token is not None:
        print(
            "First start: an admin token was created. It is shown only this once;\n"
            "use it in GraphiQL as the header  Authorization: Bearer <token>\n"
            f"{token}",
            flush=True,
        )
    uvicorn.run(
        "app:app_from_environment",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        # uvicorn's h11 protocol, with a time limit on request heads that it lacks itself.
        http=HeaderTimeoutProtocol,
        timeout_keep_alive=settings.keep_alive_timeout,
        limit_concurrency=settings.max_connections,
        log_level=settings.log_level.lower(),
        # One format for uvicorn's lines and ours (text or JSON); mailtab writes the access line.
        log_config=logging_config(settings),
        access_log=False,
        # In-flight operations end within their time budget (504 past it); this leaves them
        # time to answer before the lifespan closes the database pool.
        timeout_graceful_shutdown=int(settings.operation_timeout) + 2,
    )
    return 0


def cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    """Deliver notifications until SIGTERM/SIGINT: the letter in flight is finished first."""
    from services.errors import KeyLost
    from services.runtime import build_runtime
    from web.logs import configure_logging

    configure_logging(settings)
    if settings.embedded:
        prepare_database(settings)
    try:
        runtime = build_runtime(settings)
    except KeyLost as exc:
        raise Fatal(str(exc)) from None

    async def work() -> None:
        import signal

        from notifications.worker import Worker

        worker = Worker(settings=settings, presets=runtime.presets, box=runtime.box, oauth=runtime)
        if args.once:
            while await worker.run_once():
                pass
            return
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, worker.stop)
        await worker.run()

    _with_orm(settings, work)
    return 0


def _warn_about_unreadable_passwords(settings: Settings, check: KeyCheck) -> None:
    """One loud line when the configured keys do not open the stored passwords."""
    from services.secrets import key_file_path

    if not check.unreadable:
        return
    keys = "MAILTAB_SECRET_KEY" if settings.fernet_keys() else str(key_file_path(settings))
    counted = (
        f"{check.unreadable} of {check.stored}"
        if check.checked == check.stored
        else f"at least {check.unreadable} (of the {check.checked} most recent) of {check.stored}"
    )
    log.warning(
        "%s stored passwords cannot be decrypted with the keys of %s: was the key changed? "
        "Put the old key back (after the new one, to keep both), or enter those accounts' "
        "passwords again; until then their test letters fail with PASSWORD_REQUIRED",
        counted,
        keys,
    )


def cmd_token_create(settings: Settings, args: argparse.Namespace) -> int:
    from models import Role
    from services.errors import TokenNameTaken
    from services.tokens import create_token

    wanted: str | None = None
    if args.name is not None:
        wanted = args.name.strip()
        if not wanted or len(wanted) > 100 or not wanted.isprintable():
            raise Fatal("--name: 1 to 100 printable characters, no line breaks")

    async def work() -> tuple[str, str]:
        try:
            record, token = await create_token(name=wanted, role=Role(args.role))
        except TokenNameTaken as exc:
            raise Fatal(
                f"a live token is already named {exc.args[0]!r}: choose another --name "
                "or revoke that one first"
            ) from None
        return record.name, token

    name, token = _with_orm(settings, work)
    article = "an" if args.role == "admin" else "a"
    print(f"Created {article} {args.role} token named {name!r}. It is shown only once:")
    print(token)
    return 0


def cmd_token_list(settings: Settings, args: argparse.Namespace) -> int:
    from models import ApiToken

    async def work() -> list[ApiToken]:
        return await ApiToken.all().order_by("id")

    for record in _with_orm(settings, work):
        state = "revoked" if record.revoked_at else "active"
        created = f"{record.created_at:%Y-%m-%d %H:%M}"
        print(f"{record.id}\t{record.role}\t{state}\t{created}\t{record.name}")
    return 0


def cmd_token_revoke(settings: Settings, args: argparse.Namespace) -> int:
    from services.tokens import revoke_token

    redis_url = settings.redis_url.get_secret_value() if settings.redis_url else None
    count = _with_orm(settings, lambda: revoke_token(args.name, redis_url=redis_url))
    print(f"revoked {count} token(s) named {args.name!r}")
    return 0 if count else 1


def cmd_generate_key(settings: Settings | None, args: argparse.Namespace) -> int:
    from cryptography.fernet import Fernet

    print(Fernet.generate_key().decode("ascii"))
    return 0


def cmd_rotate_key(settings: Settings, args: argparse.Namespace) -> int:
    from services import secrets

    if not settings.fernet_keys():
        path = secrets.add_key_to_file(settings)
        print(f"a new key was put first in {path}; older keys stay there to decrypt")
    box = secrets.load_password_box(settings, create=False)
    rotated, unreadable = _with_orm(settings, lambda: secrets.rotate(box))
    print(f"re-encrypted {rotated} password(s) under the newest key")
    connections, unreadable_tokens = _with_orm(settings, lambda: secrets.rotate_oauth_tokens(box))
    print(f"re-encrypted the tokens of {connections} OAuth2 connection(s) under the newest key")
    if unreadable_tokens:
        print(
            f"{unreadable_tokens} OAuth2 connection(s) could not be decrypted with any configured "
            "key; they were left as they are (connect those mailboxes again)",
            file=sys.stderr,
        )
    if unreadable:
        print(
            f"{unreadable} password(s) could not be decrypted with any configured key; "
            "they were left as they are (save those accounts again with their password)",
            file=sys.stderr,
        )
        return 1
    return 0


def cmd_export_schema(settings: Settings | None, args: argparse.Namespace) -> int:
    from schema.root import export_sdl

    sys.stdout.write(export_sdl())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mailtab", description="GraphQL service of the ERP's Mail (Почта) setup tab."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="start the HTTP server (GraphiQL at /graphql)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(handler=cmd_serve)

    worker = commands.add_parser(
        "worker", help="deliver queued notifications (several may share one PostgreSQL database)"
    )
    worker.add_argument(
        "--once", action="store_true", help="send what is due now, then exit (for cron and tests)"
    )
    worker.set_defaults(handler=cmd_worker)

    commands.add_parser("migrate", help="apply database migrations").set_defaults(
        handler=cmd_migrate
    )

    token = commands.add_parser("token", help="manage API tokens")
    token_commands = token.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    create = token_commands.add_parser("create", help="create a token; printed once, last line")
    create.add_argument("--role", choices=["admin", "viewer", "sender"], required=True)
    create.add_argument("--name", default=None, help="a label, e.g. who uses it")
    create.set_defaults(handler=cmd_token_create)
    token_commands.add_parser(
        "list", help="list tokens (never the tokens themselves)"
    ).set_defaults(handler=cmd_token_list)
    revoke = token_commands.add_parser("revoke", help="revoke the tokens with a name")
    revoke.add_argument("name")
    revoke.set_defaults(handler=cmd_token_revoke)

    commands.add_parser(
        "generate-key", help="print a new Fernet key for MAILTAB_SECRET_KEY"
    ).set_defaults(handler=cmd_generate_key, needs_settings=False)
    commands.add_parser(
        "rotate-key",
        help="re-encrypt stored passwords under the newest key "
        "(with the embedded key file: add a new key to it first)",
    ).set_defaults(handler=cmd_rotate_key)

    commands.add_parser("export-schema", help="print the GraphQL SDL").set_defaults(
        handler=cmd_export_schema, needs_settings=False
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Callable[[Settings | None, argparse.Namespace], int] = args.handler
    try:
        settings = load_settings() if getattr(args, "needs_settings", True) else None
        return handler(settings, args)
    except ConfigError as exc:
        print(f"mailtab: configuration error: {exc}", file=sys.stderr)
        return 2
    except Fatal as exc:
        print(f"mailtab: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # the data folder or key file cannot be created or read
        where = f": {exc.filename}" if exc.filename else ""
        print(f"mailtab: {exc.strerror or exc.__class__.__name__}{where}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
