"""The Cursor importer against the Cursor stand-in: members, daily usage in windows of at
most 30 days, spend; every fault; nothing doubled on a re-pull; bad records skipped with
where they were."""

from __future__ import annotations

import base64
import datetime as dt
import itertools
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlmodel import select

from bot.models import CursorMember, CursorSpend, CursorUserDay, UsagePull
from bot.standin.cursor import FakeCursor, epoch_ms
from bot.usage import cursor
from bot.usage.cursor import CursorAuthError, CursorClient, CursorUnavailable
from bot.usage.github import Retrying
from tests.conftest import Clock, Waits

NOW = dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.UTC)
TODAY = NOW.date()


@pytest.fixture
async def fake(clock: Clock) -> AsyncIterator[FakeCursor]:
    async with FakeCursor(now=clock) as made:
        yield made


@pytest.fixture
async def client(fake: FakeCursor, waits: Waits) -> AsyncIterator[CursorClient]:
    async with CursorClient(fake.api_url, fake.api_key, sleep=waits) as made:
        yield made


def usage(email: str, day: dt.date, **fields: Any) -> dict[str, Any]:
    return {
        "date": epoch_ms(day),
        "email": email,
        "isActive": True,
        "totalAccepts": 18,
        "totalApplies": 22,
        "totalTabsShown": 300,
        "totalTabsAccepted": 140,
        "chatRequests": 11,
        "agentRequests": 9,
        "usageBasedReqs": 2,
        "mostUsedModel": "claude-4.5-sonnet",
        "clientVersion": "1.7.2",
        **fields,
    }


def fill(fake: FakeCursor, people: int, days: list[dt.date]) -> None:
    for n in range(people):
        fake.add_member(f"Dev{n}@Example.com")
        for day in days:
            fake.add_usage(usage(f"Dev{n}@Example.com", day))
    fake.set_spend(
        [{"email": f"dev{n}@example.com", "spendCents": 1250 * n} for n in range(people)],
        cycle_start=dt.date(2026, 11, 1),
    )


def days_back(count: int) -> list[dt.date]:
    return [TODAY - dt.timedelta(days=n) for n in range(count, 0, -1)]


async def run(sessions: Any, client: CursorClient, first: dt.date, last: dt.date) -> UsagePull:
    return await cursor.pull(
        sessions=sessions, cursor=client, first_day=first, last_day=last, now=NOW
    )


async def stored(sessions: Any, table: Any) -> list[Any]:
    async with sessions() as session:
        return list((await session.exec(select(table))).all())


async def test_a_pull_stores_members_days_and_spend_and_a_repull_doubles_nothing(
    fake: FakeCursor, client: CursorClient, sessions: Any
) -> None:
    days = days_back(45)
    fill(fake, 3, days)
    first = await run(sessions, client, days[0], days[-1])
    again = await run(sessions, client, days[0], days[-1])
    assert (first.status, again.status) == ("done", "done")
    rows = await stored(sessions, CursorUserDay)
    assert len(rows) == 3 * 45
    assert {r.email for r in rows} == {"dev0@example.com", "dev1@example.com", "dev2@example.com"}
    assert rows[0].total_tabs_accepted == 140
    assert rows[0].most_used_model == "claude-4.5-sonnet"
    # 45 days: two requests of at most 30 days each, per pull
    asked = [call.body for call in fake.calls_to("daily-usage-data")]
    assert len(asked) == 4
    assert all(b["endDate"] - b["startDate"] < 30 * 86_400_000 for b in asked)
    members = await stored(sessions, CursorMember)
    assert sorted(m.email for m in members) == [
        r.email for r in sorted(members, key=lambda m: m.email)
    ]
    assert len(members) == 3
    spend = {s.email: s.spend_cents for s in await stored(sessions, CursorSpend)}
    assert spend == {"dev0@example.com": 0, "dev1@example.com": 1250, "dev2@example.com": 2500}


