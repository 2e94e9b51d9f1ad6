"""Anonymity that holds against the raw data, the filters and the operator.

Every output about a run goes through `survey_disclosure`: raw rows of an anonymous run only
once it has closed, as one whole-run set, from 5 respondents, with merged team labels, no id
and no time finer than the run's date; keys random after close; SURVEY_SECRET required.
Each input the issue names is a test here, on SQLite and PostgreSQL, plus a property test of
the subtraction rule over generated respondents.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import stat
import subprocess
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr
from sqlalchemy import text
from sqlmodel import select

from bot import db
from bot.config import MissingSurveySecret, Settings, load_settings
from bot.models import SurveyResponse
from bot.services import survey_disclosure, surveys
from bot.services.survey_definitions import parse_definition
from bot.standin import SlackSender
from bot.survey_secret import secret_file, with_local_secret
from tests.conftest import Clock, RunningApp, start_app
from tests.helpers import (
    answered_run,
    clean_env,
    coe_bot_command,
    generated,
    message_text,
    seed_answered_run,
)

TOKEN = "anonymity-test-token-0123456789"
SURVEY = """
id: pulse
title: Pulse
intro: Two questions.
anonymous: true
audience: {active_days: 30}
questions:
  - id: useful
    type: likert
    text: Useful?
  - id: why
    type: text
    text: Why?
    required: false
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


async def get(app: RunningApp, path: str) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{app.url}/api/v1{path}", headers=headers) as response,
    ):
        body = await response.text()
        if "json" in response.headers.get("Content-Type", ""):
            return response.status, json.loads(body)
        return response.status, body


async def answered(app: RunningApp, teams: list[str | None], *, close: bool = True) -> int:
    """A run of the anonymous pulse answered by one person per entry of `teams`."""
    responses = [
        (team, {"useful": 1 + i % 5, "why": f"reason {i}"}) for i, team in enumerate(teams)
    ]
    return await answered_run(app, SURVEY, responses, close=close)


def export(
    app: RunningApp, database_url: str, cwd: Path, fmt: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*coe_bot_command(), "export", "survey", "pulse", "--format", fmt],
        cwd=cwd,
        env=clean_env(DATABASE_URL=database_url, SLACK_SIGNING_SECRET="x"),
        capture_output=True,
        text=True,
        timeout=60,
    )


# -- the inputs the issue names -----------------------------------------------------------


async def test_one_respondent_leaves_nothing_in_any_output(
    api: RunningApp, database_url: str, tmp_path: Path
) -> None:
    open_run = await answered(api, ["alpha"], close=False)
    assert (await get(api, f"/runs/{open_run}/responses"))[0] == 409
    assert (await get(api, f"/runs/{open_run}/responses?format=csv"))[0] == 409

    run_id = await answered(api, ["alpha"])
    status, body = await get(api, f"/runs/{run_id}/responses")
    assert (status, body["items"]) == (200, [])
    assert "fewer than 5" in body["withheld"]
    status, csv_text = await get(api, f"/runs/{run_id}/responses?format=csv")
    assert status == 200
    assert list(csv.reader(io.StringIO(csv_text)))[1:] == []
    status, results = await get(api, f"/runs/{run_id}/results")
    assert results["respondents"] == 1
    assert all(not q["counts"] and not q["texts"] for q in results["questions"])

    for fmt in ("csv", "json", "ndjson"):
        done = await asyncio.to_thread(export, api, database_url, tmp_path, fmt)
        assert done.returncode == 0, done.stderr
        assert "reason 0" not in done.stdout
        assert "alpha" not in done.stdout


