"""Who a survey asks, and who it counts: deactivated accounts, bots and guests are left out
of the audience; a recipient whose account is deactivated before the DM goes is not sent
one (real Slack would accept it, and it would go nowhere); the response rate's denominator
is the people reached, and results say who could not be reached."""

from __future__ import annotations

from sqlmodel import select

from bot.jobs import surveys as survey_jobs
from bot.jobs.people import sync_directory
from bot.models import AuditEvent, SurveyRun
from bot.standin import FakeSlack, SlackSender
from tests.conftest import Clock, RunningApp
from tests.helpers import message_text, send_in_slack
from tests.test_surveys import SMALL, answer_values, deliver, load, recipients

EVERYONE = "users: [U0ALICE, U0BOB, U0CAROL, U0DAVE, U0ERIN, U0ADMIN]"
WITH_OTHERS = "users: [U0ALICE, U0BOB, U0CAROL, U0DAVE, U0ERIN, U0ADMIN, U0GUEST, U0HELPER]"


def _others(slack: FakeSlack) -> None:
    slack.workspace.add_user("U0GUEST", "gus", real_name="Gus Guest", is_restricted=True)
    slack.workspace.add_user("U0HELPER", "deploy-bot", is_bot=True)


def _invited(slack: FakeSlack, user: str) -> bool:
    return any("Quick check-in" in m.get("text", "") for m in slack.messages(user))


async def _results(sender: SlackSender, running: RunningApp, slack: FakeSlack) -> str:
    asked = await sender.command("/ai-coe", "survey results check-in", user_id="U0ADMIN")
    await running.settle()
    return message_text(slack.responses_for(asked.response_url or "")[0].body)


async def test_deactivated_accounts_bots_and_guests_are_left_out_of_the_audience(
    sender: SlackSender, running: RunningApp, slack: FakeSlack
) -> None:
    _others(slack)
    slack.deactivate_user("U0DAVE")
    assert await sync_directory(running.deps, force=True) is not None
    await load(running, SMALL.replace(EVERYONE, WITH_OTHERS))
    asked, reply = await send_in_slack(sender, running, slack, "survey send check-in")
    assert "Send *Quick check-in* to 5 people (8 people listed)?" in asked
    assert "3 left out: 1 deactivated, 1 bot, 1 guest" in asked
    assert "started (run #1): 5 people to ask" in reply
    assert "3 left out: 1 deactivated, 1 bot, 1 guest" in reply
    asked = sorted(r.user_id for r in await recipients(running) if r.status == "pending")
    assert asked == ["U0ADMIN", "U0ALICE", "U0BOB", "U0CAROL", "U0ERIN"]
    async with running.deps.sessions() as session:
        [run] = (await session.exec(select(SurveyRun))).all()
        [audit] = (
            await session.exec(select(AuditEvent).where(AuditEvent.action == "survey.send"))
        ).all()
    assert run.audience_size == 5
    left = {r.user_id: r.last_error for r in await recipients(running) if r.status == "left_out"}
    assert left == {"U0DAVE": "deactivated", "U0GUEST": "guest", "U0HELPER": "bot"}
    assert audit.details["left_out"] == {"deactivated": 1, "bot": 1, "guest": 1}
    await deliver(running)
    assert not any(_invited(slack, u) for u in ("U0DAVE", "U0GUEST", "U0HELPER"))
    assert all(_invited(slack, u) for u in asked)


async def test_guests_are_asked_when_the_coe_says_so(running: RunningApp, slack: FakeSlack) -> None:
    _others(slack)
    running.deps.settings.survey_include_guests = True
    await sync_directory(running.deps, force=True)
    await load(running, SMALL.replace(EVERYONE, WITH_OTHERS))
    run = await survey_jobs.send_survey(running.deps, "check-in", actor="U0ADMIN")
    assert run is not None
    assert run.audience_size == 7
    left = {r.user_id: r.last_error for r in await recipients(running) if r.status == "left_out"}
    assert left == {"U0HELPER": "bot"}
    assert "U0GUEST" in {r.user_id for r in await recipients(running) if r.status == "pending"}