async def test_a_reaggregated_day_replaces_the_stored_one(
    fake: FakeCursor, client: CursorClient, sessions: Any
) -> None:
    day = TODAY - dt.timedelta(days=1)
    fill(fake, 1, [day])
    await run(sessions, client, day, day)
    fake.add_usage(usage("dev0@example.com", day, totalTabsAccepted=999))
    await run(sessions, client, day, day)
    [row] = await stored(sessions, CursorUserDay)
    assert row.total_tabs_accepted == 999


async def test_bad_records_are_skipped_with_where_they_were(
    fake: FakeCursor, client: CursorClient, sessions: Any
) -> None:
    day = TODAY - dt.timedelta(days=2)
    fake.add_usage(usage("ok@example.com", day))
    fake.add_usage({"date": epoch_ms(day), "email": "idle@example.com", "isActive": False})
    fake.add_usage(usage("neg@example.com", day, totalAccepts=-3))
    fake.add_usage({"date": epoch_ms(day), "isActive": True, "email": None} | {"x": 1})
    pulled = await run(sessions, client, day, day)
    rows = {r.email: r for r in await stored(sessions, CursorUserDay)}
    assert set(rows) == {"ok@example.com", "idle@example.com"}
    assert rows["idle@example.com"].total_accepts == 0  # counters left out: 0
    assert not rows["idle@example.com"].is_active
    assert pulled.skipped_count == 2
    reasons = sorted(item["reason"] for item in pulled.skipped)
    assert reasons == ["no email", "totalAccepts is not a count: -3"]
    assert all(item["file"].startswith("daily-usage-data") for item in pulled.skipped)
    assert all(item["line"] > 0 for item in pulled.skipped)


async def test_rate_limits_and_server_errors_are_waited_out(
    fake: FakeCursor, client: CursorClient, sessions: Any, waits: Waits
) -> None:
    day = TODAY - dt.timedelta(days=1)
    fill(fake, 2, [day])
    fake.fail("daily-usage-data", status=429)  # Cursor sends Retry-After: 60
    fake.fail("members", status=503)
    pulled = await run(sessions, client, day, day)
    assert pulled.status == "done"
    assert len(await stored(sessions, CursorUserDay)) == 2
    assert any(60 <= w < 61 for w in waits.seconds)
    assert len(waits.seconds) == 2


async def test_the_per_minute_limit_answers_429_with_retry_after(fake: FakeCursor) -> None:
    fake.rate_limit = 2
    key = base64.b64encode(f"{fake.api_key}:".encode()).decode()
    async with httpx.AsyncClient(base_url=fake.api_url) as http:
        answers = [
            await http.get("/teams/members", headers={"Authorization": f"Basic {key}"})
            for _ in range(3)
        ]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[2].headers["Retry-After"] == "60"


async def test_a_range_over_30_days_is_refused_by_cursor(fake: FakeCursor) -> None:
    async with httpx.AsyncClient(base_url=fake.api_url, auth=(fake.api_key, "")) as http:
        start = epoch_ms(TODAY - dt.timedelta(days=40))
        answer = await http.post(
            "/teams/daily-usage-data", json={"startDate": start, "endDate": epoch_ms(TODAY)}
        )
    assert answer.status_code == 400
    assert "30 days" in answer.json()["message"]


async def test_a_wrong_key_says_what_to_fix_and_the_pull_is_recorded_failed(
    fake: FakeCursor, sessions: Any, waits: Waits
) -> None:
    async with CursorClient(fake.api_url, "key_wrong", sleep=waits) as wrong:
        with pytest.raises(CursorAuthError, match="USAGE_CURSOR_API_KEY"):
            await run(sessions, wrong, TODAY, TODAY)
    [failed] = await stored(sessions, UsagePull)
    assert (failed.source, failed.status) == ("cursor", "failed")
    assert "admin API key" in (failed.error or "")
    assert waits.seconds == []  # a refusal is not retried


async def test_a_wait_longer_than_allowed_fails_with_what_cursor_said(
    fake: FakeCursor, sessions: Any, waits: Waits
) -> None:
    fake.fail("members", status=429, retry_after=3600)
    async with CursorClient(
        fake.api_url, fake.api_key, sleep=waits, retrying=Retrying(max_wait=600)
    ) as impatient:
        with pytest.raises(CursorUnavailable, match="3600 s"):
            await run(sessions, impatient, TODAY, TODAY)


