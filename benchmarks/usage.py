"""Copilot usage at organisation scale: the importer streaming a year of per-user days from
the GitHub stand-in into PostgreSQL, against asyncpg's COPY of the same rows, its peak
memory, and the team × month figures over that year; and a 500-person year on SQLite.

Run: `.venv/bin/python -m benchmarks usage` (PostgreSQL server: `BENCH_POSTGRES_URL`,
default postgresql+asyncpg://postgres@127.0.0.1:5432). `USAGE_BENCH_PEOPLE` (20000) and
`USAGE_BENCH_DAYS` (365) size the organisation.

The stand-in runs in its own process (`python -m benchmarks.usage serve …`), as GitHub is
another machine, and makes every report file before the pull starts (`keep_files`), as
GitHub's storage holds them: the importer's process is measured alone (wall time, peak RSS),
and the pull's wall time holds no row-making by the stand-in. The COPY
baseline loads the importer's own flattened rows for a sample of days (every
`BASELINE_EVERY`th), with the same delete-then-load per day into the same table and
indexes; its rows per second are set against the importer's.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import delete, text

from benchmarks import recreate_postgres_database
from bot.db import create_engine, make_sessions, migrate
from bot.models import CopilotUserDay, CopilotUserTeam
from bot.services import usage_figures
from bot.services.survey_disclosure import Rules
from bot.usage import copilot, copilot_records, demo
from bot.usage.github import GitHubClient
from bot.usage.sources import DemoSpec

POSTGRES_SERVER = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432"
)
POSTGRES_DATABASE = "coe_bench_usage"
PEOPLE = int(os.environ.get("USAGE_BENCH_PEOPLE", "20000"))
DAYS = int(os.environ.get("USAGE_BENCH_DAYS", "365"))
END_DAY = dt.date(2026, 11, 30)
BASELINE_EVERY = 10
RULES = Rules(min_group=5, min_text=10)
SEED = 11
ENTITY = "org:standin-org"


def serve(people: int, days: int, port_file: str) -> None:
    """The stand-in, alone in this process, holding the demo organisation (lazily)."""
    from bot.standin.github import FakeGitHub
    from bot.standin.github_demo import build_demo

    async def main() -> None:
        organisation = build_demo(people=people, days=days, seed=SEED, end_day=END_DAY)
        github = FakeGitHub(today=lambda: END_DAY + dt.timedelta(days=3))
        github.rate_limit = 10**9
        organisation.install(github)
        # GitHub builds a report's files before anyone asks: so does the stand-in here,
        # before it says it is listening, so the pull's timing holds no row-making.
        github.keep_files = True
        first = END_DAY - dt.timedelta(days=days - 1)
        made = github.make_files(first + dt.timedelta(days=n) for n in range(days))
        print(f"usage: the stand-in holds {made / 1e9:.1f} GB of report files", flush=True)
        await github.start()
        where = f"{github.api_url} {github.token} {github.org}"
        await asyncio.to_thread(Path(port_file).write_text, where)
        await asyncio.Event().wait()

    asyncio.run(main())


def _stand_in(people: int, days: int) -> tuple[subprocess.Popen[bytes], str, str, str]:
    port_file = tempfile.mktemp(prefix="coe-bench-github-")
    process = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.usage", "serve", str(people), str(days), port_file]
    )
    deadline = time.monotonic() + 1800  # making a year of files takes minutes
    while time.monotonic() < deadline and process.poll() is None:
        if Path(port_file).exists() and Path(port_file).read_text():
            url, token, org = Path(port_file).read_text().split()
            return process, url, token, org
        time.sleep(0.2)
    process.kill()
    raise RuntimeError("the GitHub stand-in did not start")


async def _import(
    url: str, api: str, token: str, org: str, people: int, days: int
) -> dict[str, Any]:
    engine = create_engine(url)
    sessions = make_sessions(engine)
    first = END_DAY - dt.timedelta(days=days - 1)
    try:
        started = time.perf_counter()
        spec = DemoSpec(people=people, days=days, seed=SEED, end_day=END_DAY)
        await demo.install(sessions=sessions, spec=spec, now=dt.datetime.now(dt.UTC))
        roster_s = time.perf_counter() - started
        reports_done: list[float] = []

        def progress(_done: int, _steps: int, what: str) -> None:
            if what == "seats" and not reports_done:  # every report stored, rollups next
                reports_done.append(time.perf_counter())

        async with GitHubClient(api, token) as github:
            started = time.perf_counter()
            cpu = time.process_time()
            run = await copilot.pull(
                sessions=sessions,
                github=github,
                target=copilot.Target(org=org),
                first_day=first,
                last_day=END_DAY,
                now=dt.datetime.combine(END_DAY + dt.timedelta(days=3), dt.time(6), tzinfo=dt.UTC),
                progress=progress,
            )
            seconds = time.perf_counter() - started
            cpu_seconds = time.process_time() - cpu
        async with sessions() as session:
            user_rows = (await session.exec(text("SELECT count(*) FROM copilot_user_day"))).one()[0]  # type: ignore[call-overload]
        result = {
            "people": people,
            "days": days,
            "user_day_rows": int(user_rows),
            "rows_stored_with_team_rows": run.rows_stored,
            "seats": run.seats_stored,
            "skipped": run.skipped_count,
            "seconds": round(seconds, 1),
            # both reports fetched, parsed and stored, before the seats and the rollups
            "reports_seconds": round(reports_done[0] - started, 1) if reports_done else None,
            "rows_per_second": round(run.rows_stored / seconds),
            # the importer's own CPU: the rest of the wall time is the stand-in making the
            # records (another process) and PostgreSQL storing them
            "importer_cpu_s": round(cpu_seconds, 1),
            "roster_and_identities_s": round(roster_s, 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        }
        result["figures"] = await _figures(sessions, first)
        return result
    finally:
        await engine.dispose()


async def _figures(sessions: Any, first: dt.date) -> dict[str, Any]:
    timings: dict[str, Any] = {}
    for period in ("month", "week"):
        async with sessions() as session:
            started = time.perf_counter()
            items = await usage_figures.figures(
                session=session, period=period, since=first, until=END_DAY, rules=RULES
            )
            timings[f"team_x_{period}_s"] = round(time.perf_counter() - started, 2)
            timings[f"team_x_{period}_items"] = len(items)
    return timings


async def _copy_baseline(url: str, days: int) -> dict[str, Any]:
    """COPY of the importer's own flattened rows (both reports: users-1-day and
    user-teams-1-day) for every BASELINE_EVERY-th day, each day deleted and loaded again as
    the importer does; only the delete and COPY are timed. `year_seconds`: the sampled
    time scaled to every day."""
    from bot.standin.github_demo import build_demo

    organisation = build_demo(people=PEOPLE, days=days, seed=SEED, end_day=END_DAY)
    engine = create_engine(url)
    sessions = make_sessions(engine)
    now = dt.datetime.now(dt.UTC)
    rows_copied = 0
    seconds = 0.0
    tables: list[tuple[Any, Any, Any]] = [
        (CopilotUserDay, copilot_records.DAY_COLUMNS, copilot_records.user_day),
        (CopilotUserTeam, copilot_records.TEAM_COLUMNS, copilot_records.user_team),
    ]
    sampled = range(0, days, BASELINE_EVERY)
    try:
        first = END_DAY - dt.timedelta(days=days - 1)
        for n in sampled:
            day = first + dt.timedelta(days=n)
            sources = (organisation.records(day), organisation.team_rows(day))
            for (table, columns, flatten), source in zip(tables, sources, strict=True):
                rows = [
                    flatten(json.loads(json.dumps(record)), day, ENTITY, now) for record in source
                ]
                started = time.perf_counter()
                async with sessions.begin() as session:
                    await session.exec(
                        delete(table).where(table.entity == ENTITY, table.day == day)
                    )
                    await copilot.insert_rows(session, table, columns, rows)
                seconds += time.perf_counter() - started
                rows_copied += len(rows)
    finally:
        await engine.dispose()
    return {
        "days_sampled": len(sampled),
        "rows": rows_copied,
        "seconds": round(seconds, 2),
        "rows_per_second": round(rows_copied / seconds) if seconds else None,
        "year_seconds": round(seconds * days / len(sampled), 1),
    }


def _one(url: str, people: int, days: int) -> dict[str, Any]:
    process, api, token, org = _stand_in(people, days)
    try:
        return asyncio.run(_import(url, api, token, org, people, days))
    finally:
        process.kill()
        process.wait()


def run() -> dict[str, Any]:
    results: dict[str, Any] = {}
    url = asyncio.run(recreate_postgres_database(POSTGRES_SERVER, POSTGRES_DATABASE))
    migrate(url)
    results["postgresql"] = imported = _one(url, PEOPLE, DAYS)
    print(f"usage: PostgreSQL import {imported}", flush=True)
    baseline = asyncio.run(_copy_baseline(url, DAYS))
    results["copy_baseline"] = baseline
    # The figure: the importer streaming both reports from the stand-in against
    # COPY of the same flattened rows (time for time: COPY's year / the importer's).
    results["importer_vs_copy"] = round(baseline["year_seconds"] / imported["reports_seconds"], 2)
    # ...and with the seats and the weekly and monthly rollups counted as the importer's.
    results["whole_pull_vs_copy"] = round(baseline["year_seconds"] / imported["seconds"], 2)
    work = Path(tempfile.mkdtemp(prefix="coe-bench-usage-"))
    sqlite = f"sqlite+aiosqlite:///{work / 'usage.db'}"
    migrate(sqlite)
    results["sqlite_500_people"] = _one(sqlite, 500, 365)
    return results


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "serve":
        serve(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
    else:
        print(json.dumps(run(), indent=2))
