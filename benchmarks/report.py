"""The monthly report of the demo organisation (issue 21: under 2 s on PostgreSQL).

The demo organisation is what `coe-bot usage demo` makes (400 people in 10 teams, 120 days)
with every source pulled from the stand-ins (Copilot, Cursor, Claude Code, a year of pull
requests with rollout waves). Measured: building the report (every query and the impact
comparisons) and drawing the page (six charts as SVG) — what `GET /reports/monthly` does on
a miss — in a fresh process (the first, with vl-convert's start) and then `ROUNDS` more
times; the same on SQLite for comparison; and the Slack summary's PNG.

Run: `.venv/bin/python -m benchmarks report` (PostgreSQL server: `BENCH_POSTGRES_URL`,
default postgresql+asyncpg://postgres@127.0.0.1:5432; its own database, recreated).
`REPORT_BENCH_PEOPLE` (400) sizes the organisation.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import recreate_postgres_database
from bot.config import Settings
from bot.db import create_engine, make_sessions, migrate
from bot.reports import page
from bot.services import costs
from bot.services.policy import PolicyStore
from bot.usage import demo, runs
from bot.usage.sources import DemoSpec

POSTGRES_SERVER = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432"
)
POSTGRES_DATABASE = "coe_bench_report"
PEOPLE = int(os.environ.get("REPORT_BENCH_PEOPLE", "400"))
NOW = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)
MONTH = dt.date(2026, 11, 1)
ROUNDS = 5
TARGET_S = 2.0


async def _fill(url: str) -> dict[str, Any]:
    settings = Settings(_env_file=None, database_url=url)  # type: ignore[call-arg]
    engine = create_engine(url)
    sessions = make_sessions(engine)
    started = time.perf_counter()
    try:
        spec = DemoSpec(people=PEOPLE, days=120, seed=7, end_day=NOW.date())
        await demo.install(sessions=sessions, spec=spec, now=NOW)
        await runs.copilot_pull(settings=settings, sessions=sessions, now=NOW, actor="bench")
        await runs.cursor_pull(settings=settings, sessions=sessions, now=NOW, actor="bench")
        await runs.claude_code_pull(settings=settings, sessions=sessions, now=NOW, actor="bench")
        done = await runs.pull_requests_pull(
            settings=settings, sessions=sessions, now=NOW, actor="bench"
        )
    finally:
        await engine.dispose()
    return {"pull_requests": done.stored, "fill_s": round(time.perf_counter() - started, 1)}


async def _measure(url: str) -> dict[str, Any]:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, database_url=url, costs_file=costs.example_path()
    )
    policy = PolicyStore(None).active
    engine = create_engine(url)
    sessions = make_sessions(engine)
    times: list[float] = []
    builds: list[float] = []
    try:
        for _ in range(ROUNDS + 1):
            started = time.perf_counter()
            report = await page.build(
                sessions=sessions, settings=settings, policy=policy, month=MONTH, now=NOW
            )
            built = time.perf_counter()
            html = await page.html(report)
            times.append(time.perf_counter() - started)
            builds.append(built - started)
        started = time.perf_counter()
        png = page.summary_chart(report)
        png_s = time.perf_counter() - started
    finally:
        await engine.dispose()
    warm = times[1:]
    return {
        "first_s": round(times[0], 2),
        "median_s": round(statistics.median(warm), 2),
        "max_s": round(max(warm), 2),
        "queries_median_s": round(statistics.median(builds[1:]), 2),
        "page_bytes": len(html),
        "summary_png_bytes": len(png or b""),
        "summary_png_s": round(png_s, 2),
        f"first under {TARGET_S} s": times[0] < TARGET_S,
        f"every round under {TARGET_S} s": max(times) < TARGET_S,
    }


def _backend(url: str) -> dict[str, Any]:
    migrate(url)
    filled = asyncio.run(_fill(url))
    print(f"report: demo organisation filled ({filled})", flush=True)
    return {**filled, **asyncio.run(_measure(url))}


def run() -> dict[str, Any]:
    results: dict[str, Any] = {"people": PEOPLE, "month": f"{MONTH:%Y-%m}"}
    try:
        url = asyncio.run(recreate_postgres_database(POSTGRES_SERVER, POSTGRES_DATABASE))
    except (OSError, ConnectionError) as exc:
        results["postgresql"] = {"skipped": f"PostgreSQL unreachable at {POSTGRES_SERVER}: {exc}"}
    else:
        results["postgresql"] = _backend(url)
    work = Path(tempfile.mkdtemp(prefix="coe-bench-report-"))
    try:
        results["sqlite"] = _backend(f"sqlite+aiosqlite:///{work / 'report.db'}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return results
