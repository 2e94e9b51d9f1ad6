"""Fixtures: a real database (SQLite file or PostgreSQL), the Slack stand-in, the real app.

`TEST_DATABASE_URL` selects PostgreSQL; a run that asks for it and cannot reach it fails
at once instead of skipping. The schema is created by the Alembic migrations, once per
session; every test starts from empty tables.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel

from bot import db
from bot.app import DEPS, create_app
from bot.config import Settings
from bot.deps import Deps
from bot.standin import FakeSlack, SlackSender

SIGNING_SECRET = "test-signing-secret"
SURVEY_SECRET = "test-survey-secret-of-at-least-32-bytes"
# Every table the models declare, children first: a new table is emptied between tests
# without anyone remembering to list it.
TABLES = tuple(table.name for table in reversed(SQLModel.metadata.sorted_tables))


class Clock:
    """A clock the tests move by hand; nothing in the suite sleeps to pass time."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


async def _check_postgres(url: str) -> None:
    engine = create_async_engine(url, connect_args={"timeout": 5})
    try:
        async with engine.connect() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
            await conn.commit()
    finally:
        await engine.dispose()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The PostgreSQL pass (TEST_DATABASE_URL) skips the tests that never touch the database
    under test (no `database_url` among their fixtures: pure functions, the command line on
    its own SQLite file, the stand-in): they ran, identically, in the SQLite pass of CI.

    `COE_DB_FREE_SHARE=N` (set by `.ci/run` for both passes, which run side by side) gives
    every N-th of those tests (by a hash of its id) to the PostgreSQL pass and the rest to
    the SQLite pass, so the two end closer together; each runs once either way."""
    postgres = bool(os.environ.get("TEST_DATABASE_URL"))
    share = int(os.environ.get("COE_DB_FREE_SHARE") or 0)
    if not postgres and not share:
        return
    for item in items:
        if "database_url" in getattr(item, "fixturenames", ()):
            continue
        to_postgres = bool(share) and zlib.crc32(item.nodeid.encode()) % share == 0
        if postgres and not to_postgres:
            item.add_marker(pytest.mark.skip(reason="no database under test: the SQLite pass"))
        elif not postgres and to_postgres:
            item.add_marker(pytest.mark.skip(reason="no database under test: the other pass"))


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        try:
            asyncio.run(_check_postgres(url))
        except Exception as error:
            pytest.fail(f"TEST_DATABASE_URL={url} is not reachable: {error}", pytrace=False)
    else:
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    db.migrate(url)
    return url


@pytest.fixture(scope="session")
def is_postgres(database_url: str) -> bool:
    return not db.is_sqlite(database_url)


@pytest.fixture(autouse=True)
async def _empty_tables(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    yield
    if "database_url" not in request.fixturenames:
        return
    url: str = request.getfixturevalue("database_url")
    engine = db.create_null_pool_engine(url)
    try:
        async with engine.begin() as conn:
            if db.is_sqlite(url):
                for table in TABLES:
                    await conn.execute(text(f"DELETE FROM {table}"))
            else:
                await conn.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY"))
    finally:
        await engine.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock(dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.UTC))


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield fake


@pytest.fixture
def settings(database_url: str, slack: FakeSlack) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        slack_api_url=slack.api_url,
        slack_bot_token=SecretStr(slack.bot_token),
        slack_signing_secret=SecretStr(SIGNING_SECRET),
        coe_admins=("U0ADMIN",),
        coe_channel="C0COE",
        survey_secret=SecretStr(SURVEY_SECRET),
    )


@dataclass
class RunningApp:
    url: str
    app: web.Application

    @property
    def deps(self) -> Deps:
        return self.app[DEPS]

    @property
    def events_url(self) -> str:
        return f"{self.url}/slack/events"

    async def settle(self) -> None:
        """Wait for the work each request started after its ack."""
        await self.deps.background.drain()


async def start_app(settings: Settings, clock: Clock) -> tuple[RunningApp, web.AppRunner]:
    app = create_app(settings, clock=clock, run_workers=False, batch_delay=0)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    return RunningApp(url=f"http://127.0.0.1:{port}", app=app), runner


@pytest.fixture
async def running(settings: Settings, clock: Clock) -> AsyncIterator[RunningApp]:
    app, runner = await start_app(settings, clock)
    try:
        yield app
    finally:
        await runner.cleanup()


@pytest.fixture
async def sender(running: RunningApp, slack: FakeSlack) -> AsyncIterator[SlackSender]:
    async with SlackSender(running.events_url, SIGNING_SECRET, slack=slack) as client:
        yield client


@pytest.fixture
def pack_file(tmp_path: Path) -> Path:
    """A writable copy of the shipped pack, for reload tests."""
    from bot.services.policy_pack import default_pack_path

    path = tmp_path / "pack.yaml"
    path.write_text(default_pack_path().read_text())
    return path


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[db.Sessions]:
    """Sessions on the database under test, for tests that use services directly."""
    engine = db.create_engine(database_url)
    try:
        yield db.make_sessions(engine)
    finally:
        await engine.dispose()


class Waits:
    """What a client waited (its `sleep`): the tests never sleep."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


@pytest.fixture
def waits() -> Waits:
    return Waits()
