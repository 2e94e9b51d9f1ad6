"""1,000,000 survey answers as CSV over the API (defused, anonymity applied), beside `psql
\\copy` of the same query and of the bare columns (no rule applied at all).

The real `coe-bot serve` (its own process, PostgreSQL) streams
`/api/v1/runs/{id}/responses?format=csv`; psql copies the same query to /dev/null. The
server's peak resident memory is read from /proc while it streams (VmHWM).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from benchmarks.http import free_port, serve, stand_in_env, wait_healthy
from bot import db
from bot.models import SurveyRun
from bot.services import survey_disclosure
from bot.standin import FakeSlack

SERVER = os.environ.get("BENCH_POSTGRES", "postgresql+asyncpg://postgres@127.0.0.1:5432")
DATABASE = "bench_export"
ROWS = 1_000_000
DEFINITION = (
    '{"id": "pulse", "title": "Pulse", "intro": "x", "anonymous": true,'
    ' "audience": {"active_days": 30}, "window_days": 7, "reminder_after_days": 3,'
    ' "questions": [{"id": "useful", "type": "likert", "text": "Useful?"},'
    ' {"id": "recommend", "type": "nps", "text": "Recommend?"},'
    ' {"id": "why", "type": "text", "text": "Why?", "required": false}]}'
)


async def _seed(url: str) -> None:
    admin = create_async_engine(f"{SERVER}/postgres", isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"))
        await conn.execute(text(f"CREATE DATABASE {DATABASE}"))
    await admin.dispose()
    await asyncio.to_thread(db.migrate, url)
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO survey (id, title, anonymous, definition, version, source, created_at,"
                " updated_at) VALUES ('pulse', 'Pulse', true, CAST(:d AS json), 1, 'bench', now(),"
                " now())"
            ),
            {"d": DEFINITION},
        )
        await conn.execute(
            text(
                "INSERT INTO survey_run (survey_id, period, definition, status, started_by,"
                " started_at, closes_at, audience_size) VALUES ('pulse', 'p', CAST(:d AS json),"
                " 'closed', 'bench', now(), now() + interval '7 days', 1200000)"
            ),
            {"d": DEFINITION},
        )
        await conn.execute(
            text(
                "INSERT INTO survey_response (run_id, respondent_key, team, answers, submitted_at,"
                " updated_at) SELECT 1, md5(i::text), 'team' || (i % 40),"
                " json_build_object('useful', 1 + i % 5, 'recommend', i % 11,"
                " 'why', 'because of reason ' || i), now(), now()"
                f" FROM generate_series(1, {ROWS}) AS i"
            )
        )
        await conn.execute(text("ANALYZE survey_response"))
    await engine.dispose()


RAW = (
    "SELECT id, updated_at, team, answers->>'useful', answers->>'recommend', answers->>'why'"
    " FROM survey_response WHERE run_id = 1 ORDER BY id"
)


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "ARRAY[" + ", ".join(_literal(v) for v in value) + "]::text[]"
    return "'" + str(value).replace("'", "''") + "'"


async def _api_query(url: str) -> str:
    """The API's own query for run 1 (released, labelled, defused), parameters inlined."""
    engine = db.create_engine(url)
    try:
        async with db.make_sessions(engine)() as session:
            run = await session.get(SurveyRun, 1)
            assert run is not None
            released = await survey_disclosure.release(
                session=session, run=run, rules=survey_disclosure.Rules(5, 10)
            )
    finally:
        await engine.dispose()
    sql, args = survey_disclosure.copy_sql(released)
    for number, value in sorted(enumerate(args, start=1), reverse=True):
        sql = sql.replace(f"${number}", _literal(value))
    return sql


def _psql_copy(sql: str) -> float:
    """psql copying `sql`: the API's own query (defused, anonymity applied), or `RAW`, the
    bare columns: what a CSV of the table costs with no rule applied at all."""
    started = time.perf_counter()
    subprocess.run(
        [
            "psql",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-d",
            DATABASE,
            "-q",
            "-c",
            "SET jit = off",  # as the API runs it
            "-c",
            f"\\copy ({sql}) TO '/dev/null' WITH (FORMAT csv, HEADER)",
        ],
        check=True,
    )
    return time.perf_counter() - started


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def _api_export(port: int) -> tuple[float, int]:
    started = time.perf_counter()
    size = 0
    timeout = aiohttp.ClientTimeout(total=600)
    async with (
        aiohttp.ClientSession(timeout=timeout) as session,
        session.get(
            f"http://127.0.0.1:{port}/api/v1/runs/1/responses?format=csv",
            headers={"Authorization": "Bearer bench-token-0123456789"},
        ) as response,
    ):
        assert response.status == 200, response.status
        async for chunk in response.content.iter_chunked(1 << 16):
            size += len(chunk)
    return time.perf_counter() - started, size


async def _run() -> dict[str, Any]:
    url = f"{SERVER}/{DATABASE}"
    started = time.perf_counter()
    await _seed(url)
    seeded = time.perf_counter() - started
    api_sql = await _api_query(url)
    work = Path(tempfile.mkdtemp(prefix="coe-export-"))
    async with FakeSlack() as slack:
        port = free_port()
        env = stand_in_env(slack, url, "x", COE_API_TOKEN="bench-token-0123456789")
        server = serve(env, port, work)
        try:
            await wait_healthy(f"http://127.0.0.1:{port}/healthz")
            base_rss = _peak_rss_mb(server.pid)
            copies, raw_copies, exports = [], [], []
            size = 0
            for _ in range(3):
                copies.append(await asyncio.to_thread(_psql_copy, api_sql))
                raw_copies.append(await asyncio.to_thread(_psql_copy, RAW))
                seconds, size = await _api_export(port)
                exports.append(seconds)
            peak = _peak_rss_mb(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=15)
    api_s, psql_s, raw_s = min(exports), min(copies), min(raw_copies)
    return {
        "rows": ROWS,
        "seed_seconds": round(seeded, 1),
        "csv_megabytes": round(size / 1e6, 1),
        "api_seconds": [round(x, 2) for x in exports],
        "psql_copy_seconds": [round(x, 2) for x in copies],
        "api_rows_per_second": round(ROWS / api_s),
        "psql_rows_per_second": round(ROWS / psql_s),
        "throughput_ratio_api_over_psql": round(psql_s / api_s, 2),
        "psql_raw_columns_seconds": [round(x, 2) for x in raw_copies],
        "throughput_ratio_api_over_psql_raw_columns": round(raw_s / api_s, 2),
        "server_peak_rss_mb": round(peak, 1),
        "server_rss_before_mb": round(base_rss, 1),
    }


def run() -> dict[str, Any]:
    return asyncio.run(_run())
