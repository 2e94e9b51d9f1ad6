"""Exactly once under every fault order: survey invitations through the delivery loop.

Each invitation must reach Slack at most once and, unless it failed for good, at least once,
whatever Slack answers: 429 with Retry-After, 5xx, a reset connection or a timeout *after*
Slack posted the message (the stand-in's `lose_answer`), history that cannot be read. The
clock is moved, not slept: each pass runs when every retry and lease is due.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from hypothesis import strategies as st
from slack_sdk.web.async_client import AsyncWebClient
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


@contextlib.asynccontextmanager
async def fresh_client(app: RunningApp) -> AsyncIterator[AsyncWebClient]:
    """A client as a newly started process builds it: no sleeping on 429, a 1 s timeout."""
    async with aiohttp.ClientSession() as session:
        yield build_client(
            token=app.deps.client.token,
            base_url=app.deps.settings.slack_api_url,
            metrics=app.deps.metrics,
            wait_on_rate_limit=False,
            session=session,
            timeout=1,
        )


async def drain(app: RunningApp, clock: Clock, passes: int = 40) -> None:
    """Run the delivery loop pass after pass, moving the clock past every retry and lease."""
    async with fresh_client(app) as client:
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

    async with fresh_client(app) as client:
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


async def _reset_outbox(app: RunningApp) -> None:
    from sqlalchemy import text

    async with app.deps.sessions.begin() as session:
        await session.exec(text("DELETE FROM outbox_message"))  # type: ignore[call-overload]


# -- both loops, generated fault orders and crashes -------------------------------------------


async def test_both_delivery_loops_send_exactly_once_under_generated_faults_and_crashes(
    surveyed: RunningApp, slack: FakeSlack, clock: Clock
) -> None:
    """A hypothesis state machine: faults are injected, survey runs and outbox messages are
    queued, the two loops run passes, and a pass can crash (cancelled mid-flight, as SIGKILL
    leaves rows claimed and maybe posted); a new process is a new client. After every step no
    message reached Slack twice; at the end, with the faults gone, every one arrived once,
    unless its row says its outcome stayed unknown (then it arrived at most once)."""
    from hypothesis.stateful import (
        RuleBasedStateMachine,
        initialize,
        invariant,
        rule,
        run_state_machine_as_test,
    )

    from bot.models import OutboxMessage

    app = surveyed
    loop = asyncio.get_running_loop()
    general = slack.workspace.conversation_id("C0GENERAL")
    periods = itertools.count()

    def run(coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, loop).result(300)

    async def crashing(work: Any, after: float) -> None:
        task = asyncio.ensure_future(work)
        await asyncio.sleep(after)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    class Delivery(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            slack.clear_faults()
            slack.workspace.messages.clear()
            slack.workspace.messages[general] = [
                {
                    "type": "message",
                    "text": "a question",
                    "user": "U0BOB",
                    "ts": "1700000000.000100",
                }
            ]
            run(_reset(app))
            run(_reset_outbox(app))

        @rule(fault=st.sampled_from(sorted(FAULTS.keys() | OUTBOX_FAULTS.keys())))
        def inject(self, fault: str) -> None:
            (FAULTS | OUTBOX_FAULTS)[fault](slack)

        @initialize()
        def queue_both(self) -> None:
            run(send_survey(app.deps, "faults", actor="U0ADMIN", period=f"p{next(periods)}"))
            run(_queue(app))

        @rule(loop_name=st.sampled_from(["survey", "outbox"]))
        def one_pass(self, loop_name: str) -> None:
            run(_one_pass(app, loop_name))
            clock.advance(minutes=15)

        @rule(
            loop_name=st.sampled_from(["survey", "outbox"]), after=st.sampled_from([0, 0.01, 0.3])
        )
        def crash_mid_pass(self, loop_name: str, after: float) -> None:
            run(crashing(_one_pass(app, loop_name), after))
            clock.advance(minutes=15)

        @invariant()
        def nothing_twice(self) -> None:
            assert max(invitations_by_recipient(slack).values(), default=0) <= 1
            assert max(_posts(slack).values()) <= 1

        def teardown(self) -> None:
            slack.clear_faults()
            run(drain(app, clock))
            run(_send_all(app, clock))
            survey_rows = run(_rows(app, SurveyRecipient))
            outbox_rows = run(_rows(app, OutboxMessage))
            sent = invitations_by_recipient(slack)
            for row in survey_rows:
                arrived = sent.get(row.id, 0)
                assert arrived == 1 or (row.status == "failed" and arrived <= 1), row
            posts = _posts(slack)
            for row in outbox_rows:
                arrived = posts[row.dedupe_key.removeprefix("fault-")]
                assert arrived == 1 or (row.status == "failed" and arrived <= 1), row

    await asyncio.to_thread(run_state_machine_as_test, Delivery, settings=generated(15))


async def _one_pass(app: RunningApp, loop_name: str) -> None:
    from bot.jobs.outbox import send_due

    async with fresh_client(app) as client:
        if loop_name == "survey":
            await deliver_once(app.deps, client, Pacer(10_000))
        else:
            await send_due(app.deps, client=client)


async def _rows(app: RunningApp, model: Any) -> list[Any]:
    async with app.deps.sessions() as session:
        return list((await session.exec(select(model))).all())


def invitations_by_recipient(slack: FakeSlack) -> dict[int, int]:
    """Recipient row id → invitations posted, read from each DM's metadata."""
    found: dict[int, int] = {}
    for person in PEOPLE:
        for message in slack.messages(person):
            payload = (message.get("metadata") or {}).get("event_payload") or {}
            if "recipient" in payload and not payload.get("reminder"):
                found[payload["recipient"]] = found.get(payload["recipient"], 0) + 1
    return found
