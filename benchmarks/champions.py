"""Champion routing and the escalation sweep with 1,000 champions and 10,000 open questions.

Issue targets: the routing decision under 5 ms median; the escalation sweep over all open
questions under 1 s on PostgreSQL.

Per back end: a fresh, migrated database (a SQLite file in a temp dir; the PostgreSQL
database `bench_champions`, dropped and recreated), seeded through the real tables with
executemany: 50 teams, 1,000 champions (1-3 topics each, capacity 5-15, ~5% away) and
10,000 open or claimed questions, each with its `question_assignment` rows. Deadlines are
spread around a fixed "now" so that 30% of the questions are overdue for a claim and 10%
overdue for an answer. Then:

* routing: `routing.pick` (what `ask` uses) for 1,000 random questions, each in
  its own session (and `choose` alone, which is pure);
* `questions.ask` for 200 questions, each in a transaction that is rolled back;
* the escalation sweep (`escalation.sweep`) over the whole overdue set: one call with a
  limit above the set, and the loop of default calls (500 each) until one returns nothing;
  each in one transaction, rolled back (PostgreSQL is vacuumed after each, as autovacuum
  would). On SQLite, for information only, the loop stops after a time budget and the
  one-call sweep is skipped (BENCH_CHAMPIONS_SQLITE_SWEEP_S=0 runs both in full). Business
  hours are 00:00-23:59 every day, so every moment counts.

SQL time is attributed to statement shapes (before/after_cursor_execute events), so the
report shows where a slow sweep spends it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import os
import random
import re
import shutil
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import event, insert, text
from sqlalchemy.ext.asyncio import AsyncEngine

from benchmarks import recreate_postgres_database
from bot.db import create_engine, make_sessions, migrate
from bot.models import Champion, Question, QuestionAssignment, Team
from bot.services import escalation, questions, routing
from bot.services.business_hours import BusinessHours
from bot.services.questions import Deadlines

TEAMS = 50
CHAMPIONS = 1_000
QUESTIONS = 10_000
ROUTINGS = 1_000
ASKS = 200
WARMUP = 50
BATCH = 2_000
SEED = 1_000
AWAY_SHARE = 0.05
# Question states (shares of QUESTIONS): open and overdue for a claim, of which some also
# overdue for an answer; open and waiting; claimed, some overdue for an answer.
CLAIM_OVERDUE = 0.27
CLAIM_AND_ANSWER_OVERDUE = 0.03
OPEN_WAITING = 0.25
CLAIMED_ANSWER_OVERDUE = 0.07
SECOND_CHANCE_SHARE = 0.2  # open questions a first champion already missed (misses = 1)
NOW = dt.datetime(2026, 12, 2, 14, 0, tzinfo=dt.UTC)  # a Wednesday afternoon
CLAIM = dt.timedelta(minutes=30)  # the bot's defaults (claim_deadline_minutes, ...)
ANSWER = dt.timedelta(hours=8)  # ... answer_deadline_hours)
SWEEP_ONE_CALL_LIMIT = 20_000
OVERDUE_CLAIMS = round((CLAIM_OVERDUE + CLAIM_AND_ANSWER_OVERDUE) * QUESTIONS)
# SQLite is for information: its loop of default sweeps stops between calls after this many
# seconds (and the one-call sweep is skipped) to keep the run short; 0 runs both in full.
SQLITE_SWEEP_BUDGET_S = float(os.environ.get("BENCH_CHAMPIONS_SQLITE_SWEEP_S", "10"))
COMMUNITY = "C0COMMUNITY"
COE = "C0COE"
POSTGRES_SERVER = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432"
)
POSTGRES_DATABASE = "bench_champions"
TARGET_ROUTING_P50_MS = 5.0
TARGET_SWEEP_S = 1.0

# ---------------------------------------------------------------------------------------------
# The organisation and its questions
# ---------------------------------------------------------------------------------------------

TOPICS = (
    "python", "testing", "security", "prompting", "java", "go", "sql", "frontend", "data",
    "devops",
)  # fmt: skip
TOPIC_WEIGHTS = (18, 14, 10, 12, 9, 6, 8, 10, 8, 5)
TEAM_AREAS = (
    "payments", "checkout", "search", "identity", "billing", "ledger", "fraud", "pricing",
    "shipping", "inventory", "analytics", "messaging", "notifications", "onboarding",
    "platform", "mobile", "web", "data-platform", "ml", "security",
)  # fmt: skip
TEAM_SUFFIXES = ("core", "api", "apps", "infra", "insights")

QUESTION_TEMPLATES: dict[str, tuple[str, ...]] = {
    "python": (
        "How should we type-check a Python service that uses async SQLAlchemy sessions?",
        "Is it safe to let the assistant rewrite our Python packaging to pyproject.toml?",
        "Which Python formatter config do other teams use with the AI code review bot?",
    ),
    "testing": (
        "How do you get the assistant to write tests that are not just mocks of mocks?",
        "Generated unit tests pass but miss edge cases; how do you review testing output?",
        "Can we use AI to generate property-based tests for the parser?",
    ),
    "security": (
        "Is pasting stack traces with customer IDs into the assistant a security problem?",
        "How do we check AI-suggested dependencies for known vulnerabilities?",
        "What is the security review process for code written mostly by the assistant?",
    ),
    "prompting": (
        "Any prompting tips to stop the model inventing function names in our codebase?",
        "How do you structure a prompt so the refactoring keeps the public API?",
        "Good prompt patterns for summarising long incident timelines?",
    ),
    "java": (
        "The assistant keeps suggesting Java 8 idioms; how do we get it to use records?",
        "Has anyone migrated Spring Boot 2 to 3 with the assistant's help in Java?",
        "How do you review AI-generated JUnit 5 tests for our Java services?",
    ),
    "go": (
        "Does the assistant handle Go error wrapping well or should we avoid it?",
        "How do we get table-driven tests in Go from the code assistant?",
        "Any advice on AI help with goroutine leaks in our Go workers?",
    ),
    "sql": (
        "Can the assistant be trusted with SQL migrations on large tables?",
        "How do you check an AI-written SQL query plan before it hits production?",
        "Is it fine to share our SQL schema with the assistant for query tuning?",
    ),
    "frontend": (
        "How do you stop generated React components from ignoring our frontend design system?",
        "Is AI-generated CSS acceptable for accessibility reviews on the frontend?",
        "What frontend tasks is the assistant actually good at for you?",
    ),
    "data": (
        "May we send sample production data to the assistant to debug a pipeline?",
        "How do you validate a data transformation the assistant wrote in dbt?",
        "Which data classification levels are allowed in prompts?",
    ),
    "devops": (
        "Can the assistant write our Terraform modules or is that against devops policy?",
        "How do you review AI-generated Kubernetes manifests in the devops pipeline?",
        "Has anyone used the assistant for GitHub Actions devops workflows?",
    ),
}


@dataclass
class Dataset:
    teams: list[dict[str, Any]] = field(default_factory=list)
    champions: list[dict[str, Any]] = field(default_factory=list)
    questions: list[dict[str, Any]] = field(default_factory=list)
    assignments: list[dict[str, Any]] = field(default_factory=list)
    states: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0


def _weighted_topics(rng: random.Random, count: int) -> list[str]:
    chosen: list[str] = []
    while len(chosen) < count:
        topic = rng.choices(TOPICS, TOPIC_WEIGHTS)[0]
        if topic not in chosen:
            chosen.append(topic)
    return chosen


def _question_text(rng: random.Random) -> tuple[str, int]:
    topics = _weighted_topics(rng, rng.choice((1, 1, 1, 2)))
    parts = [rng.choice(QUESTION_TEMPLATES[t]) for t in topics]
    return " ".join(parts), len(topics)


def _states(rng: random.Random, count: int) -> list[str]:
    shares = {
        "claim_overdue": CLAIM_OVERDUE,
        "claim_and_answer_overdue": CLAIM_AND_ANSWER_OVERDUE,
        "open_waiting": OPEN_WAITING,
        "claimed_answer_overdue": CLAIMED_ANSWER_OVERDUE,
    }
    states = [s for s, share in shares.items() for _ in range(round(share * count))]
    states += ["claimed"] * (count - len(states))
    rng.shuffle(states)
    return states


def build_dataset(seed: int = SEED) -> Dataset:
    """Teams, champions and questions as table rows (explicit question IDs, assignments not)."""
    started = time.perf_counter()
    rng = random.Random(seed)
    data = Dataset()
    created = NOW - dt.timedelta(days=200)
    names = [f"{a}-{s}" for a in TEAM_AREAS for s in TEAM_SUFFIXES]
    rng.shuffle(names)
    data.teams = [
        {"id": i + 1, "name": name, "created_at": created} for i, name in enumerate(names[:TEAMS])
    ]
    by_team_topic: dict[tuple[int, str], list[str]] = {}
    by_team: dict[int, list[str]] = {}
    by_topic: dict[str, list[str]] = {}
    known = set(TOPICS)
    for i in range(CHAMPIONS):
        user_id = f"UCH{i:06d}"
        team_id = i % TEAMS + 1
        topics = _weighted_topics(rng, rng.choice((1, 2, 2, 3)))
        data.champions.append(
            {
                "user_id": user_id,
                "team_id": team_id,
                "topics_text": " ".join(topics),
                "available": rng.random() >= AWAY_SHARE,
                "capacity": rng.randint(5, 15),
                "active": True,
                "created_at": created + dt.timedelta(minutes=i),
                "deactivated_at": None,
                "deactivated_reason": None,
            }
        )
        by_team.setdefault(team_id, []).append(user_id)
        for topic in topics:
            by_team_topic.setdefault((team_id, topic), []).append(user_id)
            by_topic.setdefault(topic, []).append(user_id)

    def route(team_id: int, topics: frozenset[str], avoid: str | None) -> tuple[str, str]:
        """Where routing would have sent it, ignoring load (so loads vary around capacity)."""
        about = ", ".join(sorted(topics))
        mine = [u for t in sorted(topics) for u in by_team_topic.get((team_id, t), [])]
        anywhere = [u for t in sorted(topics) for u in by_topic.get(t, [])]
        tiers = (
            (f"a champion of your team for {about}", mine),
            ("a champion of your team", by_team[team_id]),
            (f"a {about} champion in another team", anywhere),
        )
        for reason, pool in tiers:
            pool = [u for u in pool if u != avoid]
            if pool:
                return rng.choice(pool), reason
        raise AssertionError("every team has champions")

    for qid, state in enumerate(_states(rng, QUESTIONS), start=1):
        body, _ = _question_text(rng)
        topics = routing.question_topics(body, known)
        team_id = rng.randint(1, TEAMS)
        answer_overdue = state in {"claim_and_answer_overdue", "claimed_answer_overdue"}
        if answer_overdue:  # asked 8 hours to 3 days ago
            created_at = NOW - ANSWER - dt.timedelta(minutes=rng.randint(1, 64 * 60))
        elif state == "open_waiting":  # assigned in the last 30 minutes
            created_at = NOW - dt.timedelta(minutes=rng.randint(0, 29), seconds=rng.randint(0, 59))
        else:  # asked more than an hour but less than 8 hours ago
            created_at = NOW - dt.timedelta(minutes=rng.randint(61, 8 * 60 - 1))
        is_open = state in {"claim_overdue", "claim_and_answer_overdue", "open_waiting"}
        misses = 1 if is_open and rng.random() < SECOND_CHANCE_SHARE else 0
        champion, reason = route(team_id, topics, None)
        assigned_at = created_at
        if misses:  # a first champion missed the claim; this is the second one
            first, first_reason = route(team_id, topics, champion)
            missed_at = created_at + CLAIM
            if state == "open_waiting":
                missed_at = min(missed_at, NOW - dt.timedelta(seconds=rng.randint(1, 600)))
                created_at = missed_at - CLAIM
            data.assignments.append(
                _assignment(qid, first, first_reason, created_at, missed_at, "missed")
            )
            assigned_at = missed_at
        claimed_at = None
        if not is_open:
            claimed_at = assigned_at + dt.timedelta(minutes=rng.randint(1, 29))
            claimed_at = min(claimed_at, NOW)
        data.assignments.append(
            _assignment(
                qid,
                champion,
                reason,
                assigned_at,
                claimed_at,
                "claimed" if claimed_at else None,
            )
        )
        data.questions.append(
            {
                "id": qid,
                "asker_id": f"U{rng.randint(1, 6_000):07d}",
                "team_id": team_id,
                "text": body,
                "topics_text": " ".join(sorted(topics)),
                "status": "open" if is_open else "claimed",
                "champion_id": champion,
                "route_reason": reason,
                "misses": misses,
                "escalation": 0,
                "claim_deadline": assigned_at + CLAIM if is_open else None,
                "answer_deadline": created_at + ANSWER,
                "created_at": created_at,
                "assigned_at": assigned_at,
                "claimed_at": claimed_at,
                "answered_at": None,
                "answer": None,
                "answered_by": None,
                "helpful": None,
                "reused_from": None,
                "reuse_count": 0,
            }
        )
        data.states[state] += 1
    data.seconds = time.perf_counter() - started
    return data


def _assignment(
    question_id: int,
    champion: str,
    reason: str,
    assigned_at: dt.datetime,
    ended_at: dt.datetime | None,
    outcome: str | None,
) -> dict[str, Any]:
    return {
        "question_id": question_id,
        "champion_id": champion,
        "reason": reason,
        "assigned_at": assigned_at,
        "ended_at": ended_at,
        "outcome": outcome,
    }


def build_asks(count: int, seed: int) -> list[tuple[str, int, str]]:
    """(asker, team, text) for new questions."""
    rng = random.Random(seed)
    return [
        (f"U{rng.randint(1, 6_000):07d}", rng.randint(1, TEAMS), _question_text(rng)[0])
        for _ in range(count)
    ]


def _dataset_stats(data: Dataset) -> dict[str, Any]:
    loads = Counter(q["champion_id"] for q in data.questions)
    spare = sum(1 for c in data.champions if loads[c["user_id"]] < c["capacity"])
    claim_overdue = sum(
        1 for q in data.questions if q["claim_deadline"] and q["claim_deadline"] <= NOW
    )
    answer_overdue = sum(1 for q in data.questions if q["answer_deadline"] <= NOW)
    return {
        "teams": len(data.teams),
        "champions": len(data.champions),
        "champions_away": sum(1 for c in data.champions if not c["available"]),
        "champions_below_capacity": spare,
        "open_load_p50_max": [int(statistics.median(loads.values())), max(loads.values())],
        "questions": len(data.questions),
        "questions_open": sum(1 for q in data.questions if q["status"] == "open"),
        "questions_claimed": sum(1 for q in data.questions if q["status"] == "claimed"),
        "questions_second_champion": sum(1 for q in data.questions if q["misses"]),
        "overdue_for_claim": claim_overdue,
        "overdue_for_answer": answer_overdue,
        "assignments": len(data.assignments),
        "states": dict(data.states.most_common()),
        "generate_s": round(data.seconds, 2),
    }


# ---------------------------------------------------------------------------------------------
# Seeding
# ---------------------------------------------------------------------------------------------


def _batches(rows: list[Any], size: int = BATCH) -> Iterator[list[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


async def seed(engine: AsyncEngine, data: Dataset) -> dict[str, float]:
    started = time.perf_counter()
    tables = (
        (Team.__table__, data.teams),  # type: ignore[attr-defined]
        (Champion.__table__, data.champions),  # type: ignore[attr-defined]
        (Question.__table__, data.questions),  # type: ignore[attr-defined]
        (QuestionAssignment.__table__, data.assignments),  # type: ignore[attr-defined]
    )
    for table, rows in tables:
        for batch in _batches(rows):
            async with engine.begin() as conn:
                await conn.execute(insert(table), batch)
    inserted_s = time.perf_counter() - started
    async with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            for table in ("team", "question"):
                await conn.execute(
                    text(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))")
                )
            await conn.commit()
            # What autovacuum would do soon after a bulk load: planner statistics, VM.
            autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.execute(text("VACUUM ANALYZE"))
        else:
            await conn.execute(text("ANALYZE"))
            await conn.commit()
    return {
        "insert_s": round(inserted_s, 2),
        "total_s": round(time.perf_counter() - started, 2),
    }


# ---------------------------------------------------------------------------------------------
# Measuring
# ---------------------------------------------------------------------------------------------


def _pct(values: list[int], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


def _ms(timings: list[int]) -> dict[str, float]:
    return {
        "p50_ms": round(_pct(timings, 0.50) / 1e6, 3),
        "p99_ms": round(_pct(timings, 0.99) / 1e6, 3),
        "max_ms": round(max(timings) / 1e6, 3),
    }


_SPACES = re.compile(r"\s+")
_BIND_LISTS = re.compile(r"\((?:\s*(?:\$\d+|\?)(?:::\w+)?\s*,?)+\)")


class SqlClock:
    """Counts statements and their time per statement shape on one engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.statements = 0
        self.by_shape: dict[str, list[float]] = {}
        self._started: list[float] = []
        event.listen(engine.sync_engine, "before_cursor_execute", self._before)
        event.listen(engine.sync_engine, "after_cursor_execute", self._after)

    def reset(self) -> None:
        self.statements = 0
        self.by_shape = {}

    def _before(self, *_: Any) -> None:
        self._started.append(time.perf_counter())

    def _after(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        elapsed = time.perf_counter() - self._started.pop()
        self.statements += 1
        shape = _BIND_LISTS.sub("(…)", _SPACES.sub(" ", statement).strip())
        shape = re.sub(r"^SELECT .*? FROM", "SELECT … FROM", shape)
        entry = self.by_shape.setdefault(shape[:150], [0, 0.0])
        entry[0] += 1
        entry[1] += elapsed

    def top(self, n: int = 6) -> dict[str, str]:
        ranked = sorted(self.by_shape.items(), key=lambda item: item[1][1], reverse=True)[:n]
        return {
            shape: f"{int(c)} × {1000 * s / max(c, 1):.2f} ms = {s:.2f} s"
            for shape, (c, s) in ranked
        }


def _deadlines() -> Deadlines:
    return Deadlines(
        hours=BusinessHours.parse("00:00-23:59", "mon-sun", "UTC"), claim=CLAIM, answer=ANSWER
    )


def _tier(choice: routing.Choice | None) -> str:
    if choice is None:
        return "nobody"
    if choice.reason.startswith("a champion of your team for "):
        return "own team, topic"
    return "own team" if choice.reason == "a champion of your team" else "other team, topic"


async def bench_routing(engine: AsyncEngine, asks: list[tuple[str, int, str]]) -> dict[str, Any]:
    """The routing decision as `ask` makes it (`routing.pick`), and `choose` alone over
    every champion (pure, in memory) for comparison."""
    sessions = make_sessions(engine)
    known = set(TOPICS)
    deciding: list[int] = []
    choosing: list[int] = []
    reasons: Counter[str] = Counter()
    async with sessions() as session:
        everyone = list((await routing.load_candidates(session=session)).values())
    for i, (asker, team, body) in enumerate(asks):
        topics = routing.question_topics(body, known)
        async with sessions() as session:
            t0 = time.perf_counter_ns()
            choice = await routing.pick(
                session=session, asker_id=asker, team_id=team, topics=topics
            )
            t1 = time.perf_counter_ns()
        routing.choose(everyone, asker_id=asker, team_id=team, topics=topics)
        t2 = time.perf_counter_ns()
        if i < WARMUP:
            continue
        deciding.append(t1 - t0)
        choosing.append(t2 - t1)
        reasons[_tier(choice)] += 1
    return {
        "decisions": len(deciding),
        "pick": _ms(deciding),
        "choose_over_all_champions": {
            "p50_us": round(_pct(choosing, 0.5) / 1e3, 1),
            "p99_us": round(_pct(choosing, 0.99) / 1e3, 1),
        },
        "outcomes": dict(reasons.most_common()),
    }


async def bench_ask(
    engine: AsyncEngine, clock: SqlClock, asks: list[tuple[str, int, str]]
) -> dict[str, Any]:
    sessions = make_sessions(engine)
    deadlines = _deadlines()
    timings: list[int] = []
    statements: list[int] = []
    routed = 0
    for i, (asker, team, body) in enumerate(asks):
        async with sessions() as session:
            clock.reset()
            t0 = time.perf_counter_ns()
            _, notices = await questions.ask(
                session=session,
                asker_id=asker,
                team_id=team,
                text_=body,
                now=NOW,
                deadlines=deadlines,
                community_channel=COMMUNITY,
            )
            elapsed = time.perf_counter_ns() - t0
            await session.rollback()
        if i < WARMUP // 5:
            continue
        timings.append(elapsed)
        statements.append(clock.statements)
        routed += any(n.kind == "champion-dm" for n in notices)
    return {
        "asks": len(timings),
        **_ms(timings),
        "statements_per_ask": statistics.mean(statements),
        "routed_to_a_champion": routed,
    }


async def bench_sweep(
    engine: AsyncEngine, clock: SqlClock, *, loop: bool, budget_s: float | None = None
) -> dict[str, Any]:
    """One transaction of sweeping, rolled back; a loop stops between calls past `budget_s`."""
    sessions = make_sessions(engine)
    deadlines = _deadlines()
    kinds: Counter[str] = Counter()
    calls = 0
    complete = True
    clock.reset()
    async with sessions() as session:
        started = time.perf_counter()
        while True:
            found = await escalation.sweep(
                session=session,
                now=NOW,
                deadlines=deadlines,
                community_channel=COMMUNITY,
                coe_channel=COE,
                limit=500 if loop else SWEEP_ONE_CALL_LIMIT,
            )
            calls += 1
            kinds.update(n.kind for n in found)
            if not loop or not found:
                break
            if budget_s is not None and time.perf_counter() - started > budget_s:
                complete = False
                break
        seconds = time.perf_counter() - started
        await session.rollback()
    if engine.dialect.name == "postgresql":  # the rolled-back versions, as autovacuum would
        async with engine.connect() as conn:
            autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.execute(text("VACUUM question, question_assignment"))
    missed = kinds["champion-dm"] + kinds["asker-community"]  # one of them per missed claim
    result: dict[str, Any] = {
        "seconds": round(seconds, 2),
        "limit": 500 if loop else SWEEP_ONE_CALL_LIMIT,
        "calls": calls,
        "complete": complete,
        "missed_claims_handled": missed,
        "notices": sum(kinds.values()),
        "by_kind": dict(kinds.most_common()),
        "statements": clock.statements,
        "sql_seconds": round(sum(s for _, s in clock.by_shape.values()), 2),
        "top_statements": clock.top(),
    }
    if not complete:
        result["estimated_full_s"] = round(seconds * OVERDUE_CLAIMS / max(missed, 1), 1)
    return result


async def bench_backend(url: str, data: Dataset) -> dict[str, Any]:
    engine = create_engine(url)
    name = engine.dialect.name
    try:
        seeding = await seed(engine, data)
        clock = SqlClock(engine)
        results: dict[str, Any] = {"seeding": seeding}
        results["routing"] = await bench_routing(engine, build_asks(ROUTINGS + WARMUP, seed=1))
        print(f"champions: {name} routing {results['routing']}", flush=True)
        results["ask"] = await bench_ask(engine, clock, build_asks(ASKS + WARMUP // 5, seed=2))
        print(f"champions: {name} ask {results['ask']}", flush=True)
        if name == "postgresql" or SQLITE_SWEEP_BUDGET_S <= 0:
            results["sweep_one_call"] = await bench_sweep(engine, clock, loop=False)
            print(f"champions: {name} sweep (one call) {results['sweep_one_call']}", flush=True)
        budget = SQLITE_SWEEP_BUDGET_S if name == "sqlite" and SQLITE_SWEEP_BUDGET_S > 0 else None
        results["sweep_default_calls"] = await bench_sweep(
            engine, clock, loop=True, budget_s=budget
        )
        print(f"champions: {name} sweep (loop) {results['sweep_default_calls']}", flush=True)
        async with engine.connect() as conn:  # the rollbacks left the data as seeded
            left = await conn.execute(
                text("SELECT count(*) FROM question WHERE claim_deadline <= :now"), {"now": NOW}
            )
            results["overdue_for_claim_after_rollbacks"] = left.scalar_one()
    finally:
        await engine.dispose()
    routing_p50 = results["routing"]["pick"]["p50_ms"]
    sweeps = [results[k] for k in ("sweep_one_call", "sweep_default_calls") if k in results]
    sweep_s = max(r.get("estimated_full_s", r["seconds"]) for r in sweeps)
    results["targets_met"] = {
        f"routing p50 < {TARGET_ROUTING_P50_MS:g} ms": routing_p50 < TARGET_ROUTING_P50_MS,
        f"sweep < {TARGET_SWEEP_S:g} s"
        + ("" if name == "postgresql" else " (PostgreSQL target)"): sweep_s < TARGET_SWEEP_S,
    }
    return results


# ---------------------------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------------------------


def _backend(url: str, data: Dataset) -> dict[str, Any]:
    t0 = time.perf_counter()
    migrate(url)  # synchronous: outside the event loop
    migrate_s = time.perf_counter() - t0
    results = asyncio.run(bench_backend(url, data))
    results["seeding"]["migrate_s"] = round(migrate_s, 2)
    return results


def run() -> dict[str, Any]:
    data = build_dataset()
    results: dict[str, Any] = {"dataset": _dataset_stats(data)}
    print(f"champions: dataset built ({results['dataset']})", flush=True)

    work = Path(tempfile.mkdtemp(prefix="coe-bench-champions-"))
    try:
        results["sqlite"] = _backend(f"sqlite+aiosqlite:///{work / 'champions.db'}", data)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    try:
        url = asyncio.run(recreate_postgres_database(POSTGRES_SERVER, POSTGRES_DATABASE))
    except (OSError, ConnectionError) as exc:
        results["postgresql"] = {"skipped": f"PostgreSQL unreachable at {POSTGRES_SERVER}: {exc}"}
        return results
    results["postgresql"] = _backend(url, data)
    return results
