"""CSV exports a spreadsheet cannot turn into formulas (OWASP CSV injection), in every writer:
`coe-bot export …`, the API's CSV (the PostgreSQL COPY path included). JSON stays exact,
plain numbers stay numbers, and COPY's defusing is byte-identical to the Python writer's."""

from __future__ import annotations

import csv
import io
import json
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from bot import csvsafe
from bot.config import Settings
from bot.standin import SlackSender
from tests.conftest import Clock, RunningApp, start_app
from tests.helpers import answered_run, clean_env, coe_bot_command
from tests.test_prompts import form

TOKEN = "csv-test-token-0123456789"
FORMULAS = ['=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(1)"]
NEIGHBOURS = ["|calc!A1", "%0A=1"]
TYPED = FORMULAS + NEIGHBOURS
SURVEY = """
id: csv-check
title: CSV check
intro: Free text.
anonymous: true
audience: {active_days: 30}
questions:
  - id: score
    type: nps
    text: Score?
  - id: why
    type: text
    text: Why?
"""


@pytest.fixture
async def api(settings: Settings, clock: Clock) -> AsyncIterator[RunningApp]:
    app, runner = await start_app(
        settings.model_copy(update={"coe_api_token": SecretStr(TOKEN)}), clock
    )
    try:
        yield app
    finally:
        await runner.cleanup()


async def _api_csv(app: RunningApp, path: str) -> str:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{app.url}/api/v1{path}", headers=headers) as response,
    ):
        assert response.status == 200, await response.text()
        return await response.text()


def _export(database_url: str, cwd: Path, *args: str) -> str:
    done = subprocess.run(
        [*coe_bot_command(), "export", *args],
        cwd=cwd,
        env=clean_env(DATABASE_URL=database_url, SLACK_SIGNING_SECRET="x"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _cells(text: str, column: str) -> list[str]:
    return [row[column] for row in csv.DictReader(io.StringIO(text))]


def _defused(typed: str) -> str:
    escaped = typed.replace("|", "\\|") if typed[0] in "=+-@|%" else typed  # defusedcsv's
    return "'" + escaped


async def _answers(app: RunningApp, texts: list[str]) -> int:
    """A closed run: one response per text, with a team name that is a formula too."""
    team = "=cmd|' /C calc'!A0"
    responses = [
        (team if text.startswith("=") else "payments", {"score": 9, "why": text}) for text in texts
    ]
    return await answered_run(app, SURVEY, responses)


async def test_formulas_typed_in_slack_come_out_as_text_in_every_csv_export(
    api: RunningApp, sender: SlackSender, database_url: str, tmp_path: Path
) -> None:
    for typed in TYPED:
        assert (await sender.command("/ai-policy", typed)).status == 200
        values = form(typed, f"Summarise this design document, variant {typed!r}.")
        sent = await sender.view_submission("prompt-modal", values)
        assert sent.status == 200, sent.text
    await api.settle()
    texts = [*TYPED, "\t=1+1", "-12", "3.5", "=", "ordinary words"] * 2  # ten or more texts
    run_id = await _answers(api, texts)

    lookups = _export(database_url, tmp_path, "lookups", "--format", "csv")
    assert _cells(lookups, "query") == [_defused(t) for t in TYPED]
    prompts = _export(database_url, tmp_path, "prompts", "--format", "csv")
    assert _cells(prompts, "title") == [_defused(t) for t in TYPED]
    survey = _export(database_url, tmp_path, "survey", "csv-check", "--format", "csv")
    for text in (survey, await _api_csv(api, f"/runs/{run_id}/responses?format=csv")):
        why = _cells(text, "why")  # in the run's sealed (random) order
        expected = [_defused(t) if t[0] in "=+-@|%\t" and t != "-12" else t for t in texts]
        assert sorted(why) == sorted(expected)
        assert not [t for t in _cells(text, "team") if t[0] in "=+-@"]
        assert "-12" in why  # a plain number is a number, not a formula
        assert set(_cells(text, "score")) == {"9"}

    # JSON stays exact, in the API and the command line alike
    page = json.loads(await _api_csv(api, f"/runs/{run_id}/responses?limit=500"))
    assert sorted(item["why"] for item in page["items"]) == sorted(texts)
    as_json = _export(database_url, tmp_path, "lookups", "--format", "json")
    assert [item["query"] for item in json.loads(as_json)] == TYPED  # one array
    as_lines = _export(database_url, tmp_path, "lookups", "--format", "ndjson")
    assert [json.loads(line)["query"] for line in as_lines.splitlines()] == TYPED


def _python_csv(rows: list[tuple[int, str | None]]) -> bytes:
    out = io.StringIO()
    writer = csvsafe.writer(out)
    writer.writerow(["n", "v"])
    for row in rows:
        writer.writerow(row)
    return out.getvalue().encode()


async def _copy_csv(app: RunningApp, values: list[str | None]) -> bytes:
    chunks: list[bytes] = []

    async def collect(chunk: bytes) -> None:
        chunks.append(bytes(chunk))

    sql = (
        f"SELECT n, {csvsafe.defuse_sql('v')} AS v"
        " FROM unnest($1::text[]) WITH ORDINALITY AS t(v, n) ORDER BY n"
    )
    async with app.deps.sessions() as session:
        connection = await (await session.connection()).get_raw_connection()
        await connection.driver_connection.copy_from_query(
            sql, values, output=collect, format="csv", header=True
        )
    return b"".join(chunks)


CELL_STARTS = st.sampled_from(["", "=", "+", "-", "@", "|", "%", "\t", "\r", "\n", " ", "'", '"'])
CELLS = st.one_of(
    st.none(),
    st.tuples(
        CELL_STARTS,
        st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",))),
    ).map("".join),
    st.from_regex(r"-?[0-9,.]{1,8}\n?", fullmatch=True),
)


async def test_copy_defuses_byte_for_byte_as_the_python_writer(
    api: RunningApp, is_postgres: bool
) -> None:
    if not is_postgres:
        pytest.skip("COPY … TO STDOUT is PostgreSQL's; SQLite exports go through Python only")
    import asyncio

    loop = asyncio.get_running_loop()
    compared: list[int] = []

    @settings(
        max_examples=60,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.lists(CELLS, min_size=1, max_size=12))
    @example([*TYPED, "-12", "-12\n", "1,000.5", "a|b", '=1"|"2', "", None, "\\.", "x\r\ny"])
    def same_bytes(values: list[str | None]) -> None:
        copied = asyncio.run_coroutine_threadsafe(_copy_csv(api, values), loop).result(30)
        expected = _python_csv([(n, v) for n, v in enumerate(values, start=1)])
        assert copied == expected
        compared.append(len(values))

    await asyncio.to_thread(same_bytes)
    assert len(compared) >= 60


def test_the_python_writer_keeps_numbers_and_plain_text() -> None:
    out = io.StringIO()
    csvsafe.writer(out).writerow([-12, 3.5, "-12", "plain", None, "", "'quoted", "=1"])
    assert out.getvalue() == "-12,3.5,-12,plain,,,'quoted,'=1\n"
