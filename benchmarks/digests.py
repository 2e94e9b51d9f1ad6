"""A digest and a CoE admin's App Home over a year of data, on PostgreSQL.

A year: 100,000 questions, 50,000 prompts (with first uses and votes) and 1,000,000 survey
answers over 12 monthly runs, generated in the database with `generate_series`. The
digest is `bot.services.digests.build` for one week with every section; App Home is
`bot.services.home.personal` + `admin` (what a CoE admin's tab reads).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import statistics
import time
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot import db
from bot.services import digests, home
from bot.services.policy_pack import load_pack

SERVER = os.environ.get("BENCH_POSTGRES", "postgresql+asyncpg://postgres@127.0.0.1:5432")
DATABASE = "bench_digests"
NOW = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)

SEED = [
    """INSERT INTO prompt (title, body, tags_text, author_id, status, body_hash, version,
        helpful_count, user_count, use_count, score, created_at, updated_at)
       SELECT 'Prompt ' || i, 'Write tests for case ' || i, 'testing python', 'U' || (i % 900),
        'published', md5(i::text), 1, i % 7, i % 11, i % 13, (i % 100) / 100.0,
        :now - (i % 365) * interval '1 day', :now - (i % 365) * interval '1 day'
       FROM generate_series(1, 50000) AS i""",
    """INSERT INTO prompt_user (prompt_id, user_id, first_used_at)
       SELECT 1 + (i % 50000), 'U' || (i % 3000), :now - (i % 365) * interval '1 day'
       FROM generate_series(1, 200000) AS i ON CONFLICT DO NOTHING""",
    """INSERT INTO prompt_vote (prompt_id, user_id, created_at)
       SELECT 1 + (i % 50000), 'U' || (i % 2000), :now - (i % 365) * interval '1 day'
       FROM generate_series(1, 100000) AS i ON CONFLICT DO NOTHING""",
    """INSERT INTO question (asker_id, text, topics_text, status, champion_id, misses,
        escalation, created_at, answered_at, answer, answered_by, helpful, reuse_count,
        answer_deadline)
       SELECT 'U' || (i % 5000), 'How do I test case ' || i, 'testing',
        CASE WHEN i % 50 = 0 THEN 'open' ELSE 'answered' END,
        'C' || (i % 1000), 0, 0,
        :now - (i % 365) * interval '1 day' - interval '3 hours',
        CASE WHEN i % 50 = 0 THEN NULL ELSE :now - (i % 365) * interval '1 day' END,
        CASE WHEN i % 50 = 0 THEN NULL ELSE 'Like this ' || i END,
        CASE WHEN i % 50 = 0 THEN NULL ELSE 'C' || (i % 1000) END,
        CASE WHEN i % 3 = 0 THEN true WHEN i % 7 = 0 THEN false END, 0,
        :now - (i % 365) * interval '1 day' + interval '5 hours'
       FROM generate_series(1, 100000) AS i""",
    """INSERT INTO survey (id, title, anonymous, definition, version, source, created_at,
        updated_at) VALUES ('pulse', 'Monthly pulse', true,
        '{"title": "Monthly pulse"}', 1, 'bench', :now, :now)""",
    """INSERT INTO survey_run (survey_id, period, definition, status, started_by, started_at,
        closes_at, audience_size)
       SELECT 'pulse', 'm' || m, '{"title": "Monthly pulse"}',
        CASE WHEN m = 0 THEN 'open' ELSE 'closed' END, 'bench',
        :now - (m * 30 + 2) * interval '1 day', :now - (m * 30 - 5) * interval '1 day', 90000
       FROM generate_series(0, 11) AS m""",
    """INSERT INTO survey_response (run_id, respondent_key, team, answers, submitted_at,
        updated_at)
       SELECT 1 + (i % 12), md5(i::text), 'team' || (i % 40), '{"useful": 4, "recommend": 9}',
        :now - (i % 365) * interval '1 day', :now - (i % 365) * interval '1 day'
       FROM generate_series(1, 1000000) AS i""",
    "ANALYZE",
]


def _ms(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
        "runs": len(ordered),
    }


async def _reset() -> None:
    engine = create_async_engine(f"{SERVER}/postgres", isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"))
            await conn.execute(text(f"CREATE DATABASE {DATABASE}"))
    finally:
        await engine.dispose()


async def _measure(url: str) -> dict[str, Any]:
    engine = db.create_engine(url)
    sessions = db.make_sessions(engine)
    started = time.perf_counter()
    async with engine.begin() as conn:
        for statement in SEED:
            typed = statement.replace(":now", "CAST(:now AS timestamptz)")
            await conn.execute(text(typed), {"now": NOW} if ":now" in statement else {})
    seeded = time.perf_counter() - started
    pack = load_pack().pack
    digest_times, home_times = [], []
    for week in range(12):
        end = NOW - dt.timedelta(days=7 * week)
        async with sessions() as session:
            t0 = time.perf_counter()
            built = await digests.build(
                session=session,
                start=end - digests.PERIOD,
                end=end,
                sections=digests.SECTIONS,
                pack=pack,
            )
            digest_times.append(time.perf_counter() - t0)
        assert built.has_news
        async with sessions() as session:
            t0 = time.perf_counter()
            await home.personal(session=session, user_id="U42", now=NOW)
            await home.admin(session=session)
            home_times.append(time.perf_counter() - t0)
    await engine.dispose()
    return {
        "seed_seconds": round(seeded, 1),
        "digest_one_week_all_sections": _ms(digest_times),
        "app_home_coe_admin": _ms(home_times),
    }


def run() -> dict[str, Any]:
    asyncio.run(_reset())
    url = f"{SERVER}/{DATABASE}"
    db.migrate(url)
    return asyncio.run(_measure(url))
