"""Engines, sessions and migrations for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

import logging
import os
from functools import cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool
from sqlmodel.ext.asyncio.session import AsyncSession

logger = logging.getLogger(__name__)

# A checkout keeps migrations beside the package; an image says where with COE_MIGRATIONS_DIR.
MIGRATIONS_DIR = Path(
    os.environ.get("COE_MIGRATIONS_DIR") or Path(__file__).resolve().parent.parent / "migrations"
)
SQLITE_BUSY_TIMEOUT_MS = 5000

Sessions = async_sessionmaker[AsyncSession]


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine; SQLite gets WAL, a busy timeout and foreign keys on every connection."""
    if is_sqlite(url):
        engine = create_async_engine(
            url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_timeout", 5)
    kwargs.setdefault("connect_args", {"timeout": 5})
    return create_async_engine(url, **kwargs)


def create_null_pool_engine(url: str) -> AsyncEngine:
    return (
        create_engine(url, poolclass=NullPool)
        if is_sqlite(url)
        else create_async_engine(url, poolclass=NullPool, connect_args={"timeout": 5})
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA secure_delete=ON")  # replaced rows (sealed survey keys) are zeroed
    cursor.close()


def make_sessions(engine: AsyncEngine) -> Sessions:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["configure_logging"] = False
    return cfg


def migrate(url: str, revision: str = "head") -> None:
    """Apply migrations. Synchronous: call it where no event loop runs (or in a thread)."""
    if is_sqlite(url):
        _ensure_sqlite_dir(url)
    command.upgrade(alembic_config(url), revision)


def _ensure_sqlite_dir(url: str) -> None:
    path = url.split("///", 1)[-1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)


@cache
def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:
        return await conn.run_sync(
            lambda sync_conn: MigrationContext.configure(sync_conn).get_current_revision()
        )


class SchemaError(Exception):
    """The database cannot be used as it is: unreachable, or its schema is not at head."""


def prepare(url: str) -> None:
    """Before a command uses the database: SQLite (embedded, one process) is migrated to
    head; any other database is only checked, since migrating it is an operator's step
    (`coe-bot migrate`). Raises `SchemaError` with one line saying what to do."""
    if is_sqlite(url):
        migrate(url)
        return
    import asyncio

    async def read() -> str | None:
        engine = create_null_pool_engine(url)
        try:
            return await current_revision(engine)
        finally:
            await engine.dispose()

    try:
        revision = asyncio.run(read())
    except Exception as error:  # any driver error: say which database, not the traceback
        raise SchemaError(
            f"cannot reach the database at {safe_url(url)} ({type(error).__name__}: "
            f"{str(error).splitlines()[0][:160] if str(error) else 'no detail'})"
        ) from None
    if revision != head_revision():
        what = "has no schema" if revision is None else f"has an old schema ({revision})"
        raise SchemaError(
            f"the database at {safe_url(url)} {what}: run `coe-bot migrate` "
            f"(head is {head_revision()})"
        )


def safe_url(url: str) -> str:
    """A database URL without its password, for messages."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    credentials, host = rest.rsplit("@", 1)
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}@{host}"


async def is_ready(engine: AsyncEngine) -> tuple[bool, str]:
    """Readiness: the database answers and its schema is at the migrations' head."""
    try:
        revision = await current_revision(engine)
    except Exception as exc:  # any driver error means "not ready"
        logger.warning("readiness check failed: %s", type(exc).__name__)
        return False, "database unreachable"
    if revision != head_revision():
        return False, f"database schema at {revision or 'nothing'}, expected {head_revision()}"
    return True, "ok"


def insert_for(session: AsyncSession, model: type[Any]) -> Any:
    """The dialect's INSERT, which has `on_conflict_do_nothing` on both back ends."""
    dialect = session.get_bind().dialect.name
    return (postgresql if dialect == "postgresql" else sqlite).insert(model)


async def vacuum(engine: AsyncEngine, *tables: str) -> bool:
    """After rows were rewritten to forget something (a sealed survey run's keys and order):
    PostgreSQL VACUUMs `tables`, so the replaced row versions are no longer rows; SQLite
    (whose `secure_delete` zeroes freed pages) checkpoints and truncates its WAL file, which
    still held the pages as they were. False when SQLite could not truncate yet (a reader
    holds an older snapshot): call again later. Not PostgreSQL's WAL, the bytes VACUUM frees
    without zeroing (readable to a superuser), nor backups: see docs/architecture.md."""
    async with engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        if engine.dialect.name == "postgresql":
            for table in tables:
                await autocommit.exec_driver_sql(f"VACUUM {table}")
            return True
        busy, *_ = (await autocommit.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")).one()
        return int(busy) == 0
