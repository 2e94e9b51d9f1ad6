"""Survey fan-out to 20,000 people through the real `coe-bot serve` and the Slack stand-in.

(a) no rate limit: DMs per second; (b) a Slack-like limit on `chat.postMessage` in the
stand-in: the share of the allowed rate reached, and the 429s; (c) the serving process
killed with SIGKILL mid-run and started again: every person gets exactly one DM.
"""

from __future__ import annotations

import asyncio
import signal
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from benchmarks.http import free_port, serve, stand_in_env, wait_healthy
from bot import db
from bot.models import utcnow
from bot.services import surveys
from bot.services.survey_definitions import parse_definition
from bot.standin import FakeSlack

SECRET = "bench-signing-secret"
DEFINITION = """
id: bench-pulse
title: Monthly AI-coding pulse
intro: Five questions, two minutes. Anonymous.
anonymous: true
audience: {active_days: 30}
window_days: 7
reminder_after_days: 3
questions:
  - id: useful
    type: likert
    text: How useful are AI tools for you?
  - id: recommend
    type: nps
    text: How likely are you to recommend them?
"""


def _users(count: int) -> list[str]:
    return [f"U{i:08d}" for i in range(count)]


async def _seed(url: str, people: list[str]) -> None:
    engine = db.create_engine(url)
    try:
        async with db.make_sessions(engine).begin() as session:
            definition = parse_definition(DEFINITION, source="bench")
            await surveys.save_definition(
                session=session, definition=definition, source="bench", actor="bench", now=utcnow()
            )
            await surveys.start_run(
                session=session,
                definition=definition,
                period="bench",
                audience=people,
                started_by="bench",
                now=utcnow(),
            )
    finally:
        await engine.dispose()


def _delivered(slack: FakeSlack) -> int:
    return len(slack.calls_to("chat.postMessage"))


async def _until(slack: FakeSlack, count: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while _delivered(slack) < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {_delivered(slack)} of {count} DMs after {timeout:.0f} s")
        await asyncio.sleep(0.25)


async def one(mode: str, count: int, limit: float) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix=f"coe-survey-{mode}-"))
    url = f"sqlite+aiosqlite:///{work / 'bench.db'}"
    await asyncio.to_thread(db.migrate, url)
    people = _users(count)
    await _seed(url, people)
    async with FakeSlack() as slack:
        for user in people:
            slack.add_user(user, user.lower())
        if mode == "limited":
            slack.rate_limit("chat.postMessage", per_second=limit, burst=int(limit))
        env = stand_in_env(slack, url, SECRET, SURVEY_SEND_RATE="1000", SURVEY_LEASE_SECONDS="5")
        port = free_port()
        process = serve(env, port, work)
        kills = 0
        try:
            await wait_healthy(f"http://127.0.0.1:{port}/healthz")
            if mode == "kill":
                await _until(slack, count // 3, 300)
                process.send_signal(signal.SIGKILL)
                process.wait()
                kills = 1
                process = serve(env, port, work)
                await wait_healthy(f"http://127.0.0.1:{port}/healthz")
            await _until(slack, count, 900 if mode == "limited" else 300)
            await asyncio.sleep(2 if mode != "kill" else 8)  # anything late would show now
        finally:
            process.terminate()
            process.wait(timeout=15)
        sent = slack.calls_to("chat.postMessage")
        refused = slack.refused_calls("chat.postMessage")
        per_person = Counter(c.args.get("channel") for c in sent)
        seconds = (sent[-1].at - sent[0].at).total_seconds()
        result: dict[str, Any] = {
            "recipients": count,
            "dms": len(sent),
            "people_with_exactly_one": sum(1 for p in people if per_person.get(p) == 1),
            "people_with_more_than_one": sum(1 for p in people if per_person.get(p, 0) > 1),
            "seconds": round(seconds, 1),
            "dms_per_second": round(len(sent) / seconds, 1) if seconds else None,
        }
        if mode == "limited":
            result |= {
                "allowed_per_second": limit,
                "share_of_allowed": round(len(sent) / seconds / limit, 3),
                "429s": len(refused),
            }
        if mode == "kill":
            result["sigkills"] = kills
        return result


async def run(count: int = 20_000, limit: float = 100.0) -> dict[str, Any]:
    return {mode: await one(mode, count, limit) for mode in ("unlimited", "limited", "kill")}
