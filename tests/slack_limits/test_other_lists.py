"""Attacks on the champion queue, champions list, survey list, digest list and App Home."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from bot.models import Question
from bot.services import champions, surveys, teams
from bot.services.survey_definitions import parse_definition
from bot.standin import FakeSlack, SlackSender
from tests.conftest import Clock, RunningApp
from tests.helpers import add_digest_subscriptions
from tests.slack_limits.util import (
    add_prompt,
    assert_slack_ok,
    assert_view_ok,
    click,
    entry_values,
    message_text,
    walk,
)

AMP_Q = ("Is it ok to paste <code> & secrets & tokens into the AI? " * 60)[:2990] + "?"


async def seed_team(running: RunningApp) -> int:
    now = running.deps.clock()
    async with running.deps.sessions.begin() as session:
        payments = await teams.get_or_create(session=session, name="payments", now=now)
        await champions.upsert(
            session=session, user_id="U0BOB", team=payments, topics=["python"], now=now
        )
        return int(payments.id)


async def seed_questions(
    running: RunningApp, clock: Clock, n: int, *, text: str, champion: str | None, asker: str
) -> None:
    team_id = await seed_team(running)
    async with running.deps.sessions.begin() as session:
        for i in range(n):
            session.add(
                Question(
                    asker_id=asker,
                    team_id=team_id,
                    text=f"{i:02d} {text}"[:3000],
                    status="open" if i % 2 else "claimed",
                    champion_id=champion,
                    created_at=clock() + dt.timedelta(minutes=i),
                    assigned_at=clock() + dt.timedelta(minutes=i),
                    claim_deadline=clock() + dt.timedelta(days=2),
                )
            )


@pytest.mark.parametrize("text", [AMP_Q, ("How do I test LLM code properly " * 100)[:2999] + "?"])
async def test_champion_queue_40_long_questions(
    sender: SlackSender, running: RunningApp, slack: FakeSlack, clock: Clock, text: str
) -> None:
    await seed_questions(running, clock, 40, text=text, champion="U0BOB", asker="U0ALICE")
    first = (await sender.command("/ask-champion", "queue", user_id="U0BOB")).json()
    assert_slack_ok(first)
    assert "40" in message_text(first)
    pages = await walk(
        sender, running, slack, first, "question-queue-page", "question-answer", "U0BOB"
    )
    for p in pages:
        assert_slack_ok(p)
    seen = [v for p in pages for v in entry_values(p, "question-answer")]
    assert len(seen) == len(set(seen))
    assert len(seen) == 40, f"{len(seen)} of 40 open questions can be answered from the queue"


@pytest.mark.parametrize("forged", ["-5", "999999", "abc", "99999999999999999999999", "{}"])
async def test_champion_queue_forged_page(
    sender: SlackSender, running: RunningApp, slack: FakeSlack, clock: Clock, forged: str
) -> None:
    await seed_questions(
        running, clock, 15, text="Short question?", champion="U0BOB", asker="U0ALICE"
    )
    posts, sent = await click(sender, running, slack, "question-queue-page", forged, "U0BOB")
    assert sent.status == 200
    assert posts, posts
    assert posts[-1].ok, posts
    assert "reference" not in message_text(posts[-1].body).lower()


@pytest.mark.parametrize("kind", ["nasty", "plain"])
async def test_champions_list_30_champions_max_topics(
    sender: SlackSender, running: RunningApp, slack: FakeSlack, kind: str
) -> None:
    if kind == "nasty":
        topics = [f"topic&<{n:02d}>" for n in range(40)]  # ~ 520 chars of topics each
    else:
        topics = [f"observability-{n:02d}" for n in range(35)]  # ~ 580 chars
    async with running.deps.sessions.begin() as session:
        for t in range(3):
            team = await teams.get_or_create(
                session=session, name=("platform-ops." * 6)[:70] + str(t), now=running.deps.clock()
            )
            for n in range(10):
                await champions.upsert(
                    session=session,
                    user_id=f"U0CH{t}{n:02d}",
                    team=team,
                    topics=topics,
                    now=running.deps.clock(),
                )
    sent = await sender.command("/ai-coe", "champions list", user_id="U0ADMIN")
    await running.settle()
    posts = slack.responses_for(sent.response_url or "", ok_only=False)
    assert posts, [(p.error) for p in posts]
    assert posts[-1].ok, [(p.error) for p in posts]
    first = posts[-1].body
    assert "30" in message_text(first)
    pages = await walk(sender, running, slack, first, "champions-list-page", "-", "U0ADMIN")
    shown = sum(message_text(p).count("U0CH") for p in pages)
    assert shown == 30


@pytest.mark.parametrize("kind", ["nasty", "plain"])
async def test_survey_list_many_surveys_long_titles(
    sender: SlackSender, running: RunningApp, slack: FakeSlack, kind: str
) -> None:
    if kind == "nasty":
        title = ("Quarterly <AI> & governance *check* " * 10)[:150]
    else:
        title = ("Quarterly AI governance check-in for platform teams " * 10)[:150]
    for n in range(70):
        sid = (f"s{n:02d}-" + "x" * 60)[:60]
        definition = parse_definition(
            f"""
