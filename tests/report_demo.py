"""The demo organisation a monthly report is read from, filled in-process the way a CoE
fills it with the command line: `coe-bot usage demo`, every tool's pull and the pull
requests from the stand-ins, plus what people do in Slack over the months (pulse surveys
answered by teams, questions answered by champions)."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from bot.models import Question
from bot.services import surveys
from bot.usage import demo, runs
from bot.usage.sources import DemoSpec
from tests.conftest import RunningApp
from tests.helpers import seed_answered_run

PULSE = """
id: report-pulse
title: AI pulse
intro: Three questions about your AI coding tools this month.
anonymous: true
window_days: 7
questions:
  - id: satisfaction
    type: likert
    text: How satisfied were you with your AI coding tools?
    options: [Very dissatisfied, Dissatisfied, Neutral, Satisfied, Very satisfied]
    measures: satisfaction
  - id: trust
    type: likert
    text: How much did you trust their output?
    options: [Not at all, A little, Somewhat, A lot, A great deal]
    measures: trust
  - id: recommend
    type: nps
    text: How likely are you to recommend them to a colleague?
    measures: NPS
"""
TEAMS = ("payments", "platform", "security")


async def fill(app: RunningApp, *, now: dt.datetime, people: int = 120, seed: int = 7) -> None:
    """The demo organisation of `people` as of `now`, every source pulled, three monthly
    pulse runs (closed) and champions' answers in each of the last three months."""
    sessions = app.deps.sessions
    spec = DemoSpec(people=people, days=120, seed=seed, end_day=now.date())
    await demo.install(sessions=sessions, spec=spec, now=now)
    # the stand-ins answer only where no real Slack is configured, as on `make run`
    offline = app.deps.settings.model_copy(
        update={"slack_bot_token": None, "slack_signing_secret": None}
    )
    await runs.copilot_pull(settings=offline, sessions=sessions, now=now, actor="test")
    await runs.cursor_pull(settings=offline, sessions=sessions, now=now, actor="test")
    await runs.claude_code_pull(settings=offline, sessions=sessions, now=now, actor="test")
    await runs.pull_requests_pull(settings=offline, sessions=sessions, now=now, actor="test")
    rng = random.Random(seed)
    first = now.date().replace(day=1)
    for back in (3, 2, 1):
        month = first
        for _ in range(back):
            month = (month - dt.timedelta(days=1)).replace(day=1)
        await _pulse(app, month, rng, lift=3 - back)
        await _questions(app, month, rng)


async def _pulse(app: RunningApp, month: dt.date, rng: random.Random, lift: int) -> None:
    """One closed run in `month`, answered by six people in each of three teams."""
    started = dt.datetime.combine(month + dt.timedelta(days=2), dt.time(10), tzinfo=dt.UTC)
    answers: list[tuple[str, str | None, dict[str, Any]]] = []
    for t, team in enumerate(TEAMS):
        for n in range(6):
            answers.append(
                (
                    f"U9{t}{n:02d}{month:%m}",
                    team,
                    {
                        "satisfaction": min(5, rng.choice((2, 3, 3, 4, 4, 5)) + (lift > 1)),
                        "trust": min(5, rng.choice((2, 2, 3, 3, 4)) + lift // 2),
                        "recommend": min(10, rng.randint(5, 9) + lift),
                    },
                )
            )
    async with app.deps.sessions.begin() as session:
        run = await seed_answered_run(
            session,
            PULSE,
            answers,
            secret=app.deps.settings.survey_key(),
            now=started,
            period=f"{month:%Y-%m}",
        )
        await surveys.close_due(
            session=session, now=run.closes_at, rules=app.deps.settings.survey_rules()
        )


async def _questions(app: RunningApp, month: dt.date, rng: random.Random) -> None:
    """Twelve questions asked in `month`, ten of them answered after 1 to 30 hours."""
    async with app.deps.sessions.begin() as session:
        for n in range(12):
            asked = dt.datetime.combine(
                month + dt.timedelta(days=n * 2), dt.time(9 + n % 6), tzinfo=dt.UTC
            )
            answered = asked + dt.timedelta(hours=rng.uniform(1, 30)) if n < 10 else None
            session.add(
                Question(
                    asker_id=f"U8{n:03d}",
                    text=f"How do I use the assistant for task {n}?",
                    status="answered" if answered else "open",
                    champion_id="U0CHAMP" if answered else None,
                    created_at=asked,
                    answered_at=answered,
                    answer="Like this." if answered else None,
                    answered_by="U0CHAMP" if answered else None,
                )
            )
