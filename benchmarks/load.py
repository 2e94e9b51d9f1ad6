"""Sustained mixed load on one replica (PostgreSQL): is anything acknowledged lost?

The real `coe-bot serve` (its own process, the Slack stand-in) gets signed requests from a
fixed pool of clients kept busy: `/ai-policy` with and without text, `/prompts` (words,
`top`, `help`), `/ask-champion`, `/ai-coe help` and `app_mention` events. Three phases:
10,000 requests at 50 concurrent, 12,000 at 200 sustained, and 12,000 at 200 again with one
of the server's database connections killed mid-run (`pg_terminate_backend`).

Counted per phase: answers that said "went wrong", "not recorded" or "unavailable"; acks
over 2.5 s; and, against the database afterwards, acknowledged items that were not stored
(policy lookups, questions, mention replies queued).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from benchmarks.http import free_port, serve, stand_in_env, wait_healthy
from bot.standin import FakeSlack
from bot.standin.sender import signature

SERVER = os.environ.get("BENCH_POSTGRES", "postgresql+asyncpg://postgres@127.0.0.1:5432")
DATABASE = "bench_load"
SECRET = "bench-load-signing-secret"
BAD = ("went wrong", "not recorded", "unavailable")


def _body(kind: str, i: int) -> tuple[bytes, str]:
    if kind == "mention":
        event = {
            "type": "app_mention",
            "user": f"U0L{i % 500:04d}",
            "text": "<@U0BOT> can I use copilot on payment code",
            "ts": f"{1_700_000_000 + i}.000100",
            "channel": "C0GENERAL",
            "event_ts": f"{1_700_000_000 + i}.000100",
        }
        body = {
            "type": "event_callback",
            "team_id": "T0STANDIN",
            "event_id": f"Ev{i:010d}",
            "event": event,
        }
        return json.dumps(body).encode(), "application/json"
    command, words = {
        "policy": ("/ai-policy", f"copilot for auth code {i % 97}"),
        "policy-empty": ("/ai-policy", ""),
        "prompts": ("/prompts", "review"),
        "prompts-top": ("/prompts", "top"),
        "prompts-help": ("/prompts", "help"),
        "ask": ("/ask-champion", f"how do I test the payments service, case {i}"),
        "coe-help": ("/ai-coe", "help"),
    }[kind]
    fields = {
        "token": "x",
        "team_id": "T0STANDIN",
        "channel_id": "C0GENERAL",
        "user_id": f"U0L{i % 500:04d}",
        "command": command,
        "text": words,
        "trigger_id": f"{i}.{i}.abc",
        "response_url": "http://127.0.0.1:9/hooks",
    }
    return urlencode(fields).encode(), "application/x-www-form-urlencoded"


MIX = ["policy"] * 6 + ["policy-empty", "prompts", "prompts-top", "prompts-help"]
MIX += ["ask"] * 2 + ["coe-help"] + ["mention"] * 2


async def _phase(port: int, total: int, concurrency: int, start: int, kill: Any) -> dict[str, Any]:
    url = f"http://127.0.0.1:{port}/slack/events"
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(start, start + total):
        queue.put_nowait(i)
    latencies: list[float] = []
    outcomes: Counter[str] = Counter()
    acked: Counter[str] = Counter()

    async def client(session: aiohttp.ClientSession) -> None:
        while not queue.empty():
            i = queue.get_nowait()
            kind = MIX[i % len(MIX)]
            body, content_type = _body(kind, i)
            ts = int(time.time())
            headers = {
                "Content-Type": content_type,
                "X-Slack-Request-Timestamp": str(ts),
                "X-Slack-Signature": signature(SECRET, body, ts),
            }
            started = time.perf_counter()
            try:
                async with session.post(url, data=body, headers=headers) as response:
                    answer = await response.text()
                    status = response.status
            except (aiohttp.ClientError, TimeoutError):
                outcomes["connection error"] += 1
                continue
            latencies.append(time.perf_counter() - started)
            if status != 200:
                outcomes[f"http {status}"] += 1
                continue
            if any(word in answer for word in BAD):
                outcomes[f"{kind}: {next(w for w in BAD if w in answer)}"] += 1
                continue
            acked[kind] += 1

    timeout = aiohttp.ClientTimeout(total=30)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        started = time.perf_counter()
        workers = [asyncio.create_task(client(session)) for _ in range(concurrency)]
        if kill is not None:
            await asyncio.sleep(2)
            await kill()
        await asyncio.gather(*workers)
        seconds = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": total,
        "concurrency": concurrency,
        "seconds": round(seconds, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 1) if latencies else None,
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 1) if latencies else None,
        "over_2_5_s": sum(1 for x in latencies if x > 2.5),
        "refused_or_failed": dict(outcomes),
        "acknowledged": dict(acked),
    }


async def _stored(url: str) -> dict[str, int]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            found = {}
            for name, sql in (
                ("lookups", "SELECT count(*) FROM policy_lookup"),
                ("questions", "SELECT count(*) FROM question"),
                (
                    "mention_replies",
                    "SELECT count(*) FROM outbox_message WHERE kind = 'mention-reply'",
                ),
            ):
                found[name] = int((await conn.execute(text(sql))).scalar_one())
            return found
    finally:
        await engine.dispose()


async def _kill_one(url: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            await conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :d"
                    " AND pid <> pg_backend_pid() LIMIT 1"
                ),
                {"d": DATABASE},
            )
    finally:
        await engine.dispose()


async def _run() -> dict[str, Any]:
    admin = create_async_engine(f"{SERVER}/postgres", isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"))
        await conn.execute(text(f"CREATE DATABASE {DATABASE}"))
    await admin.dispose()
    url = f"{SERVER}/{DATABASE}"
    from bot import db

    await asyncio.to_thread(db.migrate, url)
    work = Path(tempfile.mkdtemp(prefix="coe-load-"))
    results: dict[str, Any] = {}
    async with FakeSlack() as slack:
        port = free_port()
        server = serve(stand_in_env(slack, url, SECRET), port, work)
        try:
            await wait_healthy(f"http://127.0.0.1:{port}/healthz")
            start = 0
            for name, total, concurrency, kill in (
                ("10000_at_50", 10_000, 50, None),
                ("12000_at_200", 12_000, 200, None),
                ("12000_at_200_connection_killed", 12_000, 200, lambda: _kill_one(url)),
            ):
                before = await _stored(url)
                phase = await _phase(port, total, concurrency, start, kill)
                await asyncio.sleep(3)  # lookups are written in 100 ms batches
                after = await _stored(url)
                acked = phase["acknowledged"]
                phase["lost"] = {
                    # every /ai-policy (with text or not) and every mention stores a lookup
                    "lookups": acked.get("policy", 0)
                    + acked.get("policy-empty", 0)
                    + acked.get("mention", 0)
                    - (after["lookups"] - before["lookups"]),
                    "questions": acked.get("ask", 0) - (after["questions"] - before["questions"]),
                    "mention_replies": acked.get("mention", 0)
                    - (after["mention_replies"] - before["mention_replies"]),
                }
                results[name] = phase
                print(json.dumps({name: phase}), flush=True)
                start += total
        finally:
            server.terminate()
            server.wait(timeout=15)
    return results


def run() -> dict[str, Any]:
    return asyncio.run(_run())


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
