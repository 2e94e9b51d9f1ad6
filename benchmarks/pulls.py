"""Pull requests at organisation scale (issue 20): a 5,000-developer organisation's year
(≈ 400,000 pull requests in 250 repositories) back-filled from the GitHub GraphQL stand-in
into PostgreSQL within the importer's point budget (counted by the stand-in, on a simulated
clock: the waits for the next hour are simulated, not slept); the pull killed with SIGKILL
midway and resumed, counting the pages fetched twice; and the next day's incremental pull,
in points.

Run: `.venv/bin/python -m benchmarks pulls` (PostgreSQL server: `BENCH_POSTGRES_URL`,
default postgresql+asyncpg://postgres@127.0.0.1:5432; its own database, recreated).
`PULLS_BENCH_PRS` (400000) sizes the year; `PULLS_BENCH_KILL_REPOS` (40) the part killed
and resumed. The kill runs the importer in a child process (`python -m benchmarks.pulls
work …`) against the stand-in in this one, as GitHub is another machine.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import json
import os
import random
import signal
import sys
import time
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bot.db import create_engine, make_sessions, migrate
from bot.impact import pulls
from bot.standin.github_pulls import FakeGitHubPulls, Pull, Review
from bot.usage.github import GitHubClient

POSTGRES_SERVER = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432"
)
PRS = int(os.environ.get("PULLS_BENCH_PRS", "400000"))
KILL_REPOS = int(os.environ.get("PULLS_BENCH_KILL_REPOS", "40"))
REPOS = 250
DEVELOPERS = 5000
END = dt.datetime(2026, 11, 30, 18, 0, tzinfo=dt.UTC)
DAILY_NEW = PRS // 365  # a day's new pull requests


class SimClock:
    """Simulated time: the importer's budget waits move it instead of sleeping."""

    def __init__(self) -> None:
        self.now = END
        self.seconds = 0.0
        self.waited = 0.0

    def monotonic(self) -> float:
        return self.seconds

    async def sleep(self, seconds: float) -> None:
        self.seconds += seconds
        self.waited += seconds
        self.now += dt.timedelta(seconds=seconds)


class Year:
    """The organisation's pull requests, made per repository when first asked for."""

    def __init__(self, prs: int, repos: int) -> None:
        self.per_repo = prs // repos
        self.names = [f"service-{n:03d}" for n in range(repos)]

    @functools.cache  # noqa: B019 - kept for the run
    def pulls(self, repo: str) -> list[Pull]:
        index = self.names.index(repo)
        rng = random.Random(index)
        found = []
        for number in range(1, self.per_repo + 1):
            created = END - dt.timedelta(
                days=365 * (1 - number / self.per_repo), hours=rng.uniform(1, 30)
            )
            merged = created + dt.timedelta(hours=rng.lognormvariate(3.5, 0.7))
            author = f"dev{(index * 20 + rng.randrange(20)) % DEVELOPERS:04d}"
            found.append(
                Pull(
                    number,
                    f"change {number}",
                    author,
                    created,
                    merged_at=min(merged, END),
                    additions=rng.randrange(1, 400),
                    deletions=rng.randrange(0, 100),
                    labels=["ai-assisted"] if rng.random() < 0.3 else [],
                    reviews=[Review(f"dev{rng.randrange(DEVELOPERS):04d}", merged)],
                )
            )
        return found


def stand_in(year: Year, clock: SimClock, repos: list[str], points: int) -> FakeGitHubPulls:
    fake = FakeGitHubPulls(now=lambda: clock.now, points_per_hour=points, org="bench")
    for repo in repos:
        fake.add_repo(repo)
    fake.source = year.pulls
    return fake


async def _database(name: str) -> str:
    server = make_url(POSTGRES_SERVER)
    admin = create_async_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    return server.set(database=name).render_as_string(hide_password=False)


