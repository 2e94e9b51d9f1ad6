"""The night clocks change, through the real app: a survey scheduled at 01:30 New York time
on 2026-11-01 (the repeated hour) and at 02:30 on 2026-03-08 (the skipped hour) starts
once, a service started inside the repeated hour keeps answering, runs stored under the
earlier key form are recognised, and a weekly digest that night posts once."""

from __future__ import annotations

import asyncio
import datetime as dt

import aiohttp
import pytest
from sqlmodel import col, select

from bot.jobs.digests import post_due
from bot.jobs.surveys import run_schedules
from bot.models import DigestSubscription, JobRun, OutboxMessage, SurveyRun
from bot.services import surveys
from bot.services.survey_definitions import parse_definition
from bot.standin import FakeSlack, SlackSender
from tests.conftest import Clock, RunningApp
from tests.test_digests import activity

pytestmark = pytest.mark.timeout(60)  # a schedule loop that never returns fails, not hangs

SURVEY = """
id: pulse
title: Pulse
intro: One question.
anonymous: false
audience: {users: [U0ALICE, U0BOB]}
schedule: {cron: "%s", timezone: America/New_York}
questions:
  - id: useful
    type: likert
    text: Useful?
"""
FALL_BACK = dt.datetime(2026, 11, 1, 6, 0, tzinfo=dt.UTC)  # 02:00 EDT becomes 01:00 EST
SPRING_FORWARD = dt.datetime(2026, 3, 8, 7, 0, tzinfo=dt.UTC)  # 02:00 EST becomes 03:00 EDT


async def _load(app: RunningApp, cron: str) -> None:
    async with app.deps.sessions.begin() as session:
        await surveys.save_definition(
            session=session,
            definition=parse_definition(SURVEY % cron, source="t"),
            source="t",
            actor="U0ADMIN",
            now=app.deps.clock(),
        )


async def _runs(app: RunningApp) -> list[SurveyRun]:
    async with app.deps.sessions() as session:
        return list((await session.exec(select(SurveyRun).order_by(col(SurveyRun.id)))).all())


async def _every(app: RunningApp, clock: Clock, until: dt.datetime, minutes: int = 5) -> None:
    """The scheduler's minutely job, each `minutes` of simulated time until `until`."""
    while clock.now <= until:
        await asyncio.wait_for(run_schedules(app.deps), timeout=10)
        clock.advance(minutes=minutes)


@pytest.fixture
def people(slack: FakeSlack) -> None:
    slack.add_user("U0ALICE", "alice")
    slack.add_user("U0BOB", "bob")


@pytest.mark.usefixtures("people")
async def test_a_service_started_inside_the_repeated_hour_answers_and_sends_once(
    running: RunningApp, clock: Clock
) -> None:
    clock.now = dt.datetime(2026, 11, 1, 6, 31, tzinfo=dt.UTC)  # 01:31 EST, the second one
    await _load(running, "30 1 * * *")

    scheduled = asyncio.create_task(run_schedules(running.deps))
    async with aiohttp.ClientSession() as http, http.get(f"{running.url}/healthz") as health:
        assert health.status == 200
    assert len(await asyncio.wait_for(scheduled, timeout=10)) == 1

    await _every(running, clock, until=dt.datetime(2026, 11, 1, 13, 0, tzinfo=dt.UTC))
    [run] = await _runs(running)
    assert run.period == "cron:2026-11-01T01:30[America/New_York]"


@pytest.mark.usefixtures("people")
async def test_the_repeated_hour_starts_the_survey_once_at_its_first_occurrence(
    running: RunningApp, clock: Clock
) -> None:
    clock.now = FALL_BACK - dt.timedelta(hours=8)
    await _load(running, "30 1 * * *")
    await _every(running, clock, until=FALL_BACK + dt.timedelta(hours=8))
    [run] = await _runs(running)
    assert run.started_at == FALL_BACK - dt.timedelta(minutes=30)  # 01:30 EDT, 05:30 UTC


@pytest.mark.usefixtures("people")
async def test_the_skipped_hour_starts_the_survey_once_just_after_the_gap(
    running: RunningApp, clock: Clock
) -> None:
    clock.now = SPRING_FORWARD - dt.timedelta(hours=2)
    await _load(running, "30 2 * * *")
    await _every(running, clock, until=SPRING_FORWARD + dt.timedelta(hours=8), minutes=1)
    [run] = await _runs(running)
    assert run.started_at == SPRING_FORWARD  # 03:00 EDT, the first instant after 02:00 EST
    assert run.period == "cron:2026-03-08T02:30[America/New_York]"


@pytest.mark.usefixtures("people")
@pytest.mark.parametrize("offset", ["-04:00", "-05:00"], ids=["EDT", "EST"])
async def test_a_run_under_the_earlier_key_form_is_not_started_again(
    running: RunningApp, clock: Clock, offset: str
) -> None:
    """Before the upgrade a run's key was the local time with its UTC offset, and the second
    01:30 had a key of its own: either one means this occurrence ran."""
    clock.now = FALL_BACK - dt.timedelta(minutes=30)
    await _load(running, "30 1 * * *")
    async with running.deps.sessions.begin() as session:
        definition = await surveys.get_definition(session=session, survey_id="pulse")
        await surveys.start_run(
            session=session,
            definition=definition,
            period=f"cron:2026-11-01T01:30:00{offset}",
            audience=["U0ALICE", "U0BOB"],
            started_by="schedule",
            now=clock.now,
        )
    clock.now = dt.datetime(2026, 11, 1, 6, 31, tzinfo=dt.UTC)
    await _every(running, clock, until=FALL_BACK + dt.timedelta(hours=8))
    assert [r.period for r in await _runs(running)] == [f"cron:2026-11-01T01:30:00{offset}"]


async def _subscribe(app: RunningApp) -> DigestSubscription:
    async with app.deps.sessions.begin() as session:
        subscription = DigestSubscription(
            channel_id="C0COMMUNITY",
            weekday=6,  # Sunday
            time_of_day="01:30",
            timezone="America/New_York",
            sections=["prompts", "questions", "tip"],
            created_by="U0ADMIN",
        )
        session.add(subscription)
    return subscription


async def _digests(app: RunningApp) -> list[OutboxMessage]:
    async with app.deps.sessions() as session:
        found = await session.exec(select(OutboxMessage).where(col(OutboxMessage.kind) == "digest"))
        return list(found.all())


async def test_a_weekly_digest_in_the_repeated_hour_posts_once(
    running: RunningApp, clock: Clock, sender: SlackSender
) -> None:
    clock.now = FALL_BACK - dt.timedelta(days=2)
    await activity(sender, running, clock)
    clock.now = FALL_BACK - dt.timedelta(hours=2)
    await _subscribe(running)
    while clock.now < FALL_BACK + dt.timedelta(hours=8):
        await post_due(running.deps)
        clock.advance(minutes=5)
    [digest] = await _digests(running)
    assert digest.created_at == FALL_BACK - dt.timedelta(minutes=30)


async def test_a_digest_claimed_under_the_earlier_key_form_is_not_posted_again(
    running: RunningApp, clock: Clock
) -> None:
    subscription = await _subscribe(running)
    first = FALL_BACK - dt.timedelta(minutes=30)
    async with running.deps.sessions.begin() as session:
        session.add(
            JobRun(job=f"digest:{subscription.id}", period=first.isoformat(), started_at=first)
        )
    clock.now = first + dt.timedelta(minutes=2)
    assert await post_due(running.deps) == 0
    assert await _digests(running) == []
