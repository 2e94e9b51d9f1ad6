"""Surveys end to end: loading, audiences, delivery with faults, answers, anonymity, results."""

from __future__ import annotations

import datetime as dt
from typing import Any

import aiohttp
import pytest
from sqlmodel import col, select

from bot.handlers.surveys import status_message
from bot.jobs import surveys as survey_jobs
from bot.jobs.survey_delivery import Pacer, deliver_once
from bot.models import SurveyRecipient, SurveyResponse, SurveyRun
from bot.services import surveys
from bot.services.survey_definitions import DefinitionError, parse_definition, templates_dir
from bot.slack import build_client
from bot.standin import FakeSlack, SlackSender
from tests.conftest import Clock, RunningApp
from tests.helpers import audit_events, message_text, send_in_slack

SMALL = """
id: check-in
title: Quick check-in
intro: Two questions, one minute.
anonymous: true
audience:
  users: [U0ALICE, U0BOB, U0CAROL, U0DAVE, U0ERIN, U0ADMIN]
window_days: 7
reminder_after_days: 3
questions:
  - id: useful
    type: likert
    text: How useful are AI tools for you?
  - id: recommend
    type: nps
    text: How likely are you to recommend them?
  - id: why
    type: text
    text: Why?
    required: false
"""


async def load(app: RunningApp, text: str = SMALL) -> None:
    definition = parse_definition(text, source="test.yaml")
    async with app.deps.sessions.begin() as session:
        await surveys.save_definition(
            session=session,
            definition=definition,
            source="test",
            actor="U0ADMIN",
            now=app.deps.clock(),
        )


async def deliver(app: RunningApp) -> int:
    session = aiohttp.ClientSession()
    client = build_client(
        token=app.deps.client.token,
        base_url=app.deps.settings.slack_api_url,
        metrics=app.deps.metrics,
        wait_on_rate_limit=False,
        session=session,
    )
    pacer = Pacer(10_000)
    total = 0
    try:
        while sent := await deliver_once(app.deps, client, pacer):
            total += sent
    finally:
        await session.close()
    return total


async def recipients(app: RunningApp) -> list[SurveyRecipient]:
    async with app.deps.sessions() as session:
        return list(
            (await session.exec(select(SurveyRecipient).order_by(col(SurveyRecipient.id)))).all()
        )


async def responses(app: RunningApp) -> list[SurveyResponse]:
    async with app.deps.sessions() as session:
        return list((await session.exec(select(SurveyResponse))).all())


def answer_values(useful: int, recommend: int, why: str | None = None) -> dict[str, Any]:
    return {
        "useful": {"useful": {"type": "radio_buttons", "selected_option": {"value": str(useful)}}},
        "recommend": {
            "recommend": {"type": "static_select", "selected_option": {"value": str(recommend)}}
        },
        "why": {"why": {"type": "plain_text_input", "value": why}},
    }


def test_templates_are_valid() -> None:
    from bot.services.survey_definitions import load_definition

    ids = {load_definition(p).id for p in templates_dir().glob("*.yaml")}
    assert ids == {"monthly-pulse", "pilot-check-in", "quarterly-governance"}


def test_definition_errors_name_the_line() -> None:
    broken = SMALL.replace("type: nps", "type: stars").replace("window_days: 7", "window_days: 0")
    with pytest.raises(DefinitionError) as caught:
        parse_definition(broken, source="s.yaml")
    lines = {str(i) for i in caught.value.issues}
    assert any(line.startswith("s.yaml:8: window_days") for line in lines), lines
    assert any("questions[1].type" in line for line in lines), lines
    bad_cron = SMALL + "schedule:\n  cron: '61 * * * *'\n"
    with pytest.raises(DefinitionError) as cron:
        parse_definition(bad_cron, source="c.yaml")
    assert "schedule.cron" in str(cron.value)


