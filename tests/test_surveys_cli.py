"""`coe-bot surveys load|list` and `coe-bot export survey`: anonymity holds in exports too."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import subprocess
from pathlib import Path

from bot import db
from bot.models import utcnow
from bot.services import surveys
from tests.helpers import clean_env, coe_bot_command
from tests.test_surveys import SMALL


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = clean_env(DATABASE_URL=f"sqlite+aiosqlite:///{cwd / 's.db'}", SLACK_SIGNING_SECRET="x")
    return subprocess.run(
        [*coe_bot_command(), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


async def _answers(path: Path) -> None:
    engine = db.create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with db.make_sessions(engine).begin() as session:
            definition = await surveys.get_definition(session=session, survey_id="check-in")
            run = await surveys.start_run(
                session=session,
                definition=definition,
                period="p1",
                audience=[f"U0P{i:03d}" for i in range(8)],
                started_by="U0ADMIN",
                now=utcnow(),
            )
            assert run is not None
            assert run.id is not None
            for i in range(8):
                await surveys.submit(
                    session=session,
                    run_id=run.id,
                    user_id=f"U0P{i:03d}",
                    answers={"useful": 4, "recommend": 9, "why": f"note {i}"},
                    team="payments" if i < 6 else "search",
                    secret=b"k",
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
    exported = run(tmp_path, "export", "survey", "check-in", "--format", "csv")
    assert exported.returncode == 0, exported.stderr
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert len(rows) == 8
    assert "respondent" not in rows[0]
    assert not any(v.startswith("U0P") for row in rows for v in row.values() if v)
    assert {row["team"] for row in rows} == {"payments", "(small group)"}
    as_json = run(tmp_path, "export", "survey", "check-in", "--format", "json")
    assert json.loads(as_json.stdout.splitlines()[0])["useful"] == 4
    missing = run(tmp_path, "export", "survey", "monthly-pulse")
    assert missing.returncode == 1
    assert "no runs" in missing.stderr