async def _backfill(url: str, year: Year) -> dict[str, Any]:
    """The whole year, then the next day's changes, on a simulated clock."""
    clock = SimClock()
    engine = create_engine(url)
    sessions = make_sessions(engine)
    budget = pulls.Budget(points_per_hour=pulls.POINTS_PER_HOUR, clock=clock.monotonic)
    async with (
        stand_in(year, clock, year.names, 5000) as fake,
        GitHubClient(fake.api_url, fake.token, sleep=clock.sleep) as github,
    ):
        started = time.perf_counter()
        done = await pulls.pull(
            sessions=sessions,
            github=github,
            org=fake.org,
            now=clock.now,
            budget=budget,
            sleep=clock.sleep,
        )
        wall = time.perf_counter() - started
        backfill = {
            "pull_requests": done.stored,
            "repositories": done.repos,
            "pages": done.pages,
            "points_counted_by_stand_in": fake.points_spent,
            "points_in_busiest_hour": fake.window_peak,
            "budget_points_per_hour": pulls.POINTS_PER_HOUR,
            "simulated_hours": round((clock.seconds) / 3600, 2),
            "wall_seconds": round(wall, 1),
            "pull_requests_per_second": round(done.stored / wall),
            "reverts_linked": done.reverts,
        }
        # the next day: a day's new pull requests, and as many older ones updated
        clock.now += dt.timedelta(days=1)
        rng = random.Random(5)
        for n in range(DAILY_NEW):
            repo = year.names[rng.randrange(len(year.names))]
            fake.add_pull(
                repo, Pull(10**6 + n, "new", "dev0001", clock.now - dt.timedelta(hours=3))
            )
            old = year.pulls(repo)[rng.randrange(year.per_repo)]
            fake.add_pull(
                repo,
                Pull(
                    old.number,
                    old.title + " (edited)",
                    old.author,
                    old.created_at,
                    updated_at=clock.now - dt.timedelta(hours=1),
                    merged_at=old.merged_at,
                ),
            )
        before_points, before_rest = fake.points_spent, fake.rest_requests
        daily = await pulls.pull(
            sessions=sessions,
            github=github,
            org=fake.org,
            now=clock.now,
            budget=budget,
            sleep=clock.sleep,
        )
        incremental = {
            "changed_pull_requests": 2 * DAILY_NEW,
            "stored": daily.stored,
            "pages": daily.pages,
            "points": fake.points_spent - before_points,
            "repo_list_requests_charged": fake.rest_requests - before_rest,
        }
    await engine.dispose()
    return {"backfill": backfill, "daily_incremental": incremental}


async def _kill_and_resume(url: str, year: Year) -> dict[str, Any]:
    clock = SimClock()
    repos = year.names[:KILL_REPOS]
    async with stand_in(year, clock, repos, 10**9) as fake:
        args = [sys.executable, "-m", "benchmarks.pulls", "work", fake.api_url, fake.token, url]
        needed = sum(-(-year.per_repo // pulls.PAGE) for _ in repos)
        child = await asyncio.create_subprocess_exec(*args)
        # the stand-in counts pages as they are served: poll it (no event to wait on)
        while fake.graphql_requests < needed // 2 and child.returncode is None:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        if child.returncode is None:
            child.send_signal(signal.SIGKILL)
        await child.wait()
        killed_at = fake.graphql_requests
        child = await asyncio.create_subprocess_exec(*args)
        await child.wait()
        refetched = sum(count - 1 for count in fake.pages_served.values() if count > 1)
        engine = create_engine(url)
        async with engine.connect() as conn:
            stored = (await conn.execute(text("SELECT count(*) FROM pull_request"))).scalar_one()
        await engine.dispose()
    return {
        "pull_requests": year.per_repo * KILL_REPOS,
        "killed_after_pages": killed_at,
        "pages_in_all": fake.graphql_requests,
        "pages_needed": needed,
        "pages_fetched_twice": refetched,
        "stored_after_resume": stored,
        "resumed_exit_code": child.returncode,
    }


async def _work(api_url: str, token: str, url: str) -> None:
    """The child: one pull, as the daily job runs it (no budget wait: points are plenty)."""
    engine = create_engine(url)
    async with GitHubClient(api_url, token) as github:
        await pulls.pull(
            sessions=make_sessions(engine),
            github=github,
            org="bench",
            now=END,
            budget=pulls.Budget(points_per_hour=10**9),
        )
    await engine.dispose()


def run() -> dict[str, Any]:
    year = Year(PRS, REPOS)
    url = asyncio.run(_database("coe_bench_pulls"))
    migrate(url)
    results = asyncio.run(_backfill(url, year))
    kill_url = asyncio.run(_database("coe_bench_pulls_kill"))
    migrate(kill_url)
    results["sigkill_and_resume"] = asyncio.run(_kill_and_resume(kill_url, Year(PRS, REPOS)))
    return {"database": "postgresql", **results}


if __name__ == "__main__":
    if sys.argv[1:2] == ["work"]:
        asyncio.run(_work(*sys.argv[2:5]))
    else:
        print(json.dumps(run(), indent=2))