async def test_a_team_of_one_is_merged_until_nobody_can_be_singled_out(api: RunningApp) -> None:
    run_id = await answered(api, ["alpha"] * 6 + ["beta"])
    status, body = await get(api, f"/runs/{run_id}/responses?limit=500")
    assert status == 200
    labels = Counter(item["team"] for item in body["items"])
    assert labels == {"(all teams)": 7}  # "alpha" for 6 would leave beta's one by subtraction
    _, results = await get(api, f"/runs/{run_id}/results")
    assert results["by_team"] == {}

    bigger = await answered(api, ["alpha"] * 6 + ["beta"] * 5 + ["gamma"])
    _, body = await get(api, f"/runs/{bigger}/responses?limit=500")
    assert Counter(item["team"] for item in body["items"]) == {"alpha": 6, "(other teams)": 6}


@pytest.mark.parametrize("query", ["since=2026-11-01", "until=2026-12-01", "team=alpha"])
async def test_filters_on_an_anonymous_runs_rows_are_refused(api: RunningApp, query: str) -> None:
    run_id = await answered(api, ["alpha"] * 6)
    for fmt in ("", "&format=csv"):
        status, body = await get(api, f"/runs/{run_id}/responses?{query}{fmt}")
        assert status == 422, body
        assert body["field"] == query.split("=")[0]


