"""A CoE lead's first hour: set-up mistakes get one line of advice, never a traceback.

Every command runs as a real `coe-bot` process in an empty directory (no `.env`).
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import clean_env, coe_bot_command

UNREACHABLE = "postgresql+asyncpg://postgres@127.0.0.1:9/nowhere"
DB_COMMANDS = [
    ("teams", "import", "teams.csv"),
    ("surveys", "list"),
    ("export", "audit"),
    ("prompts", "import", "--starter"),
    ("serve", "--port", "0"),
]


def run(
    cwd: Path, *args: str, timeout: float = 60, **variables: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*coe_bot_command(), *args],
        cwd=cwd,
        env=clean_env(**variables),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _roster(cwd: Path) -> None:
    (cwd / "teams.csv").write_text("user_id,team,is_champion,topics\nU07ONE0001,payments,true,\n")


@pytest.fixture
def empty_postgres(is_postgres: bool, database_url: str) -> Iterator[str]:
    """A new, empty PostgreSQL database beside the test one (PostgreSQL runs only)."""
    if not is_postgres:
        pytest.skip("an empty PostgreSQL database needs TEST_DATABASE_URL")
    import asyncpg  # type: ignore[import-untyped]

    name = f"coe_empty_{uuid.uuid4().hex[:8]}"
    admin = database_url.replace("postgresql+asyncpg://", "postgresql://")

    async def execute(sql: str) -> None:
        connection = await asyncpg.connect(admin)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(execute(f"CREATE DATABASE {name}"))
    try:
        yield database_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        asyncio.run(execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


@pytest.mark.parametrize("command", DB_COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_an_unreachable_database_is_one_line(tmp_path: Path, command: tuple[str, ...]) -> None:
    _roster(tmp_path)
    done = run(tmp_path, *command, DATABASE_URL=UNREACHABLE)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr + done.stdout
    [line] = done.stderr.strip().splitlines()
    assert line.startswith(
        "coe-bot: cannot reach the database at postgresql+asyncpg://postgres@127.0.0.1:9/nowhere"
    )


@pytest.mark.parametrize("command", DB_COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_a_database_without_the_schema_says_run_migrate(
    tmp_path: Path, empty_postgres: str, command: tuple[str, ...]
) -> None:
    _roster(tmp_path)
    done = run(tmp_path, *command, DATABASE_URL=empty_postgres)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr + done.stdout
    [line] = done.stderr.strip().splitlines()
    assert line.startswith(f"coe-bot: the database at {empty_postgres} has no schema: run ")
    assert "`coe-bot migrate`" in line


def test_replicas_migrating_at_once_take_turns(tmp_path: Path, empty_postgres: str) -> None:
    env = clean_env(DATABASE_URL=empty_postgres)
    started = [
        subprocess.Popen(
            [*coe_bot_command(), "migrate"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    outcomes = [p.communicate(timeout=120) for p in started]
    assert [p.returncode for p in started] == [0, 0, 0], outcomes
    listed = run(tmp_path, "surveys", "list", DATABASE_URL=empty_postgres)
    assert listed.returncode == 0, listed.stderr


@pytest.mark.parametrize(
    ("variables", "args", "named"),
    [
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, (), "SLACK_SIGNING_SECRET"),
        ({"SLACK_SIGNING_SECRET": "s" * 32}, (), "SLACK_BOT_TOKEN"),
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, ("--socket-mode",), "SLACK_APP_TOKEN"),
        ({"SLACK_APP_TOKEN": "xapp-1"}, ("--socket-mode",), "SLACK_BOT_TOKEN"),
    ],
)
def test_half_a_slack_set_up_is_refused_naming_what_is_missing(
    tmp_path: Path, variables: dict[str, str], args: tuple[str, ...], named: str
) -> None:
    done = run(
        tmp_path,
        "serve",
        "--port",
        "0",
        *args,
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'c.db'}",
        **variables,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"coe-bot: configuration error: {named}: " + done.stderr.split(f"{named}: ", 1)[1].strip()
    ]
    assert "stand-in" not in done.stdout  # never a silent fall-back to the stand-in


def test_a_busy_port_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run(
            tmp_path,
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'c.db'}",
        )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr + done.stdout
    assert done.stderr.strip().splitlines() == [
        f"coe-bot: port {port} on 127.0.0.1 is in use (another coe-bot, or another program): "
        "stop it, or choose another port with --port or PORT (`PORT=3001 make run`)"
    ]