id: {sid}
title: "{title}"
intro: hi
anonymous: true
audience:
  users: [U0ALICE]
window_days: 7
reminder_after_days: 3
questions:
  - id: q
    type: likert
    text: How useful?
""",
            source="t",
        )
        async with running.deps.sessions.begin() as session:
            await surveys.save_definition(
                session=session,
                definition=definition,
                source="t",
                actor="U0ADMIN",
                now=running.deps.clock(),
            )
    sent = await sender.command("/ai-coe", "survey list", user_id="U0ADMIN")
    await running.settle()
    posts = slack.responses_for(sent.response_url or "", ok_only=False)
    assert posts, [(p.error) for p in posts]
    assert posts[-1].ok, [(p.error) for p in posts]
    pages = await walk(sender, running, slack, posts[-1].body, "survey-list-page", "-", "U0ADMIN")
    assert "too long" not in message_text(pages[0]), message_text(pages[0])[:300]
    shown = [id_ for p in pages for id_ in re.findall(r"s\d\d-x+", message_text(p))]
    assert sorted(set(shown)) == sorted(shown)  # each survey once
    assert len(shown) == 70


async def test_digest_list_forged_and_past_end(
    sender: SlackSender, running: RunningApp, slack: FakeSlack
) -> None:
    await add_digest_subscriptions(
        running,
        60,
        timezone="America/Argentina/ComodRivadavia",
        sections=["prompts", "questions", "surveys", "adoption", "policy", "tip"],
    )
    for forged in ("-5", "999999", "abc", "99999999999999999999999"):
        posts, _sent = await click(sender, running, slack, "digest-list-page", forged, "U0ADMIN")
        assert posts, (forged, posts)
        assert posts[-1].ok, (forged, posts)
        text = message_text(posts[-1].body)
        assert "reference" not in text.lower(), (forged, text)
        assert "60" in text, (forged, text)


async def home(sender: SlackSender, running: RunningApp, slack: FakeSlack, user: str) -> dict:
    await sender.event({"type": "app_home_opened", "user": user, "tab": "home", "event_ts": "1.1"})
    await running.settle()
    refused = [c for c in slack.calls_to("views.publish", ok_only=False) if not c.ok]
    assert not refused, [(c.error, c.args.get("response_metadata")) for c in refused]
    view = slack.home_view(user)
    assert view is not None, "no Home tab published"
    return view


async def test_home_with_lots_of_data_for_a_person_and_a_champion(
    sender: SlackSender, running: RunningApp, slack: FakeSlack, clock: Clock
) -> None:
    for i in range(60):
        await add_prompt(
            running,
            title=(f"#{i:02d} " + "&<>*_~`" * 30)[:150],
            author="U0BOB",
            body=f"Body {i} & more.",
            now=clock() + dt.timedelta(minutes=i),
        )
    await seed_questions(running, clock, 40, text=AMP_Q, champion="U0BOB", asker="U0BOB")
    view = await home(sender, running, slack, "U0BOB")
    assert_view_ok(view)
    text = message_text(view)
    assert "60" in text, text[:2000]
    assert "40" in text, text[:2000]


async def test_admin_home_with_lots_of_data(
    sender: SlackSender, running: RunningApp, slack: FakeSlack, clock: Clock
) -> None:
    for i in range(60):
        await add_prompt(
            running,
            title=(f"#{i:02d} " + "&<>*_~`" * 30)[:150],
            author="U0BOB",
            body=("&<b>* " * 400) + f" {i}",
            now=clock() + dt.timedelta(minutes=i),
            needs_review=True,
        )
    await seed_questions(running, clock, 40, text=AMP_Q, champion=None, asker="U0ALICE")
    view = await home(sender, running, slack, "U0ADMIN")
    assert_view_ok(view)
    assert "CoE view" in message_text(view)