async def test_send_deliver_answer_change_and_results(
    sender: SlackSender, running: RunningApp, slack: FakeSlack, clock: Clock
) -> None:
    await load(running)
    asked, started = await send_in_slack(sender, running, slack, "survey send check-in")
    assert "Send *Quick check-in* to 6 people" in asked
    assert "6 people to ask" in started
    slack.fail("chat.postMessage", status=429, retry_after=1, times=1)
    slack.fail("chat.postMessage", status=503, times=1)
    assert await deliver(running) == 4
    clock.advance(seconds=30)
    assert await deliver(running) == 2
    assert await deliver(running) == 0
    invited = [
        u
        for u in ("U0ALICE", "U0BOB", "U0CAROL", "U0DAVE", "U0ERIN", "U0ADMIN")
        if any("Quick check-in" in m["text"] for m in slack.messages(u))
    ]
    assert len(invited) == 6  # everyone once, none twice
    assert all(len(slack.messages(u)) == 1 for u in invited)

    run_id = int(
        next(
            e
            for b in slack.messages("U0ALICE")[0]["blocks"]
            if b["type"] == "actions"
            for e in b["elements"]
            if e["action_id"] == "survey-answer"
        )["value"]
    )
    await sender.block_action("survey-answer", value=str(run_id))
    await running.settle()
    [modal] = slack.views()  # opened at once as "Loading…", then filled
    assert modal["callback_id"] == "survey-answer-modal"

    missing = await sender.view_submission(
        "survey-answer-modal",
        {"useful": {"useful": {}}},
        private_metadata=f'{{"run_id": {run_id}}}',
    )
    assert set(missing.json()["errors"]) == {"useful", "recommend"}
    for user, useful, score in (
        ("U0ALICE", 2, 3),
        ("U0BOB", 4, 9),
        ("U0CAROL", 5, 10),
        ("U0DAVE", 4, 8),
        ("U0ERIN", 3, 9),
    ):
        ok = await sender.view_submission(
            "survey-answer-modal",
            answer_values(useful, score, "ok"),
            user_id=user,
            private_metadata=f'{{"run_id": {run_id}}}',
        )
        assert ok.json()["response_action"] == "update"
    changed = await sender.view_submission(
        "survey-answer-modal",
        answer_values(5, 10),
        user_id="U0ALICE",
        private_metadata=f'{{"run_id": {run_id}}}',
    )
    assert "updated" in message_text(changed.json()["view"])

    stored = await responses(running)
    assert len(stored) == 5  # Alice changed hers: still one response
    assert all(r.user_id is None for r in stored)  # anonymous: no Slack ID kept
    assert all(len(r.respondent_key) == 64 for r in stored)

    async def results_text() -> str:
        results = await sender.command("/ai-coe", "survey results check-in", user_id="U0ADMIN")
        await running.settle()
        return message_text(slack.responses_for(results.response_url or "")[0].body)

    text = await results_text()  # while open: participation only
    assert "5 of 6 reached (83%)" in text
    assert "Results are withheld" in text
    assert "NPS" not in text

    keys_while_open = {r.respondent_key for r in await responses(running)}
    clock.advance(days=8)
    await survey_jobs.tick(running.deps)
    text = await results_text()
    assert "5 of 6 reached (83%)" in text
    assert "NPS *+80*" in text  # 4 promoters (10, 9, 10, 9), 1 passive (8), no detractor
    assert "Average *4.20*" in text
    assert "written answers hidden" in text  # 5 texts is below the 10 needed

    sealed = await responses(running)  # nobody, the operator included, can re-link now
    assert len(sealed) == 5
    assert not {r.respondent_key for r in sealed} & keys_while_open
    key = running.deps.settings.survey_key()
    assert not {surveys.respondent_key(key, run_id, u) for u in invited} & {
        r.respondent_key for r in sealed
    }
    assert {r.updated_at for r in sealed} == {dt.datetime(2026, 11, 2, tzinfo=dt.UTC)}
    async with running.deps.sessions() as session:
        marks = (await session.exec(select(SurveyRecipient.status))).all()
    assert "answered" not in marks

    late = await sender.view_submission(
        "survey-answer-modal",
        answer_values(1, 0),
        user_id="U0ERIN",
        private_metadata=f'{{"run_id": {run_id}}}',
    )
    assert "closed" in str(late.json()["errors"])
    assert [e.action for e in await audit_events(running, "survey.close")] == ["survey.close"]


