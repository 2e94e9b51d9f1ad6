"""`/ask-champion` end to end: reuse, routing, claim, answer, pass, rate, escalation, leavers."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from sqlmodel import col, select

from bot.jobs.escalation import escalate_overdue
from bot.jobs.outbox import send_due
from bot.models import Question, QuestionAssignment
from bot.services import champions, teams
from bot.standin import FakeSlack, SlackSender
from tests.conftest import Clock, RunningApp
from tests.helpers import audit_events, message_text

QUESTION = "How should I write python tests for code that calls an LLM?"


async def seed(app: RunningApp, slack: FakeSlack) -> None:
    """payments: Bob (python, testing), Carol (security); search: Dave (python); Alice asks."""
    for user, name in (("U0FRANK", "frank"), ("U0GRACE", "grace")):
        slack.add_user(user, name)
    now = app.deps.clock()
    async with app.deps.sessions.begin() as session:
        payments = await teams.get_or_create(session=session, name="payments", now=now)
        search = await teams.get_or_create(session=session, name="search", now=now)
        await teams.set_member(session=session, user_id="U0ALICE", team=payments, now=now)
        for user, team, topics in (
            ("U0BOB", payments, ["python", "testing"]),
            ("U0CAROL", payments, ["security"]),
            ("U0DAVE", search, ["python"]),
        ):
            await champions.upsert(session=session, user_id=user, team=team, topics=topics, now=now)


async def deliver(app: RunningApp) -> None:
    await app.settle()
    while await send_due(app.deps):
        pass


async def question(app: RunningApp) -> Question:
    async with app.deps.sessions() as session:
        return (await session.exec(select(Question).order_by(col(Question.id).desc()))).first()  # type: ignore[return-value]


def dm_button(slack: FakeSlack, user: str, action_id: str) -> dict[str, Any]:
    for message in reversed(slack.messages(user)):
        for block in message.get("blocks") or []:
            for element in block.get("elements", []) if block["type"] == "actions" else []:
                if element["action_id"] == action_id:
                    return element
    raise AssertionError(f"no {action_id} button in {user}'s DMs")


async def test_routes_to_the_team_champion_for_the_topic(
    sender: SlackSender, running: RunningApp, slack: FakeSlack
) -> None:
    await seed(running, slack)
    sent = await sender.command("/ask-champion", QUESTION)
    assert "Finding a champion" in message_text(sent.json())
    await deliver(running)

    asked = await question(running)
    assert asked.champion_id == "U0BOB"
    assert "your team for python, testing" in (asked.route_reason or "")
    assert QUESTION.replace(">", "&gt;") in message_text(slack.messages("U0BOB")[-1])
    assert "<@U0BOB> has your question" in message_text(slack.messages("U0ALICE")[-1])


async def test_routing_order_skips_away_busy_and_asker(
    sender: SlackSender, running: RunningApp, slack: FakeSlack
) -> None:
    await seed(running, slack)
    await sender.command("/ask-champion", "away on", user_id="U0BOB")
    await sender.command("/ask-champion", QUESTION)
    await deliver(running)
    assert (await question(running)).champion_id == "U0CAROL"  # same team, other topic

    await sender.command("/ask-champion", "away on", user_id="U0CAROL")
    await sender.command("/ask-champion", "Any python tips for typing?")
    await deliver(running)
    first = await question(running)
    assert first.champion_id == "U0DAVE"  # python champion of another team
    assert "another team" in (first.route_reason or "")

    # Dave asks: he is skipped, and nobody else fits: the community channel is told
    await sender.command("/ask-champion", "python question from a champion", user_id="U0DAVE")
    await deliver(running)
    own = await question(running)
    assert own.champion_id is None
    assert own.escalation == 1


async def test_no_champion_posts_to_the_community_channel(
    settings: Any, clock: Clock, slack: FakeSlack
) -> None:
    from tests.conftest import SIGNING_SECRET, start_app

    app, runner = await start_app(
        settings.model_copy(update={"community_channel": "C0COMMUNITY"}), clock
    )
    try:
        async with SlackSender(app.events_url, SIGNING_SECRET, slack=slack) as sender:
            await sender.command("/ask-champion", "Who owns the copilot licences?")
        await deliver(app)
        [post] = slack.messages("C0COMMUNITY")
        assert "needs a champion" in message_text(post)
        told = slack.messages("U0ALICE")[-1]
        assert "posted in <#C0COMMUNITY>" in told["text"]
        assert "posted in <#C0COMMUNITY>" in message_text({"blocks": told["blocks"]})  # a link
    finally:
        await runner.cleanup()


async def test_claim_then_answer_by_modal_then_rate(
    sender: SlackSender, running: RunningApp, slack: FakeSlack
) -> None:
    await seed(running, slack)
    await sender.command("/ask-champion", QUESTION)
    await deliver(running)
    claim = dm_button(slack, "U0BOB", "question-claim")

    wrong = slack.new_response_url()
    await sender.block_action(
        "question-claim", value=claim["value"], user_id="U0DAVE", response_url=wrong
    )
    await sender.block_action("question-claim", value=claim["value"], user_id="U0BOB")
    await running.settle()
    assert "with <@U0BOB>" in message_text(slack.responses_for(wrong)[0].body)
    again = slack.new_response_url()
    await sender.block_action(
        "question-claim", value=claim["value"], user_id="U0DAVE", response_url=again
    )
    await deliver(running)
    assert "claimed by <@U0BOB>" in message_text(slack.responses_for(again)[0].body)
    assert "is working on your question" in message_text(slack.messages("U0ALICE")[-1])

    await sender.block_action("question-answer", value=claim["value"], user_id="U0BOB")
    await running.settle()
    [modal] = slack.views()  # opened at once as "Loading…", then filled
    metadata = modal["private_metadata"]
    done = await sender.view_submission(
        "question-answer-modal",
        {"answer": {"answer": {"type": "plain_text_input", "value": "Record the responses."}}},
        user_id="U0BOB",
        private_metadata=metadata,
    )
    assert done.status == 200
    await deliver(running)
    answered = await question(running)
    assert answered.status == "answered"
    assert answered.answer == "Record the responses."
    assert answered.claimed_at is not None
    assert answered.answered_at is not None
    reply = slack.messages("U0ALICE")[-1]
    assert "Record the responses." in message_text(reply)

    helpful = dm_button(slack, "U0ALICE", "question-helpful")
    await sender.block_action("question-helpful", value=helpful["value"], user_id="U0BOB")
    await sender.block_action("question-helpful", value=helpful["value"], user_id="U0ALICE")
    await running.settle()
    assert (await question(running)).helpful is True


async def test_answer_by_thread_reply_once(
    sender: SlackSender, running: RunningApp, slack: FakeSlack
) -> None:
    await seed(running, slack)
    await sender.command("/ask-champion", QUESTION)
    await deliver(running)
    dm = slack.messages("U0BOB")[-1]
    event = {
        "type": "message",
        "channel_type": "im",
        "channel": slack.workspace.dm_with("U0BOB").id,
        "user": "U0BOB",
        "text": "Use recorded fixtures & assert on behaviour.",
        "ts": "1800000000.000200",
        "thread_ts": dm["ts"],
    }
    await sender.event(event, event_id="EvANSWER1")
    await sender.event(event, event_id="EvANSWER1", retry_num=1)
    await deliver(running)
    answered = await question(running)
    assert answered.status == "answered"
    assert answered.answer == "Use recorded fixtures & assert on behaviour."
    answers = [m for m in slack.messages("U0ALICE") if "answered your question" in m["text"]]
    assert len(answers) == 1
    assert "&amp; assert" in message_text(answers[0])
    thanks = [m for m in slack.messages("U0BOB") if "Your answer was sent" in m["text"]]
    assert [m.get("thread_ts") for m in thanks] == [dm["ts"]]  # once, in the thread


async def answered_once(
    sender: SlackSender, running: RunningApp, slack: FakeSlack
) -> dict[str, Any]:
    """QUESTION asked, routed to Bob and answered by him ("Record the LLM calls."); the
    Answer button of his DM."""
    await seed(running, slack)
    await sender.command("/ask-champion", QUESTION)
    await deliver(running)
    claim = dm_button(slack, "U0BOB", "question-answer")
    await sender.view_submission(
        "question-answer-modal",
        {"answer": {"answer": {"type": "plain_text_input", "value": "Record the LLM calls."}}},
        user_id="U0BOB",
        private_metadata=json.dumps({"question_id": int(claim["value"])}),
    )
    await deliver(running)
    return claim


async def test_reuse_shows_earlier_answers_first(
    sender: SlackSender, running: RunningApp, slack: FakeSlack
) -> None:
    claim = await answered_once(sender, running, slack)

    again = await sender.command(
        "/ask-champion", "writing tests for python code calling an LLM", user_id="U0ERIN"
    )
    reply = again.json()
    assert "Record the LLM calls." in message_text(reply)
    resolved = next(
        e
        for b in reply["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "question-reuse-resolved"
    )
    await sender.block_action(
        "question-reuse-resolved",
        value=resolved["value"],
        user_id="U0ERIN",
        response_url=again.response_url,
    )
    await running.settle()
    latest = await question(running)
    assert latest.status == "resolved"
    assert latest.reused_from == int(claim["value"])
    async with running.deps.sessions() as session:
        original = await session.get(Question, int(claim["value"]))
    assert original is not None
    assert original.reuse_count == 1

    other = await sender.command(
        "/ask-champion", "python tests for LLM code, but async", user_id="U0ERIN"
    )
    escalate = next(
        e
        for b in other.json()["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "question-reuse-escalate"
    )
    await sender.block_action(
        "question-reuse-escalate",
        value=escalate["value"],
        user_id="U0ERIN",
        response_url=other.response_url,
    )
    await deliver(running)
    assert (await question(running)).status == "open"


@pytest.mark.parametrize(
    "unrelated",
    [
        "how do I review React components for accessibility?",
        "what is the best way to do code review for a big PR?",
        "how should I set up my IDE for the monorepo?",
    ],
)
async def test_reuse_does_not_offer_an_answer_that_only_shares_small_words(
    sender: SlackSender, running: RunningApp, slack: FakeSlack, unrelated: str
) -> None:
    await answered_once(sender, running, slack)

    asked = await sender.command("/ask-champion", unrelated, user_id="U0ERIN")
    reply = message_text(asked.json())
    assert "Record the LLM calls." not in reply
    assert "Finding a champion" in reply  # routed, not held back by a wrong suggestion


async def test_pass_goes_to_the_next_champion(
    sender: SlackSender, running: RunningApp, slack: FakeSlack
) -> None:
    await seed(running, slack)
    await sender.command("/ask-champion", QUESTION)
    await deliver(running)
    passed = dm_button(slack, "U0BOB", "question-pass")
    await sender.block_action("question-pass", value=passed["value"], user_id="U0BOB")
    await deliver(running)
    moved = await question(running)
    assert moved.champion_id == "U0CAROL"
    assert dm_button(slack, "U0CAROL", "question-claim")["value"] == passed["value"]


async def test_escalation_steps_each_happen_once(
    settings: Any, clock: Clock, slack: FakeSlack
) -> None:
    from tests.conftest import SIGNING_SECRET, start_app

    clock.now = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)  # a Monday morning
    app, runner = await start_app(
        settings.model_copy(update={"community_channel": "C0COMMUNITY"}), clock
    )
    try:
        await seed(app, slack)
        async with SlackSender(app.events_url, SIGNING_SECRET, slack=slack) as sender:
            await sender.command("/ask-champion", QUESTION)
        await deliver(app)
        assert (await question(app)).champion_id == "U0BOB"

        clock.advance(minutes=29)
        assert await escalate_overdue(app.deps) == 0
        clock.advance(minutes=2)  # Bob missed the claim: on to Carol
        assert await escalate_overdue(app.deps) > 0
        assert await escalate_overdue(app.deps) == 0  # a repeated run changes nothing
        await deliver(app)
        assert (await question(app)).champion_id == "U0CAROL"

        clock.advance(minutes=31)  # Carol missed it too: the community channel
        await escalate_overdue(app.deps)
        await escalate_overdue(app.deps)
        await deliver(app)
        missed = await question(app)
        assert missed.champion_id is None
        assert missed.misses == 2
        assert len(slack.messages("C0COMMUNITY")) == 1

        clock.advance(hours=7)  # one business day after asking: the CoE channel
        await escalate_overdue(app.deps)
        await escalate_overdue(app.deps)
        await deliver(app)
        coe = [m for m in slack.messages("C0COE") if "past its deadline" in message_text(m)]
        assert len(coe) == 1
        assert (await question(app)).escalation == 2
        async with app.deps.sessions() as session:
            outcomes = [
                a.outcome
                for a in (
                    await session.exec(
                        select(QuestionAssignment).order_by(col(QuestionAssignment.id))
                    )
                ).all()
            ]
        assert outcomes == ["missed", "missed"]
    finally:
        await runner.cleanup()


async def test_claim_deadline_counts_business_hours_only(
    sender: SlackSender, running: RunningApp, slack: FakeSlack, clock: Clock
) -> None:
    await seed(running, slack)
    clock.now = dt.datetime(2026, 11, 6, 16, 50, tzinfo=dt.UTC)  # Friday, 10 min before close
    await sender.command("/ask-champion", QUESTION)
    await deliver(running)
    asked = await question(running)
    assert asked.claim_deadline == dt.datetime(2026, 11, 9, 9, 20, tzinfo=dt.UTC)


async def test_a_champion_slack_no_longer_knows_is_retired_and_their_question_rerouted(
    sender: SlackSender, running: RunningApp, slack: FakeSlack
) -> None:
    """The DM fails with user_not_found, `users.info` confirms it: retired, rerouted."""
    await seed(running, slack)
    del slack.workspace.users["U0BOB"]
    await sender.command("/ask-champion", QUESTION)
    await deliver(running)
    moved = await question(running)
    assert moved.champion_id == "U0CAROL"
    async with running.deps.sessions() as session:
        bob = await champions.active(session=session)
    assert "U0BOB" not in {c.user_id for c in bob}


async def test_admin_commands_and_refusals(
    sender: SlackSender, running: RunningApp, slack: FakeSlack
) -> None:
    sent = []
    for text, user in (
        ("champions add <@U0BOB|bob> team=payments", "U0ALICE"),
        ("champions add <@U0BOB|bob> team=Payments topics=python,testing capacity=2", "U0ADMIN"),
        ("champions list", "U0ADMIN"),
        ("teams map S0COE payments", "U0ADMIN"),
        ("champions add bob", "U0ADMIN"),
    ):
        sent.append(await sender.command("/ai-coe", text, user_id=user))
        await running.settle()
    refused, added, listed, mapped, bad = sent

    def reply(sent: Any) -> str:
        return message_text(slack.responses_for(sent.response_url)[0].body)

    assert "CoE admins only" in reply(refused)
    assert "now a champion of *payments*" in reply(added)
    assert "<@U0BOB> · payments · python, testing" in reply(listed)
    assert "now count as team" in reply(mapped)
    assert "not a person" in reply(bad)
    assert [e.actor for e in await audit_events(running, "champion.add")] == ["U0ADMIN"]


async def test_empty_and_overlong_questions(sender: SlackSender, running: RunningApp) -> None:
    assert "Please add your question" in message_text(
        (await sender.command("/ask-champion", "  ")).json()
    )
    assert "3,000" in message_text((await sender.command("/ask-champion", "x" * 3001)).json())
    await running.settle()
    assert await question(running) is None


async def test_queue_lists_a_champions_open_questions(
    sender: SlackSender, running: RunningApp, slack: FakeSlack
) -> None:
    await seed(running, slack)
    await sender.command("/ask-champion", QUESTION)
    await deliver(running)
    queue = message_text((await sender.command("/ask-champion", "queue", user_id="U0BOB")).json())
    assert "1 open question" in queue
    assert "waiting for your claim" in queue
    empty = message_text((await sender.command("/ask-champion", "queue", user_id="U0DAVE")).json())
    assert "No open questions" in empty
    not_champion = (await sender.command("/ask-champion", "away on", user_id="U0ERIN")).json()
    assert "Only champions" in message_text(not_champion)


async def test_team_from_a_mapped_user_group(
    sender: SlackSender, running: RunningApp, slack: FakeSlack
) -> None:
    await seed(running, slack)
    slack.add_usergroup("S0SEARCH", "search-team", ["U0ERIN"])
    mapped = await sender.command("/ai-coe", "teams map S0SEARCH search", user_id="U0ADMIN")
    await running.settle()
    assert "now count as team" in message_text(
        slack.responses_for(mapped.response_url or "")[0].body
    )
    await sender.command("/ask-champion", "a question about our search ranking", user_id="U0ERIN")
    await deliver(running)
    routed = await question(running)
    assert routed.champion_id == "U0DAVE"
    assert routed.route_reason == "a champion of your team"


async def test_two_sweeps_at_once_escalate_once(
    settings: Any, clock: Clock, slack: FakeSlack
) -> None:
    import asyncio

    from tests.conftest import SIGNING_SECRET, start_app

    clock.now = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
    first, runner_a = await start_app(settings, clock)
    second, runner_b = await start_app(settings, clock)  # a second replica, same database
    try:
        await seed(first, slack)
        async with SlackSender(first.events_url, SIGNING_SECRET, slack=slack) as sender:
            for number in range(5):
                await sender.command("/ask-champion", f"python testing question {number}")
        await deliver(first)
        clock.advance(minutes=31)
        await asyncio.gather(escalate_overdue(first.deps), escalate_overdue(second.deps))
        await deliver(first)
        async with first.deps.sessions() as session:
            rows = (await session.exec(select(QuestionAssignment))).all()
        missed = [a for a in rows if a.outcome == "missed"]
        assert len(missed) == 5
        assert len(rows) == 10  # each question went to exactly one next champion
    finally:
        await runner_a.cleanup()
        await runner_b.cleanup()


def test_a_topic_of_several_words_is_a_phrase() -> None:
    from bot.services.routing import question_topics
    from bot.services.teams import parse_topics

    known = set(parse_topics("code review; Claude  Code, python,go"))
    assert known == {"code-review", "claude-code", "python", "go"}
    found = {
        text: sorted(question_topics(text, known))
        for text in (
            "Any tips on code reviews with AI?",
            "How do I run this code in CI?",  # "code" alone is not "code review"
            "is claude code allowed here",
            "reviewing code with copilot",  # the words in another order: not the phrase
            "our code-review bot and Python tests",
            "going to use it",  # "go" only exactly
        )
    }
    assert found == {
        "Any tips on code reviews with AI?": ["code-review"],
        "How do I run this code in CI?": [],
        "is claude code allowed here": ["claude-code"],
        "reviewing code with copilot": [],
        "our code-review bot and Python tests": ["code-review", "python"],
        "going to use it": [],
    }


async def test_a_champion_can_claim_answer_and_pass_by_typing(
    sender: SlackSender, running: RunningApp, slack: FakeSlack
) -> None:
    await seed(running, slack)
    await sender.command("/ask-champion", QUESTION)
    await deliver(running)
    asked = await question(running)
    assert f"Question #{asked.id}" in message_text(slack.messages("U0BOB")[-1])

    async def typed(text: str, user: str = "U0BOB") -> str:
        sent = await sender.command("/ask-champion", text, user_id=user)
        await deliver(running)
        return message_text(sent.json())

    assert "Only champions can claim" in await typed(f"claim {asked.id}", user="U0ALICE")
    assert "There is no question" in await typed("claim 0")
    assert "no longer exists" in await typed("claim 9999")
    said = await typed(f"claim #{asked.id}")
    assert f"You've claimed question #{asked.id}" in said
    assert (await question(running)).status == "claimed"
    assert "is working on your question" in message_text(slack.messages("U0ALICE")[-1])
    assert "claimed by <@U0BOB>" in await typed(f"claim {asked.id}", user="U0CAROL")
    said = await typed(f"answer {asked.id} Record the model's replies and replay them.")
    assert f"Your answer to question #{asked.id} was sent" in said
    answered = await question(running)
    assert answered.status == "answered"
    assert answered.answer == "Record the model's replies and replay them."
    assert "Record the model" in message_text(slack.messages("U0ALICE")[-1])

    await sender.command("/ask-champion", "Who approves new licences for the payments team?")
    await deliver(running)
    second = await question(running)
    assert second.id != asked.id
    holder = second.champion_id
    assert holder in {"U0BOB", "U0CAROL"}
    assert f"Passed on question #{second.id}" in await typed(f"pass {second.id}", user=holder)
    assert (await question(running)).champion_id not in {holder, None}
    assert "answered already" in await typed(f"answer {asked.id} again")


async def test_a_few_words_without_a_question_mark_get_the_usage(
    sender: SlackSender, running: RunningApp, slack: FakeSlack
) -> None:
    await seed(running, slack)
    for text in ("hi", "hello there", "claim"):
        sent = await sender.command("/ask-champion", text)
        assert "Ask a whole question" in message_text(sent.json())
    sent = await sender.command("/ask-champion", "copilot licences?")
    assert "Finding a champion" in message_text(sent.json())
    await deliver(running)
    async with running.deps.sessions() as session:
        asked = (await session.exec(select(Question.text))).all()
    assert asked == ["copilot licences?"]


async def test_the_answer_modal_opens_before_any_query_and_then_fills(
    sender: SlackSender, running: RunningApp, slack: FakeSlack
) -> None:
    await seed(running, slack)
    await sender.command("/ask-champion", QUESTION)
    await deliver(running)
    claim = dm_button(slack, "U0BOB", "question-answer")
    slack.reset()
    await sender.block_action("question-answer", value=claim["value"], user_id="U0BOB")
    await running.settle()
    opened, filled = slack.calls_to("views.open"), slack.calls_to("views.update")
    assert [c.method for c in slack.calls if c.method.startswith("views.")] == [
        "views.open",
        "views.update",
    ]
    assert "Loading" in message_text(opened[0].args["view"])
    [modal] = slack.views()
    assert modal["callback_id"] == "question-answer-modal"
    assert filled[0].args["hash"]  # the update names the view it fills


async def test_an_expired_trigger_asks_for_another_click_not_an_error_reference(
    sender: SlackSender, running: RunningApp, slack: FakeSlack
) -> None:
    await seed(running, slack)
    await sender.command("/ask-champion", QUESTION)
    await deliver(running)
    claim = dm_button(slack, "U0BOB", "question-answer")
    slack.fail("views.open", error="expired_trigger_id")
    told = slack.new_response_url()
    await sender.block_action(
        "question-answer", value=claim["value"], user_id="U0BOB", response_url=told
    )
    await running.settle()
    reply = message_text(slack.responses_for(told)[0].body)
    assert "please click the button again" in reply
    assert "reference" not in reply
    assert slack.views() == []


async def test_a_question_answered_meanwhile_says_so_in_the_modal(
    sender: SlackSender, running: RunningApp, slack: FakeSlack
) -> None:
    await seed(running, slack)
    await sender.command("/ask-champion", QUESTION)
    await deliver(running)
    claim = dm_button(slack, "U0BOB", "question-answer")
    async with running.deps.sessions.begin() as session:
        asked = await session.get(Question, int(claim["value"]))
        assert asked is not None
        asked.status = "answered"
        session.add(asked)
    await sender.block_action("question-answer", value=claim["value"], user_id="U0BOB")
    await running.settle()
    [modal] = slack.views()
    assert "This question has been answered already." in message_text(modal)
    assert not modal.get("submit")  # nothing to send from it


async def test_the_champion_queue_pages_every_question_with_the_true_total(
    sender: SlackSender, running: RunningApp, slack: FakeSlack, clock: Clock
) -> None:
    await seed(running, slack)
    async with running.deps.sessions.begin() as session:
        for n in range(30):
            session.add(
                Question(
                    asker_id="U0ALICE",
                    text=f"How do I test generated code, case {n}?",
                    created_at=clock() + dt.timedelta(minutes=n),
                )
            )
    first = (await sender.command("/ask-champion", "queue", user_id="U0BOB")).json()
    assert "*30 open questions*" in message_text(first)
    seen: list[str] = []
    message = first
    while True:
        assert len(message["blocks"]) <= 50
        elements = [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]
        seen += [e["value"] for e in elements if e["action_id"] == "question-answer"]
        following = [
            e for e in elements if e["action_id"] == "question-queue-page" and e["value"] != "0"
        ]
        if not following:
            break
        url = slack.new_response_url()
        await sender.block_action(
            "question-queue-page", value=following[0]["value"], user_id="U0BOB", response_url=url
        )
        await running.settle()
        message = slack.responses_for(url)[-1].body
    assert len(seen) == 30
    assert len(set(seen)) == 30
