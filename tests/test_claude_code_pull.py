"""The Claude Code importer against the Anthropic stand-in: one day per call, every page,
faults, nothing doubled on a re-pull, bad records skipped with where they were."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlmodel import select

from bot.models import ClaudeCodeUserDay, UsagePull
from bot.standin.anthropic import FakeAnthropic
from bot.usage import claude_code
from bot.usage.claude_code import AnthropicAuthError, AnthropicClient, AnthropicUnavailable
from bot.usage.github import Retrying
from tests.conftest import Clock, Waits

NOW = dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.UTC)
TODAY = NOW.date()


@pytest.fixture
async def fake(clock: Clock) -> AsyncIterator[FakeAnthropic]:
    async with FakeAnthropic(now=clock) as made:
        yield made


@pytest.fixture
async def client(fake: FakeAnthropic, waits: Waits) -> AsyncIterator[AnthropicClient]:
    async with AnthropicClient(fake.api_url, fake.admin_key, sleep=waits) as made:
        yield made


def record(email: str, day: dt.date, **fields: Any) -> dict[str, Any]:
    return {
        "date": f"{day.isoformat()}T00:00:00Z",
        "actor": {"type": "user_actor", "email_address": email},
        "organization_id": "2b1c9e3a-0000-4000-8000-000000000001",
        "customer_type": "api",
        "subscription_type": None,
        "terminal_type": "vscode",
        "core_metrics": {
            "num_sessions": 4,
            "lines_of_code": {"added": 380, "removed": 95},
            "commits_by_claude_code": 3,
            "pull_requests_by_claude_code": 1,
        },
        "tool_actions": {
            "edit_tool": {"accepted": 21, "rejected": 2},
            "write_tool": {"accepted": 4, "rejected": 0},
        },
        "model_breakdown": [
            {
                "model": "claude-sonnet-4-5-20250929",
                "tokens": {"input": 52000, "output": 14000},
                "estimated_cost": {"amount": 412, "currency": "USD"},
            }
        ],
        **fields,
    }


async def run(sessions: Any, client: AnthropicClient, first: dt.date, last: dt.date) -> UsagePull:
    return await claude_code.pull(
        sessions=sessions, anthropic=client, first_day=first, last_day=last, now=NOW
    )


async def stored(sessions: Any, table: Any) -> list[Any]:
    async with sessions() as session:
        return list((await session.exec(select(table))).all())


async def test_a_pull_reads_every_page_of_each_day_and_a_repull_doubles_nothing(
    fake: FakeAnthropic, client: AnthropicClient, sessions: Any
) -> None:
    days = [TODAY - dt.timedelta(days=n) for n in (3, 2, 1)]
    for day in days:
        for n in range(1205):  # two pages of 1,000
            fake.add_record(record(f"Dev{n}@Example.com", day))
    fake.add_record(
        {**record("x@example.com", days[0]), "actor": {"type": "api_actor", "api_key_name": "ci"}}
    )
    first = await run(sessions, client, days[0], days[-1])
    again = await run(sessions, client, days[0], days[-1])
    assert (first.status, again.status) == ("done", "done")
    rows = await stored(sessions, ClaudeCodeUserDay)
    assert len(rows) == 3 * 1205 + 1
    one = next(r for r in rows if r.actor == "dev7@example.com")
    assert (one.sessions, one.tool_accepted, one.tool_rejected, one.cost_cents) == (4, 25, 2, 412)
    assert {r.actor for r in rows if r.actor_type == "api"} == {"api:ci"}
    assert len(fake.calls) == 2 * 3 * 2  # two pages a day, three days, two pulls


async def test_bad_records_are_skipped_with_where_they_were(
    fake: FakeAnthropic, client: AnthropicClient, sessions: Any
) -> None:
    day = TODAY - dt.timedelta(days=1)
    fake.add_record(record("ok@example.com", day))
    fake.add_record(record("neg@example.com", day, core_metrics={"num_sessions": -1}))
    fake.add_record({**record("none@example.com", day), "actor": {"type": "user_actor"}})
    fake.add_record(record("ok@example.com", day))  # the same actor again
    pulled = await run(sessions, client, day, day)
    assert [r.actor for r in await stored(sessions, ClaudeCodeUserDay)] == ["ok@example.com"]
    assert [(i["line"], i["reason"]) for i in pulled.skipped] == [
        (2, "num_sessions is not a count: -1"),
        (3, "an actor without an e-mail or an API key name"),
        (4, "a second record for this actor on this day"),
    ]


async def test_today_has_nothing_until_an_hour_has_passed(
    fake: FakeAnthropic, client: AnthropicClient, sessions: Any, clock: Clock
) -> None:
    clock.now = dt.datetime.combine(TODAY, dt.time(0, 30), tzinfo=dt.UTC)
    fake.add_record(record("early@example.com", TODAY))
    pulled = await claude_code.pull(
        sessions=sessions, anthropic=client, first_day=TODAY, last_day=TODAY, now=clock()
    )
    assert (pulled.status, pulled.rows_stored) == ("done", 0)


async def test_rate_limits_and_server_errors_are_waited_out(
    fake: FakeAnthropic, client: AnthropicClient, sessions: Any, waits: Waits
) -> None:
    day = TODAY - dt.timedelta(days=1)
    fake.add_record(record("a@example.com", day))
    fake.fail(status=429)
    fake.fail(status=529)  # Anthropic's "overloaded"
    pulled = await run(sessions, client, day, day)
    assert pulled.status == "done"
    assert len(await stored(sessions, ClaudeCodeUserDay)) == 1
    assert len(waits.seconds) == 2
    assert 60 <= waits.seconds[0] < 61


async def test_a_wrong_key_says_what_to_fix_and_a_long_wait_fails(
    fake: FakeAnthropic, sessions: Any, waits: Waits
) -> None:
    async with AnthropicClient(fake.api_url, "sk-ant-wrong", sleep=waits) as wrong:
        with pytest.raises(AnthropicAuthError, match="USAGE_ANTHROPIC_ADMIN_KEY"):
            await run(sessions, wrong, TODAY, TODAY)
    fake.fail(status=429, retry_after=7200)
    async with AnthropicClient(
        fake.api_url, fake.admin_key, sleep=waits, retrying=Retrying(max_wait=600)
    ) as impatient:
        with pytest.raises(AnthropicUnavailable, match="7200 s"):
            await run(sessions, impatient, TODAY, TODAY)
    assert [p.status for p in await stored(sessions, UsagePull)] == ["failed", "failed"]
    assert waits.seconds == []


async def test_the_daily_job_pulls_once_a_day_120_days_back_the_first_time(
    fake: FakeAnthropic, settings: Any, clock: Clock, sessions: Any
) -> None:
    from pydantic import SecretStr

    from bot.jobs import usage
    from tests.conftest import start_app

    off, runner = await start_app(settings, clock)
    try:
        assert await usage.pull_claude_code(off.deps) is False  # real Slack, no admin key
    finally:
        await runner.cleanup()
    today = clock().date()
    fake.add_record(record("a@example.com", today - dt.timedelta(days=2)))
    configured = settings.model_copy(
        update={
            "usage_anthropic_admin_key": SecretStr(fake.admin_key),
            "usage_anthropic_api_url": fake.api_url,
        }
    )
    app, runner = await start_app(configured, clock)
    try:
        assert await usage.pull_claude_code(app.deps) is True
        assert await usage.pull_claude_code(app.deps) is False  # once a UTC day
        clock.advance(days=1)
        assert await usage.pull_claude_code(app.deps) is True
    finally:
        await runner.cleanup()
    first, second = sorted(await stored(sessions, UsagePull), key=lambda p: p.id)
    assert first.first_day == today - dt.timedelta(days=claude_code.FIRST_PULL_DAYS)
    assert (second.first_day, second.last_day) == (today, today + dt.timedelta(days=1))
    assert [r.actor for r in await stored(sessions, ClaudeCodeUserDay)] == ["a@example.com"]