async def test_reminder_goes_once_to_non_respondents(
    sender: SlackSender, running: RunningApp, slack: FakeSlack, clock: Clock
) -> None:
    await load(running)
    await survey_jobs.send_survey(running.deps, "check-in", actor="U0ADMIN")
    await deliver(running)
    [run] = await _runs(running)
    await sender.view_submission(
        "survey-answer-modal",
        answer_values(4, 9),
        user_id="U0BOB",
        private_metadata=f'{{"run_id": {run.id}}}',
    )
    clock.advance(days=3, minutes=1)
    await survey_jobs.tick(running.deps)
    await survey_jobs.tick(running.deps)
    await deliver(running)
    reminded = [
        u
        for u in ("U0ALICE", "U0BOB", "U0CAROL", "U0DAVE", "U0ERIN", "U0ADMIN")
        if any("A reminder" in m["text"] for m in slack.messages(u))
    ]
    assert sorted(reminded) == ["U0ADMIN", "U0ALICE", "U0CAROL", "U0DAVE", "U0ERIN"]
    assert all(sum("A reminder" in m["text"] for m in slack.messages(u)) == 1 for u in reminded)


async def _runs(app: RunningApp) -> list[SurveyRun]:
    async with app.deps.sessions() as session:
        return list((await session.exec(select(SurveyRun))).all())


async def test_audiences_and_opt_out(
    sender: SlackSender, running: RunningApp, slack: FakeSlack
) -> None:
    await load(
        running,
        SMALL.replace(
            "users: [U0ALICE, U0BOB, U0CAROL, U0DAVE, U0ERIN, U0ADMIN]", "channel: C0COE"
        ),
    )
    await survey_jobs.send_survey(running.deps, "check-in", actor="U0ADMIN")
    assert sorted(r.user_id for r in await recipients(running)) == ["U0ADMIN", "U0ALICE"]

    url = slack.new_response_url()
    await sender.block_action("survey-stop", value="1", user_id="U0ALICE", response_url=url)
    await running.settle()
    assert "won't be asked" in message_text(slack.responses_for(url)[0].body)
    await load(
        running,
        SMALL.replace("id: check-in", "id: second").replace(
            "users: [U0ALICE, U0BOB, U0CAROL, U0DAVE, U0ERIN, U0ADMIN]", "usergroup: S0COE"
        ),
    )
    run = await survey_jobs.send_survey(running.deps, "second", actor="U0ADMIN")
    assert run is not None
    assert run.audience_size == 1  # the S0COE group is just the admin

    await load(
        running,
        SMALL.replace("id: check-in", "id: empty").replace(
            "users: [U0ALICE, U0BOB, U0CAROL, U0DAVE, U0ERIN, U0ADMIN]", "users: [U0ALICE]"
        ),
    )
    refused, _ = await send_in_slack(sender, running, slack, "survey send empty")
    assert "nobody to ask" in refused


async def test_a_schedule_fires_once_per_period(
    running: RunningApp, slack: FakeSlack, clock: Clock
) -> None:
    await load(running, SMALL + "schedule:\n  cron: '0 10 * * 1'\n  timezone: Europe/Paris\n")
    clock.now = dt.datetime(2026, 11, 2, 8, 59, tzinfo=dt.UTC)  # Monday 09:59 in Paris
    assert await survey_jobs.run_schedules(running.deps) == []
    clock.advance(minutes=2)
    [first] = await survey_jobs.run_schedules(running.deps)
    clock.advance(minutes=1)
    assert await survey_jobs.run_schedules(running.deps) == []  # same period
    clock.advance(days=7)
    assert len(await survey_jobs.run_schedules(running.deps)) == 1
    assert first


async def test_group_size_hides_scores_of_small_groups(running: RunningApp) -> None:
    from bot.services import survey_results
    from bot.services.survey_definitions import parse_definition as parse

    definition = parse(SMALL, source="t")
    answers = [("payments", {"useful": 4, "recommend": 9})] * 6 + [
        ("search", {"useful": 1, "recommend": 0})
    ] * 2
    results = survey_results.compute(definition, answers, audience=10, min_group=5, min_text=10)
    assert "search" not in results.by_team
    assert "payments" not in results.by_team  # else search = total - payments
    assert results.hidden_teams == 2
    few = survey_results.compute(definition, answers[:3], audience=10, min_group=5, min_text=10)
    assert all(q.mean is None for q in few.questions)


