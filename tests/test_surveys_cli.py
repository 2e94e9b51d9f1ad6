"""`coe-bot surveys load|list` and `coe-bot export survey`: anonymity holds in exports too."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import json
import os
import pty
import subprocess
from pathlib import Path

from bot import db
from bot.models import utcnow
from bot.services import surveys
from bot.services.survey_disclosure import Rules
from tests.helpers import clean_env, coe_bot_command
from tests.test_surveys import SMALL


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = clean_env(DATABASE_URL=f"sqlite+aiosqlite:///{cwd / 's.db'}", SLACK_SIGNING_SECRET="x")
    return subprocess.run(
        [*coe_bot_command(), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


async def _close(path: Path) -> None:
    engine = db.create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with db.make_sessions(engine).begin() as session:
            later = utcnow() + dt.timedelta(days=30)
            await surveys.close_due(session=session, now=later, rules=Rules(5, 10))
    finally:
        await engine.dispose()


async def _answers(path: Path) -> None:
    engine = db.create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with db.make_sessions(engine).begin() as session:
            definition = await surveys.get_definition(session=session, survey_id="check-in")
            run = await surveys.start_run(
                session=session,
                definition=definition,
                period="p1",
                audience=[f"U0P{i:03d}" for i in range(13)],
                started_by="U0ADMIN",
                now=utcnow(),
            )
            assert run is not None
            assert run.id is not None
            for i, team in enumerate(["payments"] * 7 + ["search"] * 5 + ["growth"]):
                await surveys.submit(
                    session=session,
                    run_id=run.id,
                    user_id=f"U0P{i:03d}",
                    answers={"useful": 4, "recommend": 9, "why": f"note {i}"},
                    team=team,
                    secret=b"k" * 32,
                    now=utcnow(),
                )
    finally:
        await engine.dispose()


def test_load_list_and_export_keep_anonymity(tmp_path: Path) -> None:
    loaded = run(tmp_path, "surveys", "load")
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.count("loaded ") == 3
    (tmp_path / "check-in.yaml").write_text(SMALL)
    assert run(tmp_path, "surveys", "load", str(tmp_path / "check-in.yaml")).returncode == 0
    listed = run(tmp_path, "surveys", "list")
    assert "monthly-pulse" in listed.stdout
    assert "check-in" in listed.stdout

    broken = tmp_path / "broken.yaml"
    broken.write_text(SMALL.replace("type: nps", "type: stars"))
    refused = run(tmp_path, "surveys", "load", str(broken))
    assert refused.returncode == 1
    assert f"{broken}:15: questions[1].type" in refused.stdout

    asyncio.run(_answers(tmp_path / "s.db"))
    while_open = run(tmp_path, "export", "survey", "check-in", "--format", "csv")
    assert while_open.returncode == 0, while_open.stderr
    assert list(csv.DictReader(io.StringIO(while_open.stdout))) == []
    assert "leave only after it closes" in while_open.stderr

    asyncio.run(_close(tmp_path / "s.db"))
    exported = run(tmp_path, "export", "survey", "check-in", "--format", "csv")
    assert exported.returncode == 0, exported.stderr
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert len(rows) == 13
    assert list(rows[0])[:4] == ["run", "period", "run_date", "team"]  # no id, no time
    assert "respondent" not in rows[0]
    assert not any(v.startswith("U0P") for row in rows for v in row.values() if v)
    assert {row["team"] for row in rows} == {"payments", "(other teams)"}  # growth's 1 merged
    assert {row["why"] for row in rows} == {f"note {i}" for i in range(13)}  # 13 texts: shown
    as_json = run(tmp_path, "export", "survey", "check-in", "--format", "json")
    assert json.loads(as_json.stdout)[0]["useful"] == 4  # one array
    as_lines = run(tmp_path, "export", "survey", "check-in", "--format", "ndjson")
    assert json.loads(as_lines.stdout.splitlines()[0])["useful"] == 4
    missing = run(tmp_path, "export", "survey", "monthly-pulse")
    assert missing.returncode == 1
    assert "no runs" in missing.stderr


def test_surveys_send_queues_a_run_for_the_server_and_says_whether_one_answers(
    tmp_path: Path,
) -> None:
    assert run(tmp_path, "surveys", "load").returncode == 0
    pilot = run(tmp_path, "surveys", "send", "pilot-check-in", "--yes")
    assert pilot.returncode == 1
    assert "pilot-check-in has no audience: say who with --to" in pilot.stderr
    odd = run(tmp_path, "surveys", "send", "pilot-check-in", "--to", "everyone", "--yes")
    assert odd.returncode == 1
    assert "is not an audience" in odd.stderr
    nowhere = run(tmp_path, "surveys", "send", "pilot-check-in", "--to", "team payments", "--yes")
    assert nowhere.returncode == 1
    assert "There is no team “payments”" in nowhere.stderr
    roster = tmp_path / "teams.csv"
    roster.write_text(
        "user_id,team,is_champion,topics\nU0BOB,payments,true,\nU0ANN,payments,false,\n"
    )
    assert run(tmp_path, "teams", "import", str(roster)).returncode == 0

    # at a terminal, the count is asked about first; "n" sends nothing
    main, follower = pty.openpty()
    os.write(main, b"n\n")
    asked = subprocess.run(
        [*coe_bot_command(), "surveys", "send", "pilot-check-in", "--to", "team payments"],
        cwd=tmp_path,
        env=clean_env(DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 's.db'}"),
        stdin=follower,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    os.close(follower)
    os.close(main)
    assert "to 2 people (team payments)? [y/N]" in asked.stdout
    assert "nothing was sent" in asked.stdout
    queued = run(
        tmp_path,
        "surveys",
        "send",
        "pilot-check-in",
        "--to",
        "team payments",
        "--yes",
        "--url",
        "http://127.0.0.1:9",
    )
    assert queued.returncode == 0, queued.stderr
    assert queued.stdout.splitlines() == [
        "run #1 of pilot-check-in queued for 2 people (team payments)",
        "no coe-bot server answers at http://127.0.0.1:9: the run waits in the database and "
        "starts when one runs (`make run`, or `coe-bot serve`)",
    ]
    listed = run(tmp_path, "surveys", "list")
    assert "run #1\tmanual:" in listed.stdout
    assert "\trequested\t0 asked" in listed.stdout
    exported = run(tmp_path, "export", "survey", "pilot-check-in", "-o", "none.csv")
    assert exported.returncode == 0, exported.stderr
    assert "wrote 0 responses to none.csv (the header only)" in exported.stderr