def test_windows_cover_the_range_in_at_most_30_days() -> None:
    first, last = dt.date(2026, 1, 1), dt.date(2026, 3, 15)
    found = cursor.windows(first, last)
    assert found[0][0] == first
    assert found[-1][1] == last
    assert all((end - start).days < 30 for start, end in found)
    assert all(b[0] - a[1] == dt.timedelta(days=1) for a, b in itertools.pairwise(found))


async def test_the_daily_job_pulls_once_a_day_and_purges_old_rows(
    fake: FakeCursor, settings: Any, clock: Clock, sessions: Any
) -> None:
    from pydantic import SecretStr

    from bot.jobs import usage
    from tests.conftest import start_app

    off, runner = await start_app(settings, clock)
    try:
        assert await usage.pull_cursor(off.deps) is False  # real Slack, no Cursor key
    finally:
        await runner.cleanup()
    today = clock().date()
    fill(fake, 2, [today - dt.timedelta(days=n) for n in (3, 2, 1)])
    old = today - dt.timedelta(days=401)
    async with sessions.begin() as session:
        session.add(CursorUserDay(day=old, email="gone@example.com"))
    configured = settings.model_copy(
        update={
            "usage_cursor_api_key": SecretStr(fake.api_key),
            "usage_cursor_api_url": fake.api_url,
        }
    )
    app, runner = await start_app(configured, clock)
    try:
        assert await usage.pull_cursor(app.deps) is True
        assert await usage.pull_cursor(app.deps) is False  # once a UTC day
        clock.advance(days=1)
        assert await usage.pull_cursor(app.deps) is True
    finally:
        await runner.cleanup()
    rows = await stored(sessions, CursorUserDay)
    assert {r.day for r in rows} == {today - dt.timedelta(days=n) for n in (3, 2, 1)}
    first, second = sorted(await stored(sessions, UsagePull), key=lambda p: p.id)
    assert (first.status, second.status) == ("done", "done")
    assert first.first_day == today - dt.timedelta(days=cursor.FIRST_PULL_DAYS)
    assert (second.first_day, second.last_day) == (today, today + dt.timedelta(days=1))


async def test_a_refused_real_key_forgets_no_demo_data_and_the_failure_is_audited(
    settings: Any, clock: Clock, sessions: Any, fake: FakeCursor
) -> None:
    """The demo's Cursor figures go only once the real key is answered: a wrong key or URL
    leaves them (was: deleted before the first request), and the failed pull is audited."""
    from pydantic import SecretStr

    from bot.models import AuditEvent
    from bot.usage import runs

    async with sessions.begin() as session:  # what the demo and a stand-in pull left
        session.add(
            UsagePull(
                source="cursor",
                target="cursor:stand-in",
                standin=True,
                status="done",
                started_at=NOW,
                first_day=TODAY,
                last_day=TODAY,
            )
        )
        session.add(CursorUserDay(day=TODAY, email="demo@example.com", is_active=True))
    fill(fake, 3, days_back(3))
    wrong = settings.model_copy(
        update={"usage_cursor_api_key": SecretStr("wrong"), "usage_cursor_api_url": fake.api_url}
    )
    with pytest.raises(CursorAuthError):
        await runs.cursor_pull(settings=wrong, sessions=sessions, now=clock(), actor="U0ADMIN")
    assert [d.email for d in await stored(sessions, CursorUserDay)] == ["demo@example.com"]
    audited = [e for e in await stored(sessions, AuditEvent) if e.action == "usage.pull"]
    assert [(e.actor, e.details["status"]) for e in audited] == [("U0ADMIN", "failed")]
    assert "401" in audited[0].details["error"]
    right = wrong.model_copy(update={"usage_cursor_api_key": SecretStr(fake.api_key)})
    pulled = await runs.cursor_pull(settings=right, sessions=sessions, now=clock())
    assert pulled.demo_cleared == 1
    emails = {d.email for d in await stored(sessions, CursorUserDay)}
    assert emails
    assert "demo@example.com" not in emails