async def test_a_crash_after_sending_is_settled_from_the_dm_history(
    running: RunningApp, slack: FakeSlack, clock: Clock
) -> None:
    from bot.jobs.survey_delivery import EVENT_TYPE, claim

    await load(running)
    await survey_jobs.send_survey(running.deps, "check-in", actor="U0ADMIN")
    taken = await claim(running.deps, reminders=False)  # a worker claims everyone ...
    assert len(taken) == 6
    first, _ = taken[0]
    await running.deps.client.chat_postMessage(  # ... sends to the first, then dies
        channel=first.user_id,
        text="Quick check-in",
        metadata={"event_type": EVENT_TYPE, "event_payload": {"recipient": first.id}},
    )
    assert await deliver(running) == 0  # the dead worker's lease still holds
    clock.advance(seconds=running.deps.settings.survey_lease_seconds + 1)
    assert await deliver(running) == 6
    for user in ("U0ALICE", "U0BOB", "U0CAROL", "U0DAVE", "U0ERIN", "U0ADMIN"):
        assert len(slack.messages(user)) == 1, user  # nobody twice, nobody missed
    rows = await recipients(running)
    assert {r.status for r in rows} == {"sent"}


async def test_delivery_waits_for_each_persons_local_hour(
    running: RunningApp, slack: FakeSlack, clock: Clock
) -> None:
    await load(
        running,
        SMALL.replace(
            "users: [U0ALICE, U0BOB, U0CAROL, U0DAVE, U0ERIN, U0ADMIN]", "users: [U0ALICE]"
        )
        + "schedule:\n  cron: '0 6 * * 1'\n  local_hour: 10\n",
    )
    slack.workspace.users["U0ALICE"].tz = "America/New_York"
    clock.now = dt.datetime(2026, 11, 2, 6, 0, tzinfo=dt.UTC)  # 01:00 in New York
    await survey_jobs.send_survey(running.deps, "check-in", actor="U0ADMIN")
    assert await deliver(running) == 0
    [row] = await recipients(running)
    assert row.next_attempt_at == dt.datetime(2026, 11, 2, 15, 0, tzinfo=dt.UTC)  # 10:00 there
    status = message_text(await status_message(running.deps, "check-in"))
    assert (
        "• waiting: 1 (1 waiting for the survey's hour, their time; next at 2026-11-02 15:00 UTC)"
    ) in status
    clock.now = dt.datetime(2026, 11, 2, 15, 0, 30, tzinfo=dt.UTC)
    assert await deliver(running) == 1
    assert len(slack.messages("U0ALICE")) == 1


async def test_survey_new_modal_saves_a_definition(
    sender: SlackSender, running: RunningApp, slack: FakeSlack
) -> None:
    await sender.command("/ai-coe", "survey new", user_id="U0BOB")
    await running.settle()
    [refused] = slack.views()  # the modal opens at once; the check's answer is in it
    assert "CoE admins only" in message_text(refused)
    assert not refused.get("submit")
    await sender.command("/ai-coe", "survey new", user_id="U0ADMIN")
    await running.settle()
    opened = slack.views()[-1]
    assert opened["callback_id"] == "survey-new-modal"

    def values(questions: str, audience: str = "users U0ALICE U0BOB") -> dict[str, Any]:
        text = {
            "id": "tooling",
            "title": "Tooling feedback",
            "intro": "Two minutes.",
            "audience": audience,
            "window": "5",
            "questions": questions,
        }
        state = {k: {k: {"type": "plain_text_input", "value": v}} for k, v in text.items()}
        state["anonymous"] = {"anonymous": {"type": "checkboxes", "selected_options": []}}
        return state

    bad = await sender.view_submission(
        "survey-new-modal", values("stars: How good?"), user_id="U0ADMIN"
    )
    assert "questions" in bad.json()["errors"]
    bad_audience = await sender.view_submission(
        "survey-new-modal", values("likert: How useful?", audience="everyone"), user_id="U0ADMIN"
    )
    assert "audience" in bad_audience.json()["errors"]
    ok = await sender.view_submission(
        "survey-new-modal",
        values(
            "likert: How useful?\nsingle: Which tool? | Copilot | Cursor\ntext: Why? (optional)"
        ),
        user_id="U0ADMIN",
    )
    assert ok.json()["response_action"] == "update"
    async with running.deps.sessions() as session:
        definition = await surveys.get_definition(session=session, survey_id="tooling")
    assert [q.type.value for q in definition.questions] == ["likert", "single", "text"]
    assert definition.questions[2].required is False


