"""Exactly once under every fault order: survey invitations through the delivery loop.

Each invitation must reach Slack at most once and, unless it failed for good, at least once,
whatever Slack answers: 429 with Retry-After, 5xx, a reset connection or a timeout *after*
Slack posted the message (the stand-in's `lose_answer`), history that cannot be read. The
clock is moved, not slept: each pass runs when every retry and lease is due.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import col, select

from bot.jobs.survey_delivery import SETTLE_TRIES, UNKNOWN_OUTCOME, Pacer, deliver_once
from bot.jobs.surveys import send_survey
from bot.models import SurveyRecipient
from bot.services import surveys
from bot.services.survey_definitions import parse_definition
from bot.slack import build_client
from bot.standin import FakeSlack
from tests.conftest import Clock, RunningApp
from tests.helpers import generated

PEOPLE = [f"U0P{i:03d}" for i in range(20)]
SURVEY = """
id: faults
title: Faults
intro: One question.
anonymous: true
audience: {users: [%s]}
questions:
  - id: useful
    type: likert
    text: Useful?
"""


@pytest.fixture
async def surveyed(running: RunningApp, slack: FakeSlack) -> RunningApp:
    for person in PEOPLE:
        slack.add_user(person, person.lower())
    slack.lost_answer_seconds = 1.5  # the client below gives up after 1 s
    async with running.deps.sessions.begin() as session:
        await surveys.save_definition(
            session=session,
            definition=parse_definition(SURVEY % ", ".join(PEOPLE), source="t"),
            source="t",
            actor="U0ADMIN",
            now=running.deps.clock(),
        )
    return running


async def drain(app: RunningApp, clock: Clock, passes: int = 40) -> None:
    """Run the delivery loop pass after pass, moving the clock past every retry and lease."""
    async with aiohttp.ClientSession() as session:
        client = build_client(
            token=app.deps.client.token,
            base_url=app.deps.settings.slack_api_url,
            metrics=app.deps.metrics,
            wait_on_rate_limit=False,
            session=session,
            timeout=1,
        )
        for _ in range(passes):
            await deliver_once(app.deps, client, Pacer(10_000))
            clock.advance(minutes=15)
            if not await _open(app):
                return


async def _open(app: RunningApp) -> list[SurveyRecipient]:
    async with app.deps.sessions() as session:
        rows = (await session.exec(select(SurveyRecipient))).all()
    return [r for r in rows if r.status in ("pending", "sending")]


def invitations(slack: FakeSlack) -> dict[str, int]:
    return {p: sum("Faults" in str(m.get("text")) for m in slack.messages(p)) for p in PEOPLE}


FAULTS: dict[str, Any] = {
    "429": lambda s: s.fail("chat.postMessage", status=429, retry_after=1),
    "500": lambda s: s.fail("chat.postMessage", status=500),
    "503": lambda s: s.fail("chat.postMessage", status=503),
    "reset": lambda s: s.lose_answer("chat.postMessage", "reset"),
    "timeout": lambda s: s.lose_answer("chat.postMessage", "timeout"),
    "history-500": lambda s: s.fail("conversations.history", status=500),
}


@pytest.mark.parametrize(
    "order",
    [
        ["429", "500", "429", "503"],  # the order that gave three people two invitations
        ["reset", "timeout"],
        ["timeout", "429", "reset", "500", "history-500", "reset"],
    ],
    ids=["429-500-429-503", "lost-answers", "mixed"],
)
async def test_each_person_gets_exactly_one_invitation(
    surveyed: RunningApp, slack: FakeSlack, clock: Clock, order: list[str]
) -> None:
    for fault in order:
        FAULTS[fault](slack)
    await send_survey(surveyed.deps, "faults", actor="U0ADMIN")
    await drain(surveyed, clock)
    assert invitations(slack) == dict.fromkeys(PEOPLE, 1)
    async with surveyed.deps.sessions() as session:
        statuses = (await session.exec(select(SurveyRecipient.status))).all()
    assert set(statuses) == {"sent"}


async def test_when_history_stays_unreadable_the_invitation_is_never_resent(
    surveyed: RunningApp, slack: FakeSlack, clock: Clock
) -> None:
    slack.lose_answer("chat.postMessage", "reset")
    slack.fail("conversations.history", status=500, times=SETTLE_TRIES + 5)
    await send_survey(surveyed.deps, "faults", actor="U0ADMIN")
    await drain(surveyed, clock)
    counts = invitations(slack)
    assert sorted(counts.values()) == [1] * 20  # the lost one was posted once, never again
    async with surveyed.deps.sessions() as session:
        failed = (
            await session.exec(
                select(SurveyRecipient).where(col(SurveyRecipient.status) == "failed")
            )
        ).all()
        every = (await session.exec(select(SurveyRecipient))).all()
    assert [r.last_error for r in failed] == [UNKNOWN_OUTCOME], [
        (r.status, r.last_error, r.attempts) for r in every if r.attempts > 1
    ]


async def test_any_fault_order_gives_exactly_one_invitation_each(
    surveyed: RunningApp, slack: FakeSlack, clock: Clock
) -> None:
    """Generated sequences of faults, then delivery to the end; a restart between passes
    is a new client and a new pacer, as `drain` makes each pass."""
    loop = asyncio.get_running_loop()
    checked: list[int] = []

    def run(coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, loop).result(120)

    @generated(12)
    @given(st.lists(st.sampled_from(sorted(FAULTS)), max_size=8))
    def holds(order: list[str]) -> None:
        slack.clear_faults()
        slack.workspace.messages.clear()
        run(_reset(surveyed))
        for fault in order:
            FAULTS[fault](slack)
        run(send_survey(surveyed.deps, "faults", actor="U0ADMIN", period=f"p{len(checked)}"))
        run(drain(surveyed, clock))
        assert invitations(slack) == dict.fromkeys(PEOPLE, 1), order
        checked.append(len(order))

    await asyncio.to_thread(holds)
    assert checked


async def _reset(app: RunningApp) -> None:
    from sqlalchemy import text

    async with app.deps.sessions.begin() as session:
        for table in ("survey_recipient", "survey_response", "survey_run"):
            await session.exec(text(f"DELETE FROM {table}"))  # type: ignore[call-overload]


# -- the generic outbox: hand-offs, question DMs, digests, mention replies --------------------

OUTBOX_FAULTS = {k: v for k, v in FAULTS.items() if k != "history-500"} | {
    "replies-500": lambda s: s.fail("conversations.replies", status=500),
    "open-500": lambda s: s.fail("conversations.open", status=500),
}


async def _queue(app: RunningApp) -> None:
    """A DM to a person, a channel post, and a threaded reply, as the features queue them."""
    from bot.services import outbox

    async with app.deps.sessions.begin() as session:
        for key, channel, thread in (
            ("dm", "U0ALICE", None),
            ("post", "C0GENERAL", None),
            ("reply", "C0GENERAL", "1700000000.000100"),
        ):
            await outbox.enqueue(
                session=session,
                dedupe_key=f"fault-{key}",
                kind="test",
                channel=channel,
                text=f"outbox {key}",
                thread_ts=thread,
                now=app.deps.clock(),
            )


async def _send_all(app: RunningApp, clock: Clock, passes: int = 30) -> None:
    from bot.jobs.outbox import send_due
    from bot.models import OutboxMessage

    async with aiohttp.ClientSession() as session:
        client = build_client(
            token=app.deps.client.token,
            base_url=app.deps.settings.slack_api_url,
            metrics=app.deps.metrics,
            wait_on_rate_limit=False,
            session=session,
            timeout=1,
        )
        for _ in range(passes):
            await send_due(app.deps, client=client)
            clock.advance(minutes=15)
            async with app.deps.sessions() as db_session:
                rows = (await db_session.exec(select(OutboxMessage))).all()
            if all(r.status in ("sent", "failed") for r in rows):
                return


def _posts(slack: FakeSlack) -> dict[str, int]:
    texts = [
        str(m.get("text")) for channel in ("U0ALICE", "C0GENERAL") for m in slack.messages(channel)
    ]
    return {k: sum(t == f"outbox {k}" for t in texts) for k in ("dm", "post", "reply")}


async def test_outbox_messages_reach_slack_exactly_once_under_any_fault_order(
    running: RunningApp, slack: FakeSlack, clock: Clock
) -> None:
    slack.lost_answer_seconds = 1.5
    general = slack.workspace.conversation_id("C0GENERAL")
    slack.workspace.messages.setdefault(general, []).append(
        {"type": "message", "text": "a question", "user": "U0BOB", "ts": "1700000000.000100"}
    )
    loop = asyncio.get_running_loop()
    checked: list[int] = []

    def run(coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, loop).result(120)

    @generated(12)
    @given(st.lists(st.sampled_from(sorted(OUTBOX_FAULTS)), max_size=8))
    def holds(order: list[str]) -> None:
        slack.clear_faults()
        for channel in ("U0ALICE", "C0GENERAL"):
            slack.workspace.messages[slack.workspace.conversation_id(channel)] = [
                m for m in slack.messages(channel) if not str(m.get("text")).startswith("outbox")
            ]
        run(_reset_outbox(running))
        run(_queue(running))
        for fault in order:
            OUTBOX_FAULTS[fault](slack)
        run(_send_all(running, clock))
        assert _posts(slack) == {"dm": 1, "post": 1, "reply": 1}, order
        checked.append(len(order))

    await asyncio.to_thread(holds)
    assert checked


async def _reset_outbox(app: RunningApp) -> None:
    from sqlalchemy import text

    async with app.deps.sessions.begin() as session:
        await session.exec(text("DELETE FROM outbox_message"))  # type: ignore[call-overload]