async def test_rows_carry_no_id_nor_time_and_pages_are_stable(api: RunningApp) -> None:
    run_id = await answered(api, ["alpha"] * 12)
    first, cursor, pages = [], None, []
    while True:
        path = f"/runs/{run_id}/responses?limit=5" + (f"&cursor={cursor}" if cursor else "")
        _, body = await get(api, path)
        pages.append(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    first = [item for page in pages for item in page]
    assert len(first) == 12
    assert all(set(item) == {"run_date", "team", "useful", "why"} for item in first)
    assert {item["run_date"] for item in first} == {"2026-11-02"}
    _, again = await get(api, f"/runs/{run_id}/responses?limit=500")
    assert again["items"] == first  # the same order every time
    reasons = [int(item["why"].split()[1]) for item in first]
    assert reasons != sorted(reasons)  # not the order people answered in
    _, csv_text = await get(api, f"/runs/{run_id}/responses?format=csv")
    header = next(csv.reader(io.StringIO(csv_text)))
    assert header == ["run_date", "team", "useful", "why"]


async def test_written_answers_need_ten_answers_to_their_question(api: RunningApp) -> None:
    run_id = await answered(api, ["alpha"] * 9)
    _, body = await get(api, f"/runs/{run_id}/responses?limit=500")
    assert {item["why"] for item in body["items"]} == {None}
    _, csv_text = await get(api, f"/runs/{run_id}/responses?format=csv")
    assert "reason" not in csv_text
    ten = await answered(api, ["alpha"] * 10)
    _, body = await get(api, f"/runs/{ten}/responses?limit=500")
    assert None not in {item["why"] for item in body["items"]}


async def test_after_close_the_operator_cannot_re_link(api: RunningApp) -> None:
    run_id = await answered(api, ["alpha"] * 6)
    key = api.deps.settings.survey_key()
    possible = {surveys.respondent_key(key, run_id, f"U0P{i:03d}") for i in range(6)}
    async with api.deps.sessions() as session:
        stored = (await session.exec(select(SurveyResponse))).all()
    assert len(stored) == 6
    assert not {r.respondent_key for r in stored} & possible
    assert len({r.submitted_at for r in stored}) == 1  # the run's date, nothing finer


async def test_seal_migration_seals_runs_closed_before_it(
    settings: Settings, tmp_path: Path
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    await asyncio.to_thread(db.migrate, url, "0006")
    engine = db.create_engine(url)
    try:
        async with db.make_sessions(engine).begin() as session:
            run = await seed_answered_run(
                session,
                SURVEY,
                [(user, "alpha", {"useful": 3}) for user in ("U0A", "U0B")],
                secret=b"k" * 32,
                now=_now(),
                period="old",
            )
            await session.exec(text("UPDATE survey_run SET status = 'closed'"))  # type: ignore[call-overload]
        await asyncio.to_thread(db.migrate, url)
        async with db.make_sessions(engine)() as session:
            keys = {r.respondent_key for r in (await session.exec(select(SurveyResponse))).all()}
            teams = {r.team for r in (await session.exec(select(SurveyResponse))).all()}
    finally:
        await engine.dispose()
    linkable = {surveys.respondent_key(b"k" * 32, run.id, u) for u in ("U0A", "U0B")}
    assert len(keys) == 2
    assert not keys & linkable
    assert teams == {"(all teams)"}


def _now() -> Any:
    import datetime as dt

    return dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.UTC)


# -- the secret -----------------------------------------------------------------------------


async def test_an_anonymous_survey_is_not_sent_without_a_survey_secret(
    settings: Settings, clock: Clock, slack: Any
) -> None:
    from bot.jobs.surveys import send_survey

    app, runner = await start_app(settings.model_copy(update={"survey_secret": None}), clock)
    try:
        async with app.deps.sessions.begin() as session:
            await surveys.save_definition(
                session=session,
                definition=parse_definition(SURVEY, source="t"),
                source="t",
                actor="U0ADMIN",
                now=clock(),
            )
        with pytest.raises(MissingSurveySecret, match="SURVEY_SECRET"):
            await send_survey(app.deps, "pulse", actor="U0ADMIN")
        async with SlackSender(app.events_url, "test-signing-secret", slack=slack) as sender:
            sent = await sender.command("/ai-coe", "survey send pulse", user_id="U0ADMIN")
        await app.settle()
        said = " ".join(message_text(r.body) for r in slack.responses_for(sent.response_url or ""))
        assert "SURVEY_SECRET" in said
        async with app.deps.sessions() as session:
            assert (await session.exec(text("SELECT count(*) FROM survey_run"))).one()[0] == 0  # type: ignore[call-overload]
    finally:
        await runner.cleanup()


@pytest.mark.parametrize("value", ["short", "x" * 31, "hex:abcd"])
def test_a_survey_secret_under_32_bytes_stops_start_up(value: str) -> None:
    from bot.config import ConfigError

    with pytest.raises(ConfigError, match=r"^SURVEY_SECRET: "):
        load_settings(_env_file=None, survey_secret=value)


def test_the_stand_in_generates_a_private_secret_beside_the_database(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'coe-bot.db'}"
    first = with_local_secret(load_settings(_env_file=None, database_url=url))
    path = secret_file(url)
    assert path is not None
    assert path.exists()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert first.survey_secret is not None
    assert len(first.survey_secret.get_secret_value()) >= 32
    again = with_local_secret(load_settings(_env_file=None, database_url=url))
    assert again.survey_secret == first.survey_secret  # made once, then read
    assert not (tmp_path / ".env").exists()


def test_show_derived_prints_the_old_key_once_and_audits_it(tmp_path: Path) -> None:
    env = clean_env(
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 's.db'}", SLACK_SIGNING_SECRET="old-secret"
    )
    done = subprocess.run(
        [*coe_bot_command(), "surveys", "secret", "--show-derived"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    expected = load_settings(_env_file=None, slack_signing_secret="old-secret").derived_survey_key()
    assert done.stdout.strip() == f"SURVEY_SECRET=hex:{expected.hex()}"
    usable = load_settings(_env_file=None, survey_secret=done.stdout.strip().split("=", 1)[1])
    assert usable.survey_key() == expected  # set as printed, open runs keep their keys


# -- the subtraction rule, as a property ------------------------------------------------------

TEAMS = st.lists(st.sampled_from(["alpha", "beta", "gamma", "delta", None]), max_size=30)


def _sets_of_people(labels_by_person: list[str]) -> list[frozenset[int]]:
    """The respondent sets the permitted outputs describe: the whole run and each label."""
    everyone = frozenset(range(len(labels_by_person)))
    groups = {
        label: frozenset(i for i, x in enumerate(labels_by_person) if x == label)
        for label in set(labels_by_person)
    }
    return [everyone, *groups.values()]


async def test_no_two_outputs_differ_by_fewer_than_the_minimum(api: RunningApp) -> None:
    loop = asyncio.get_running_loop()
    rules = api.deps.settings.survey_rules()
    seen: list[int] = []

    def run(coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, loop).result(60)

    @generated(25)
    @given(TEAMS)
    def holds(teams: list[str | None]) -> None:
        run(_empty(api))
        run_id = run(answered(api, teams))
        _, body = run(get(api, f"/runs/{run_id}/responses?limit=500"))
        _, results = run(get(api, f"/runs/{run_id}/results"))
        outputs = body["items"]
        if len(teams) < rules.min_group:
            assert outputs == []
            assert all(not q["counts"] for q in results["questions"])
            return
        # labels are unions of whole teams: each team's people share one label
        sizes = Counter(teams)
        shown = Counter(item["team"] for item in outputs)
        for label, count in shown.items():
            if label in sizes:
                assert count == sizes[label]
        assert set(results["by_team"]) <= set(shown)
        # the property: for outputs A ⊆ B, |B \\ A| is 0 or at least the minimum
        people = [label for label, count in shown.items() for _ in range(count)]
        sets = _sets_of_people(people)
        for a in sets:
            for b in sets:
                if a <= b:
                    assert len(b - a) == 0 or len(b - a) >= rules.min_group, (teams, shown)
        seen.append(len(teams))

    await asyncio.to_thread(holds)
    assert seen


async def _empty(app: RunningApp) -> None:
    async with app.deps.sessions.begin() as session:
        for table in ("survey_response", "survey_recipient", "survey_run"):
            await session.exec(text(f"DELETE FROM {table}"))  # type: ignore[call-overload]


def test_merge_labels_property() -> None:
    """The pure rule, over many more shapes than the end-to-end test can afford."""

    @generated(500)
    @given(st.dictionaries(st.text(max_size=3), st.integers(1, 40), max_size=8), st.integers(2, 10))
    def holds(sizes: dict[str, int], minimum: int) -> None:
        labels = survey_disclosure.merge_labels(sizes, minimum)
        total = sum(sizes.values())
        groups: Counter[str] = Counter()
        for team, n in sizes.items():
            groups[labels[team]] += n
        for n in groups.values():
            assert n >= minimum or total < minimum
            assert total - n == 0 or total - n >= minimum or total < minimum

    holds()


NAMED = SURVEY.replace("anonymous: true", "anonymous: false").replace("id: pulse", "id: named")


async def test_the_csv_of_every_path_is_the_same_bytes(api: RunningApp) -> None:
    """COPY on PostgreSQL and the Python writer give one CSV for the same released rows,
    anonymous and named runs alike (on SQLite both sides are the Python writer)."""
    from bot import csvsafe

    anonymous = await answered(api, ["alpha"] * 6 + ["beta"] * 5 + [None] * 3)
    async with api.deps.sessions.begin() as session:
        run = await seed_answered_run(
            session,
            NAMED,
            [(user, "alpha", {"useful": 2, "why": f"=named {user}"}) for user in ("U0A", "U0B")],
            secret=b"k" * 32,
            now=_now(),
            period="n",
        )
        named = run.id
    for run_id in (anonymous, named):
        status, served = await get(api, f"/runs/{run_id}/responses?format=csv")
        assert status == 200, served
        async with api.deps.sessions() as session:
            from bot.models import SurveyRun

            stored = await session.get(SurveyRun, run_id)
            assert stored is not None
            released = await survey_disclosure.release(
                session=session, run=stored, rules=api.deps.settings.survey_rules()
            )
            out = io.StringIO()
            writer = csvsafe.DictWriter(out, survey_disclosure.columns(released))
            writer.writeheader()
            async for row in survey_disclosure.rows(session=session, released=released):
                writer.writerow(row)
        if run_id == anonymous:  # key order: compare as sets of lines, header first
            assert served.splitlines()[0] == out.getvalue().splitlines()[0]
            assert sorted(served.splitlines()) == sorted(out.getvalue().splitlines())
        else:
            assert served == out.getvalue()
            assert "'=named U0A" in served


OPTIONAL = SURVEY.replace(
    "    required: false\n",
    "    required: false\n  - id: rare\n    type: likert\n    text: Only if you lead a team\n"
    "    required: false\n",
)


async def test_a_question_few_answered_shows_nothing_of_its_answers(api: RunningApp) -> None:
    """12 answered the run; 1 answered the optional scale, 3 the free text."""
    responses: list[tuple[str | None, dict[str, Any]]] = []
    for i in range(12):
        answers: dict[str, Any] = {"useful": 3}
        if i == 0:
            answers["rare"] = 1
        if i < 3:
            answers["why"] = f"I sit by the window {i}"
        responses.append(("alpha" if i < 6 else "beta", answers))
    run_id = await answered_run(api, OPTIONAL, responses)
    _, results = await get(api, f"/runs/{run_id}/results")
    by_id = {q["id"]: q for q in results["questions"]}
    assert by_id["why"]["texts"] == []
    assert by_id["why"]["texts_hidden"] is True
    assert by_id["rare"]["counts"] == {}
    assert by_id["rare"]["mean"] is None
    assert all(row.get("rare") is None for row in results["by_team"].values())
    assert by_id["useful"]["mean"] == 3.0
    _, body = await get(api, f"/runs/{run_id}/responses?limit=500")
    assert {item["rare"] for item in body["items"]} == {None}
    assert {item["why"] for item in body["items"]} == {None}
    _, csv_text = await get(api, f"/runs/{run_id}/responses?format=csv")
    assert "window" not in csv_text


async def test_sealing_shuffles_ids_and_clears_who_was_reminded(api: RunningApp) -> None:
    run_id = await answered(api, ["alpha"] * 30, close=False)
    async with api.deps.sessions.begin() as session:
        await session.exec(  # type: ignore[call-overload]
            text("UPDATE survey_recipient SET reminder_status = 'sent', attempts = 2")
        )
        from bot.models import SurveyRun

        run = await session.get(SurveyRun, run_id)
        assert run is not None
        await surveys.close_due(
            session=session, now=run.closes_at, rules=api.deps.settings.survey_rules()
        )
    async with api.deps.sessions() as session:
        stored = (await session.exec(select(SurveyResponse).order_by(SurveyResponse.id))).all()  # type: ignore[arg-type]
        marks = (
            await session.exec(
                text("SELECT reminder_status, attempts, status FROM survey_recipient")
            )
        ).all()  # type: ignore[call-overload]
    order = [int(r.answers["why"].split()[1]) for r in stored]
    assert sorted(order) == list(range(30))
    assert order != list(range(30))  # ids no longer follow the order people answered in
    assert {tuple(m) for m in marks} <= {(None, 0, "sent"), (None, 0, "pending")}


async def test_sealed_pages_leave_the_sqlite_wal_once_no_reader_holds_it(
    api: RunningApp, database_url: str, is_postgres: bool, clock: Clock
) -> None:
    if is_postgres:
        pytest.skip("SQLite's WAL file; PostgreSQL is vacuumed (its WAL is a documented limit)")
    import sqlite3

    from bot.jobs import surveys as survey_jobs

    path = Path(database_url.split("///", 1)[1])
    wal = path.with_name(path.name + "-wal")
    await answered(api, ["alpha"] * 6, close=False)
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM survey_response").fetchone()  # an old snapshot
    try:
        clock.advance(days=30)
        closed, _ = await survey_jobs.tick(api.deps)
        assert closed == 1
        assert api.deps.scrub_pending  # could not truncate: it will try again
        assert wal.stat().st_size > 0
    finally:
        reader.execute("COMMIT")
        reader.close()
    await survey_jobs.tick(api.deps)
    assert not api.deps.scrub_pending
    assert wal.stat().st_size == 0  # the pages as they were before sealing are gone