async def test_team_and_recent_users_audiences_and_named_answers(
    sender: SlackSender, running: RunningApp, slack: FakeSlack, clock: Clock
) -> None:
    from bot.services import teams

    async with running.deps.sessions.begin() as session:
        payments = await teams.get_or_create(session=session, name="payments", now=clock())
        for user in ("U0ALICE", "U0BOB"):
            await teams.set_member(session=session, user_id=user, team=payments, now=clock())
    await load(
        running,
        SMALL.replace("id: check-in", "id: team-survey")
        .replace("users: [U0ALICE, U0BOB, U0CAROL, U0DAVE, U0ERIN, U0ADMIN]", "team: payments")
        .replace("anonymous: true", "anonymous: false"),
    )
    run = await survey_jobs.send_survey(running.deps, "team-survey", actor="U0ADMIN")
    assert run is not None
    assert sorted(r.user_id for r in await recipients(running)) == ["U0ALICE", "U0BOB"]
    await sender.view_submission(
        "survey-answer-modal",
        answer_values(4, 9),
        user_id="U0BOB",
        private_metadata=f'{{"run_id": {run.id}}}',
    )
    [named] = await responses(running)
    assert named.user_id == "U0BOB"  # a named survey keeps who answered
    assert named.team == "payments"

    await sender.command("/ai-policy", "copilot", user_id="U0CAROL")  # recent bot users
    await running.settle()
    await load(
        running,
        SMALL.replace("id: check-in", "id: recent").replace(
            "users: [U0ALICE, U0BOB, U0CAROL, U0DAVE, U0ERIN, U0ADMIN]", "active_days: 30"
        ),
    )
    recent = await survey_jobs.send_survey(running.deps, "recent", actor="U0ADMIN")
    assert recent is not None
    assert recent.audience_size == 1


@pytest.mark.parametrize(
    "why",
    [
        "fine\x00",
        "\x00",
        "tab\there is fine but \x1b[31m is not",
        "bell\x07",
        "c1\x85in the middle",
        "cr\ralone",
    ],
    ids=["nul-at-end", "nul-alone", "escape", "bell", "c1-control", "lone-cr"],
)
async def test_control_characters_in_a_written_answer_are_refused_on_the_field(
    sender: SlackSender, running: RunningApp, why: str
) -> None:
    await load(running)
    await survey_jobs.send_survey(running.deps, "check-in", actor="U0ADMIN")
    async with running.deps.sessions() as session:
        [run] = (await session.exec(select(SurveyRun))).all()

    sent = await sender.view_submission(
        "survey-answer-modal",
        answer_values(4, 9, why),
        private_metadata=f'{{"run_id": {run.id}}}',
    )

    assert sent.status == 200
    assert sent.json() == {
        "response_action": "errors",
        "errors": {"why": "Your answer contains control characters; please retype it."},
    }
    assert await responses(running) == []  # nothing stored


async def test_a_written_answer_with_windows_newlines_and_tabs_is_kept(
    sender: SlackSender, running: RunningApp
) -> None:
    await load(running)
    await survey_jobs.send_survey(running.deps, "check-in", actor="U0ADMIN")
    async with running.deps.sessions() as session:
        [run] = (await session.exec(select(SurveyRun))).all()
    sent = await sender.view_submission(
        "survey-answer-modal",
        answer_values(4, 9, "line one\r\nline two\twith a tab"),
        private_metadata=f'{{"run_id": {run.id}}}',
    )
    assert sent.json()["response_action"] == "update"
    [stored] = await responses(running)
    assert stored.answers["why"] == "line one\r\nline two\twith a tab"


def test_control_characters_in_a_definition_are_refused_at_their_line() -> None:
    broken = SMALL.replace("title: Quick check-in", 'title: "Quick \\0 check-in"')
    with pytest.raises(DefinitionError) as caught:
        parse_definition(broken, source="c.yaml")
    assert any("title: contains control characters" in str(i) for i in caught.value.issues)