async def test_an_unknown_person_is_looked_up_before_being_asked(
    running: RunningApp, slack: FakeSlack
) -> None:
    """Nobody synced the directory: `users.info` tells who the audience's strangers are."""
    _others(slack)
    slack.deactivate_user("U0DAVE")
    await load(running, SMALL.replace(EVERYONE, WITH_OTHERS))
    run = await survey_jobs.send_survey(running.deps, "check-in", actor="U0ADMIN")
    assert run is not None
    left = {r.user_id: r.last_error for r in await recipients(running) if r.status == "left_out"}
    assert left == {"U0DAVE": "deactivated", "U0GUEST": "guest", "U0HELPER": "bot"}
    looked_up = {c.args.get("user") for c in slack.calls_to("users.info")}
    assert {"U0DAVE", "U0GUEST", "U0HELPER"} <= looked_up
    calls = len(slack.calls_to("users.info"))
    await load(running, SMALL.replace(EVERYONE, WITH_OTHERS).replace("check-in", "again"))
    await survey_jobs.send_survey(running.deps, "again", actor="U0ADMIN")
    assert len(slack.calls_to("users.info")) == calls  # known now: not asked again


async def test_a_recipient_deactivated_before_delivery_is_not_counted(
    sender: SlackSender, running: RunningApp, slack: FakeSlack, clock: Clock
) -> None:
    await load(running)
    await sync_directory(running.deps, force=True)
    run = await survey_jobs.send_survey(running.deps, "check-in", actor="U0ADMIN")
    assert run is not None
    assert run.audience_size == 6
    # Erin leaves before her DM goes: real Slack would take the DM with `ok: true`.
    assert (await sender.event(slack.deactivate_user("U0ERIN"))).status == 200
    assert await deliver(running) == 5
    assert not _invited(slack, "U0ERIN")
    erin = next(r for r in await recipients(running) if r.user_id == "U0ERIN")
    assert (erin.status, erin.last_error) == ("failed", "deactivated")
    for user in ("U0ALICE", "U0BOB"):
        await sender.view_submission(
            "survey-answer-modal",
            answer_values(4, 9),
            user_id=user,
            private_metadata=f'{{"run_id": {run.id}}}',
        )
    text = await _results(sender, running, slack)
    assert "2 of 5 reached (40%)" in text
    assert "6 asked: 1 could not be reached (1 deactivated)" in text


async def test_results_while_delivery_is_under_way_count_only_those_reached(
    sender: SlackSender, running: RunningApp, slack: FakeSlack
) -> None:
    await load(running)
    await survey_jobs.send_survey(running.deps, "check-in", actor="U0ADMIN")
    slack.fail("chat.postMessage", error="user_not_found", times=1)
    slack.fail("chat.postMessage", status=503, times=1)
    await deliver(running)
    text = await _results(sender, running, slack)
    assert "0 of 4 reached (0%)" in text
    assert (
        "6 asked: 1 could not be reached (1 not in this workspace), 1 not yet delivered (next at "
    ) in text
    asked = await sender.command("/ai-coe", "survey status check-in", user_id="U0ADMIN")
    await running.settle()
    status = message_text(slack.responses_for(asked.response_url or "")[0].body)
    assert "*Quick check-in*, run #1 (open, closes " in status
    assert "6 people asked" in status
    assert "• sent: 4" in status
    assert "• waiting: 1 (next at " in status
    assert "• could not be reached: 1 (1 not in this workspace)" in status


async def test_the_invitation_title_is_escaped_in_the_notification_text_too(
    running: RunningApp, slack: FakeSlack
) -> None:
    await load(running, SMALL.replace("title: Quick check-in", 'title: "<!channel> check-in"'))
    assert await survey_jobs.send_survey(running.deps, "check-in", actor="U0ADMIN") is not None
    await deliver(running)
    [invitation] = slack.messages("U0ALICE")
    assert invitation["text"] == "&lt;!channel&gt; check-in"  # Slack notifies with `text`
    assert "<!channel>" not in message_text(invitation)


async def _admin(sender: SlackSender, running: RunningApp, slack: FakeSlack, text: str) -> str:
    asked, done = await send_in_slack(sender, running, slack, text)
    return done or asked


