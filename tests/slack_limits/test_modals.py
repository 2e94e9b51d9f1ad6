"""Attacks on modals: triggers that really expire, lost / failed views.* calls."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.models import Question
from bot.services import champions, surveys, teams
from bot.services.survey_definitions import parse_definition
from bot.standin import FakeSlack, SlackSender
from tests.conftest import Clock, RunningApp
from tests.slack_limits.util import add_prompt, buttons, message_text

SURVEY = """
id: check-in
title: Quick check-in
intro: Two questions, one minute.
anonymous: true
audience:
  users: [U0ALICE, U0BOB]
window_days: 7
reminder_after_days: 3
questions:
  - id: useful
    type: likert
    text: How useful are AI tools for you?
"""


def age_triggers(sender: SlackSender, slack: FakeSlack, seconds: float = 4.0) -> None:
    """Every trigger_id the sender hands out is already `seconds` old: a slow database."""

    def aged() -> str:
        trigger = slack.new_trigger_id()
        slack.workspace.triggers[trigger] -= dt.timedelta(seconds=seconds)
        return trigger

    sender._trigger_id = aged  # type: ignore[method-assign]


def what_they_saw(slack: FakeSlack, url: str | None, user: str) -> str:
    parts = [message_text(r.body) for r in slack.responses_for(url)] if url else []
    parts += [message_text(e) for e in slack.ephemerals(user=user)]
    parts += [message_text(m) for m in slack.messages(user)]
    return "\n".join(parts)


async def survey_run(running: RunningApp) -> int:
    definition = parse_definition(SURVEY, source="t")
    async with running.deps.sessions.begin() as session:
        await surveys.save_definition(
            session=session,
            definition=definition,
            source="t",
            actor="U0ADMIN",
            now=running.deps.clock(),
        )
        run = await surveys.start_run(
            session=session,
            definition=definition,
            period="p1",
            audience=["U0ALICE", "U0BOB"],
            started_by="U0ADMIN",
            now=running.deps.clock(),
        )
        return int(run.id)


async def bob_question(running: RunningApp, clock: Clock) -> int:
    now = running.deps.clock()
    async with running.deps.sessions.begin() as session:
        payments = await teams.get_or_create(session=session, name="payments", now=now)
        await champions.upsert(
            session=session, user_id="U0BOB", team=payments, topics=["python"], now=now
        )
        q = Question(
            asker_id="U0ALICE",
            team_id=payments.id,
            text="How do I test LLM code?",
            status="claimed",
            champion_id="U0BOB",
            created_at=now,
            assigned_at=now,
            claimed_at=now,
        )
        session.add(q)
        await session.flush()
        return int(q.id)


async def open_modal(
    kind: str, sender: SlackSender, running: RunningApp, slack: FakeSlack, clock: Clock
) -> tuple[str | None, str]:
    """Start the modal named `kind`; (response_url, user)."""
    if kind == "prompts add":
        sent = await sender.command("/prompts", "add", user_id="U0ALICE")
        return sent.response_url, "U0ALICE"
    if kind == "survey new":
        sent = await sender.command("/ai-coe", "survey new", user_id="U0ADMIN")
        return sent.response_url, "U0ADMIN"
    url = slack.new_response_url()
    if kind == "prompt-edit":
        p = await add_prompt(running, title="Mine", author="U0ALICE")
        await sender.block_action(
            "prompt-edit", value=str(p.id), user_id="U0ALICE", response_url=url
        )
        return url, "U0ALICE"
    if kind == "survey-answer":
        run_id = await survey_run(running)
        await sender.block_action(
            "survey-answer",
            value=str(run_id),
            user_id="U0ALICE",
            channel_id="D0ALICE",
            response_url=url,
        )
        return url, "U0ALICE"
    if kind == "question-answer":
        qid = await bob_question(running, clock)
        await sender.block_action(
            "question-answer",
            value=str(qid),
            user_id="U0BOB",
            channel_id="D0BOB",
            response_url=url,
        )
        return url, "U0BOB"
    if kind == "policy-details":
        slack.reset()
        asked = await sender.command("/ai-policy", "copilot for auth code in a regulated service")
        details = next(b for b in buttons(asked.json()) if b["action_id"] == "policy-details")
        await sender.block_action("policy-details", value=details["value"], response_url=url)
        return url, "U0ALICE"
    raise AssertionError(kind)


KINDS = [
    "prompts add",
    "survey new",
    "prompt-edit",
    "survey-answer",
    "question-answer",
    "policy-details",
]


@pytest.mark.parametrize("kind", KINDS)
async def test_a_trigger_that_really_expired_asks_for_another_click(
    sender: SlackSender, running: RunningApp, slack: FakeSlack, clock: Clock, kind: str
) -> None:
    age_triggers(sender, slack)
    url, user = await open_modal(kind, sender, running, slack, clock)
    await running.settle()
    seen = what_they_saw(slack, url, user)
    assert "again" in seen.lower(), seen
    assert "reference" not in seen.lower(), seen
    assert slack.views() == []


@pytest.mark.parametrize("kind", KINDS)
async def test_a_failed_fill_does_not_leave_the_modal_on_loading(
    sender: SlackSender, running: RunningApp, slack: FakeSlack, clock: Clock, kind: str
) -> None:
    """views.open works, the first views.update meets a Slack 500: the person must not be
    left looking at "Loading…" forever."""
    slack.fail("views.update", status=500, error="internal_error")
    url, user = await open_modal(kind, sender, running, slack, clock)
    await running.settle()
    views = slack.views()
    assert views, "no modal at all"
    final = message_text(views[-1])
    seen = what_they_saw(slack, url, user)
    assert "Loading" not in final or "again" in seen.lower(), (final, seen)


@pytest.mark.parametrize("kind", KINDS)
async def test_a_lost_views_open_answer_does_not_leave_the_modal_on_loading(
    sender: SlackSender, running: RunningApp, slack: FakeSlack, clock: Clock, kind: str
) -> None:
    """Slack opens the Loading view but the answer is lost (connection reset): the modal
    is open on the person's screen. It must be filled (e.g. by external_id) or the person
    told; never a reference."""
    slack.lose_answer("views.open", "reset")
    url, user = await open_modal(kind, sender, running, slack, clock)
    await running.settle()
    views = slack.views()
    assert views, "Slack opened a modal"
    final = message_text(views[-1])
    seen = what_they_saw(slack, url, user)
    assert "reference" not in seen.lower(), seen
    assert "Loading" not in final or "again" in seen.lower(), (final, seen)


@pytest.mark.parametrize("kind", KINDS)
async def test_a_hash_conflict_on_the_fill_does_not_leave_the_modal_on_loading(
    sender: SlackSender, running: RunningApp, slack: FakeSlack, clock: Clock, kind: str
) -> None:
    slack.fail("views.update", error="hash_conflict")
    url, user = await open_modal(kind, sender, running, slack, clock)
    await running.settle()
    views = slack.views()
    assert views, "no modal at all"
    final = message_text(views[-1])
    seen = what_they_saw(slack, url, user)
    assert "reference" not in seen.lower(), seen
    assert "Loading" not in final or "again" in seen.lower(), (final, seen)