async def test_a_run_queued_from_the_command_line_is_started_by_the_server(
    running: RunningApp, slack: FakeSlack, clock: Clock
) -> None:
    from bot.services.survey_definitions import Audience

    await load(running)
    async with running.deps.sessions.begin() as session:
        definition = await surveys.get_definition(session=session, survey_id="check-in")
        queued = await surveys.request_run(
            session=session, definition=definition, requested_by="cli", now=clock()
        )
        ghost = await surveys.request_run(
            session=session,
            definition=definition.model_copy(update={"audience": Audience(usergroup="S0GONE")}),
            requested_by="cli",
            now=clock() + dt.timedelta(seconds=1),
        )
    assert await recipients(running) == []  # the command line asks nobody itself
    started = await survey_jobs.run_schedules(running.deps)
    assert started == [queued.id]
    assert await survey_jobs.run_schedules(running.deps) == []  # each request starts once
    async with running.deps.sessions() as session:
        runs = {r.id: r for r in (await session.exec(select(SurveyRun))).all()}
    assert runs[queued.id].status == "open"
    assert runs[queued.id].audience_size == 6
    assert runs[ghost.id].status == "cancelled"
    assert len(await recipients(running)) == 6
    await deliver(running)
    assert len(slack.messages("U0BOB")) == 1
    [cancelled] = await audit_events(running, "survey.request_cancelled")
    assert "S0GONE" in cancelled.details["reason"]
    await running.settle()
    from bot.jobs.outbox import send_due

    while await send_due(running.deps):
        pass
    [told] = [m["text"] for m in slack.messages("C0COE") if f"Run #{ghost.id}" in m["text"]]
    assert "was not started: Slack doesn't know the user group S0GONE" in told


BIG = """
id: big
title: Long answers
intro: Three free-text questions.
anonymous: false
audience:
  users: [U0ALICE]
window_days: 7
reminder_after_days: 3
questions:
  - id: useful
    type: likert
    text: How useful are AI tools for you?
  - id: best
    type: text
    text: What works best?
  - id: worst
    type: text
    text: What gets in the way?
  - id: wish
    type: text
    text: What should the CoE do next?
"""


async def test_results_that_outgrow_a_message_are_summarised_and_always_answered(
    sender: SlackSender, running: RunningApp, slack: FakeSlack, clock: Clock
) -> None:
    """A named survey, 3 text questions, 20 respondents writing at length: the reply fits
    Slack's limits and says where the rest is, instead of being refused."""
    await load(running, BIG)
    long = "It depends on the codebase and how well the tests cover it. " * 5
    async with running.deps.sessions.begin() as session:
        definition = await surveys.get_definition(session=session, survey_id="big")
        people = [f"U0R{i:03d}" for i in range(20)]
        run = await surveys.start_run(
            session=session,
            definition=definition,
            period="p1",
            audience=people,
            started_by="U0ADMIN",
            now=clock(),
        )
        assert run is not None
        assert run.id is not None
        for i, user in enumerate(people):
            await surveys.submit(
                session=session,
                run_id=run.id,
                user_id=user,
                answers={
                    "useful": 4,
                    "best": f"{i}: {long}",
                    "worst": f"{i}: {long}",
                    "wish": f"{i}: {long}",
                },
                team="payments",
                secret=b"k" * 32,
                now=clock(),
            )
    clock.advance(days=8)
    await survey_jobs.tick(running.deps)
    asked = await sender.command("/ai-coe", "survey results big", user_id="U0ADMIN")
    await running.settle()
    [reply] = slack.responses_for(asked.response_url or "")  # accepted by Slack
    body = reply.body
    assert len(body["blocks"]) <= 50
    assert "coe-bot export survey big" in message_text(body)
    assert "more lines" in message_text(body)
    assert "What works best?" in message_text(body)

    slack.fail("response_url", error="msg_blocks_too_long", status=400)  # refused anyway
    again = await sender.command("/ai-coe", "survey results big", user_id="U0ADMIN")
    await running.settle()
    [told] = slack.responses_for(again.response_url or "")  # the accepted one
    assert "too long for a Slack message" in told.body["text"]
    assert "coe-bot export survey big" in told.body["text"]


async def test_the_survey_list_pages_every_survey(
    sender: SlackSender, running: RunningApp, slack: FakeSlack
) -> None:
    from tests.helpers import assert_valid_message

    for n in range(55):
        await load(running, SMALL.replace("id: check-in", f"id: pulse-{n:02d}"))
    sent = await sender.command("/ai-coe", "survey list", user_id="U0ADMIN")
    await running.settle()
    first = slack.responses_for(sent.response_url or "")[-1].body
    assert_valid_message(first)
    text = message_text(first)
    assert "*Surveys* (55)" in text
    assert "no schedule · never sent" in text  # no code formatting for the absence of one
    shown = text.count("pulse-")
    [following] = [
        e
        for b in first["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "survey-list-page"
    ]
    url = slack.new_response_url()
    await sender.block_action(
        "survey-list-page", value=following["value"], user_id="U0ADMIN", response_url=url
    )
    await running.settle()
    second = slack.responses_for(url)[-1].body
    assert shown + message_text(second).count("pulse-") == 55