async def test_the_audience_is_chosen_when_sending_and_a_bad_one_is_named(
    sender: SlackSender, running: RunningApp, slack: FakeSlack, clock: Clock
) -> None:
    from bot.services import teams
    from tests.test_surveys import SMALL

    await load(running, SMALL.replace(f"audience:\n  {EVERYONE}\n", ""))
    none = await _admin(sender, running, slack, "survey send check-in")
    assert "has no audience: say who, like `/ai-coe survey send check-in to team all`" in none
    empty = await _admin(sender, running, slack, "survey send check-in to all")
    assert "The roster is empty" in empty
    ghost = await _admin(sender, running, slack, "survey send check-in to <!subteam^S0PILOT>")
    assert "Slack doesn't know the user group S0PILOT (`no_such_subteam`)" in ghost
    odd = await _admin(sender, running, slack, "survey send check-in to everyone please")
    assert "is not an audience" in odd
    assert await recipients(running) == []  # nothing was sent, four times

    async with running.deps.sessions.begin() as session:
        now = running.deps.clock()
        for user, name in (("U0BOB", "payments"), ("U0CAROL", "search"), ("U0DAVE", "search")):
            team = await teams.get_or_create(session=session, name=name, now=now)
            await teams.set_member(session=session, user_id=user, team=team, now=now)
    roster = await _admin(sender, running, slack, "survey send check-in to all")
    assert "3 people to ask" in roster
    clock.advance(minutes=1)
    search = await _admin(sender, running, slack, "survey send check-in to team search")
    assert "2 people to ask" in search
    clock.advance(minutes=1)
    channel = await _admin(sender, running, slack, "survey send check-in to <#C0COE|ai-coe>")
    assert "2 people to ask" in channel  # U0ADMIN and U0ALICE; the bot is not asked
    asked = {(r.run_id, r.user_id) for r in await recipients(running)}
    assert len(asked) == 7


def test_the_shipped_pilot_check_in_has_no_placeholder_audience() -> None:
    from bot.services.survey_definitions import load_definition, templates_dir

    pilot = load_definition(templates_dir() / "pilot-check-in.yaml")
    assert pilot.audience is None
    assert "S0PILOT" not in (templates_dir() / "pilot-check-in.yaml").read_text()
    pulse = load_definition(templates_dir() / "monthly-pulse.yaml")
    assert pulse.audience is not None
    assert pulse.audience.team == "all"


async def test_nothing_is_sent_until_an_admin_presses_send(
    sender: SlackSender, running: RunningApp, slack: FakeSlack
) -> None:
    await load(running)
    sent = await sender.command("/ai-coe", "survey send check-in to all", user_id="U0ADMIN")
    await running.settle()
    assert "The roster is empty" in message_text(
        slack.responses_for(sent.response_url or "")[0].body
    )
    sent = await sender.command("/ai-coe", "survey send check-in", user_id="U0ADMIN")
    await running.settle()
    [confirm] = slack.responses_for(sent.response_url or "")
    assert "Send *Quick check-in* to 6 people (6 people listed)?" in message_text(confirm.body)
    assert await recipients(running) == []
    [buttons] = [b for b in confirm.body["blocks"] if b["type"] == "actions"]
    send, cancel = buttons["elements"]

    intruder = slack.new_response_url()
    await sender.block_action(
        send["action_id"], value=send["value"], user_id="U0BOB", response_url=intruder
    )
    await running.settle()
    assert "CoE admins only" in message_text(slack.responses_for(intruder)[-1].body)
    cancelled = slack.new_response_url()
    await sender.block_action(
        cancel["action_id"], value=cancel["value"], user_id="U0ADMIN", response_url=cancelled
    )
    await running.settle()
    assert "Nothing was sent." in message_text(slack.responses_for(cancelled)[-1].body)
    assert await recipients(running) == []

    pressed = slack.new_response_url()
    await sender.block_action(
        send["action_id"], value=send["value"], user_id="U0ADMIN", response_url=pressed
    )
    await running.settle()
    assert "started (run #1): 6 people to ask" in message_text(
        slack.responses_for(pressed)[-1].body
    )
    assert len(await recipients(running)) == 6
