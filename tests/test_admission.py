"""Admission: a few Slack requests are worked on at once, the rest wait their turn in order;
one that waited too long is shed, visibly and without side effects (docs/architecture.md)."""

from __future__ import annotations

import asyncio

from sqlmodel import select

from bot.models import Question
from bot.standin import SlackSender
from bot.tasks import Admission
from tests.conftest import RunningApp
from tests.helpers import MENTION, lookups, message_text, outbox_rows


async def _questions(running: RunningApp) -> list[Question]:
    async with running.deps.sessions() as session:
        return list((await session.exec(select(Question))).all())


async def test_a_request_shed_after_waiting_runs_nothing_and_says_so(
    running: RunningApp, sender: SlackSender
) -> None:
    running.deps.admission = Admission(limit=1, shed_after=0.2)
    async with running.deps.admission.turn():  # the one place is taken for the whole test
        asked = await sender.command("/ask-champion", "how do I test the payments service?")
        policy = await sender.command("/ai-policy", "copilot for auth code")
        mention = await sender.event(dict(MENTION), event_id="Ev0BUSY01")
    await running.settle()

    assert asked.status == 200
    said = message_text(asked.json())
    assert "too busy" in said
    assert "`/ask-champion` did *not run*" in said
    assert "nothing was recorded" in said
    assert "`/ai-policy` did *not run*" in message_text(policy.json())
    assert mention.status == 503  # Slack sends the event again
    assert await _questions(running) == []
    assert await lookups(running) == []
    assert await outbox_rows(running) == []

    again = await sender.event(dict(MENTION), event_id="Ev0BUSY01", retry_num=1)
    await running.settle()
    assert again.status == 200
    assert [row.kind for row in await outbox_rows(running)] == ["mention-reply"]


async def test_requests_that_wait_less_than_the_budget_are_served_in_arrival_order(
    running: RunningApp, sender: SlackSender
) -> None:
    running.deps.admission = Admission(limit=1, shed_after=5.0)
    answered: list[str] = []

    async def ask(words: str) -> None:
        sent = await sender.command("/ai-policy", words)
        answered.append(words if "did *not run*" not in message_text(sent.json()) else "shed")

    async with running.deps.admission.turn():
        first = asyncio.create_task(ask("copilot for auth code"))
        await asyncio.sleep(0.05)
        second = asyncio.create_task(ask("cursor for payment code"))
        await asyncio.sleep(0.3)
        assert answered == []
        assert running.deps.admission.waiting == 2
    await asyncio.gather(first, second)
    await running.settle()

    assert answered == ["copilot for auth code", "cursor for payment code"]
    assert len(await lookups(running)) == 2
