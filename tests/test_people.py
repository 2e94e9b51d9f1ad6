"""The people directory and leavers, as real Slack behaves: a deactivated account still
takes DMs without an error, so the bot learns of leavers from `user_change` events, the
`users.list` sync and `users.info`, never from a failed DM alone; and a dead bot token
is not a person leaving."""

from __future__ import annotations

import aiohttp
from sqlmodel import col, select

from bot.jobs.outbox import send_due
from bot.jobs.people import recheck, sync_directory
from bot.models import AuditEvent, Champion, OutboxMessage, Person, QuestionAssignment
from bot.services import champions, teams
from bot.standin import FakeSlack, SlackSender
from tests.conftest import Clock, RunningApp
from tests.helpers import message_text
from tests.test_questions import QUESTION, deliver, question, seed


async def _champion(app: RunningApp, user_id: str) -> Champion:
    async with app.deps.sessions() as session:
        found = await session.get(Champion, user_id)
    assert found is not None
    return found


async def _coe_notices(app: RunningApp) -> list[OutboxMessage]:
    async with app.deps.sessions() as session:
        rows = await session.exec(
            select(OutboxMessage).where(col(OutboxMessage.kind) == "coe-notice")
        )
        return list(rows.all())


def _dm_texts(slack: FakeSlack, user: str) -> list[str]:
    return [m.get("text", "") for m in slack.messages(user)]


async def test_a_deactivated_champion_never_receives_a_new_question(
    sender: SlackSender, running: RunningApp, slack: FakeSlack
) -> None:
    await seed(running, slack)
    event = slack.deactivate_user("U0BOB")
    assert (await sender.event(event)).status == 200
    await sender.command("/ask-champion", QUESTION)
    await deliver(running)
    asked = await question(running)
    assert asked.champion_id == "U0CAROL"  # first routing: Bob was never tried
    async with running.deps.sessions() as session:
        tried = (await session.exec(select(QuestionAssignment.champion_id))).all()
    assert tried == ["U0CAROL"]
    assert _dm_texts(slack, "U0BOB") == []
    assert not (await _champion(running, "U0BOB")).active
    async with running.deps.sessions() as session:
        audit = (
            await session.exec(
                select(AuditEvent).where(col(AuditEvent.action) == "champion.retired")
            )
        ).all()
    assert [(a.actor, a.subject) for a in audit] == [("slack", "U0BOB")]
    notices = await _coe_notices(running)
    assert [n.channel for n in notices] == ["C0COE"]
    assert "<@U0BOB>'s Slack account was deactivated" in notices[0].text
    assert [m["text"] for m in slack.messages("C0COE")] == [notices[0].text]


async def test_the_same_user_change_twice_tells_the_coe_once(
    sender: SlackSender, running: RunningApp, slack: FakeSlack
) -> None:
    await seed(running, slack)
    event = slack.deactivate_user("U0BOB")
    await sender.event(event)
    await sender.event(event)  # Slack's retry, or a second replica's delivery
    await sender.event(event, event_id="Ev0ANOTHER")
    await deliver(running)
    assert len(await _coe_notices(running)) == 1
    assert len(slack.messages("C0COE")) == 1


async def test_a_champion_deactivated_mid_question_is_rerouted_at_once(
    sender: SlackSender, running: RunningApp, slack: FakeSlack, clock: Clock
) -> None:
    await seed(running, slack)
    await sender.command("/ask-champion", QUESTION)
    await deliver(running)
    assert (await question(running)).champion_id == "U0BOB"
    clock.advance(minutes=5)
    await sender.event(slack.deactivate_user("U0BOB"))
    await deliver(running)  # no sweep, no deadline: the event itself moved it
    moved = await question(running)
    assert moved.champion_id == "U0CAROL"
    assert _dm_texts(slack, "U0CAROL") == ["A question from <@U0ALICE>"]
    async with running.deps.sessions() as session:
        outcomes = (
            await session.exec(
                select(QuestionAssignment.champion_id, QuestionAssignment.outcome).order_by(
                    col(QuestionAssignment.id)
                )
            )
        ).all()
    assert list(outcomes) == [("U0BOB", "left"), ("U0CAROL", None)]
    notices = await _coe_notices(running)
    assert len(notices) == 1
    assert "their open question was routed again" in notices[0].text


async def test_status_changes_write_nothing_and_a_reactivated_champion_stays_retired(
    sender: SlackSender, running: RunningApp, slack: FakeSlack
) -> None:
    await seed(running, slack)
    await sender.event(slack.user_change_event("U0BOB"))
    async with running.deps.sessions() as session:
        before = await session.get(Person, "U0BOB")
    assert before is not None
    assert before.reachable
    # a status emoji: Slack sends user_change with nothing the directory keeps
    await sender.event(slack.user_change_event("U0BOB"))
    async with running.deps.sessions() as session:
        again = await session.get(Person, "U0BOB")
    assert again is not None
    assert again.synced_at == before.synced_at
    await sender.event(slack.deactivate_user("U0BOB"))
    await sender.event(slack.deactivate_user("U0BOB", deleted=False))
    async with running.deps.sessions() as session:
        back = await session.get(Person, "U0BOB")
    assert back is not None
    assert not back.deleted
    assert not (await _champion(running, "U0BOB")).active  # a CoE admin re-adds them
    await sender.command("/ask-champion", QUESTION)
    await deliver(running)
    assert (await question(running)).champion_id == "U0CAROL"


async def test_an_older_copy_of_a_person_never_overwrites_a_newer_one(
    sender: SlackSender, running: RunningApp, slack: FakeSlack
) -> None:
    await seed(running, slack)
    stale = slack.user_change_event("U0BOB")
    await sender.event(slack.deactivate_user("U0BOB"))
    await sender.event(stale)  # delivered late, after the deactivation
    async with running.deps.sessions() as session:
        bob = await session.get(Person, "U0BOB")
    assert bob is not None
    assert bob.deleted


async def test_a_roster_row_for_a_deactivated_account_is_never_routed_to(
    sender: SlackSender, running: RunningApp, slack: FakeSlack
) -> None:
    await seed(running, slack)
    now = running.deps.clock()
    slack.add_user("U0HENRY", "henry", deleted=True)
    await sync_directory(running.deps)
    async with running.deps.sessions.begin() as session:  # imported after the sync
        payments = await teams.get_or_create(session=session, name="payments", now=now)
        await champions.upsert(
            session=session, user_id="U0HENRY", team=payments, topics=["python"], now=now
        )
    slack.deactivate_user("U0BOB")
    slack.deactivate_user("U0CAROL")
    await sync_directory(running.deps, force=True)
    await sender.command("/ask-champion", QUESTION)
    await deliver(running)
    # Bob and Carol were retired by the sync; Henry (deactivated) is never a candidate
    assert (await question(running)).champion_id == "U0DAVE"
    assert _dm_texts(slack, "U0HENRY") == []


async def test_the_directory_sync_reads_every_page_and_applies_only_a_whole_one(
    running: RunningApp, slack: FakeSlack
) -> None:
    await seed(running, slack)
    for n in range(450):
        slack.add_user(f"U1{n:05d}", f"person{n}")
    slack.add_user("U0GUEST", "guest", is_restricted=True)
    result = await sync_directory(running.deps)
    assert result is not None
    assert result["pages"] == 3
    limits = {c.args.get("limit") for c in slack.calls_to("users.list")}
    assert limits == {"200"}
    async with running.deps.sessions() as session:
        guest = await session.get(Person, "U0GUEST")
        count = len((await session.exec(select(Person.user_id))).all())
    assert guest is not None
    assert guest.is_guest
    assert count == result["people"]
    # within DIRECTORY_TTL_HOURS nothing is read again
    assert await sync_directory(running.deps) is None
    # cut short on the second page: nobody is changed, nobody retired
    slack.deactivate_user("U0BOB")
    slack.fail("users.list", status=500, times=3, after=1)
    assert await sync_directory(running.deps, force=True) is None
    assert (await _champion(running, "U0BOB")).active
    async with running.deps.sessions() as session:
        bob = await session.get(Person, "U0BOB")
    assert bob is not None
    assert not bob.deleted


async def test_a_failed_dm_is_a_hint_checked_with_users_info(
    running: RunningApp, slack: FakeSlack
) -> None:
    await seed(running, slack)
    # Bob still works here: a DM error alone changes nothing
    assert await recheck(running.deps, "U0BOB") is False
    assert (await _champion(running, "U0BOB")).active
    # users.info failing says nothing about him either
    slack.fail("users.info", status=500, times=5)
    slack.deactivate_user("U0BOB")
    assert await recheck(running.deps, "U0BOB") is False
    assert (await _champion(running, "U0BOB")).active
    slack.clear_faults()
    assert await recheck(running.deps, "U0BOB") is True
    assert not (await _champion(running, "U0BOB")).active


async def test_a_dead_bot_token_retires_nobody_and_is_reported_by_readyz(
    sender: SlackSender, running: RunningApp, slack: FakeSlack
) -> None:
    await seed(running, slack)
    await sender.command("/ask-champion", QUESTION)
    await running.settle()
    slack.kill_token("account_inactive")  # Slack: the *token's* user or workspace is gone
    while await send_due(running.deps):
        pass
    assert (await _champion(running, "U0BOB")).active
    assert (await question(running)).champion_id == "U0BOB"
    async with running.deps.sessions() as session:
        rows = (await session.exec(select(OutboxMessage))).all()
    assert rows
    assert {r.kind: r.status for r in rows} == {
        "question-champion-dm": "pending",  # waits for the token
        "question-asker-routed": "held",  # and the asker hears when Bob has it
    }
    assert [r.last_error for r in rows if r.status == "pending"] == ["account_inactive"]
    async with aiohttp.ClientSession() as http, http.get(f"{running.url}/readyz") as response:
        body = await response.json()
    assert response.status == 503
    assert "account_inactive" in body["detail"]
    slack.kill_token(None)
    assert await running.deps.token.probe(running.deps.sender)
    running.deps.clock.advance(minutes=2)  # type: ignore[attr-defined]
    while await send_due(running.deps):
        pass
    assert _dm_texts(slack, "U0BOB") == ["A question from <@U0ALICE>"]
    async with aiohttp.ClientSession() as http, http.get(f"{running.url}/readyz") as response:
        assert response.status == 200


async def test_a_local_roster_works_against_the_stand_in(
    running: RunningApp, slack: FakeSlack
) -> None:
    """`make run` + `coe-bot teams import` with your own IDs + one question: nobody is
    retired (the stand-in's open directory takes any well-formed user ID)."""
    slack.workspace.open_directory = True
    now = running.deps.clock()
    async with running.deps.sessions.begin() as session:
        team = await teams.get_or_create(session=session, name="platform", now=now)
        for user in ("U07ABCDEF12", "U07ZYXWVU98", "W0123ENTERPRISE"):
            await champions.upsert(session=session, user_id=user, team=team, topics=[], now=now)
        await teams.set_member(session=session, user_id="U07ASKER01", team=team, now=now)
    await sync_directory(running.deps)
    for user in ("U07ABCDEF12", "U07ZYXWVU98", "W0123ENTERPRISE"):
        assert await recheck(running.deps, user) is False
        assert (await _champion(running, user)).active
    assert slack.workspace.user("U07ABCDEF12").name == "u07abcdef12"
    assert slack.refused_calls("users.info") == []
    assert slack.refused_calls("users.list") == []


async def test_a_roster_row_for_a_deactivated_account_is_imported_flagged_and_never_routed(
    sender: SlackSender, running: RunningApp, slack: FakeSlack
) -> None:
    slack.deactivate_user("U0BOB")
    slack.workspace.add_user("U0HELPER", "deploy-bot", is_bot=True)
    await sync_directory(running.deps, force=True)
    rows = teams.read_csv(
        "user_id,team,is_champion,topics\n"
        "U0BOB,platform,true,python\n"
        "U0CAROL,platform,true,python\n"
        "U0HELPER,platform,false,\n"
        "U0NEWCOMER,platform,false,\n"
        "U0ALICE,platform,false,\n"
    )
    async with running.deps.sessions.begin() as session:
        report = await teams.import_rows(
            session=session, rows=rows, actor="cli", now=running.deps.clock()
        )
    assert report.problems == []
    assert report.members == 5
    assert report.champions == 2
    assert report.flagged == [
        "line 2: U0BOB is a deactivated Slack account: imported, never routed to",
        "line 4: U0HELPER is a bot: imported, never routed to",
    ]
    assert report.unknown == 1  # U0NEWCOMER: the directory has not heard of them yet
    await sender.command("/ask-champion", QUESTION, user_id="U0ALICE")
    await deliver(running)
    assert (await question(running)).champion_id == "U0CAROL"
    assert _dm_texts(slack, "U0BOB") == []


async def test_a_deactivated_account_or_a_bot_cannot_be_made_a_champion(
    sender: SlackSender, running: RunningApp, slack: FakeSlack
) -> None:
    slack.deactivate_user("U0BOB")
    slack.workspace.add_user("U0HELPER", "deploy-bot", is_bot=True)
    await sync_directory(running.deps, force=True)
    for user, what in (("U0BOB", "a deactivated Slack account"), ("U0HELPER", "a bot")):
        url = slack.new_response_url()
        await sender.command(
            "/ai-coe",
            f"champions add <@{user}> team=platform topics=python",
            user_id="U0ADMIN",
            response_url=url,
        )
        await running.settle()
        reply = message_text(slack.responses_for(url)[0].body)
        assert f"<@{user}> is {what}, so they cannot be a champion; nothing changed." in reply
    async with running.deps.sessions() as session:
        assert (await session.exec(select(Champion))).all() == []
        assert (
            await session.exec(select(AuditEvent).where(AuditEvent.action == "champion.add"))
        ).all() == []


async def test_a_champion_slack_does_not_know_is_named_so_and_the_asker_hears_only_the_truth(
    sender: SlackSender, running: RunningApp, slack: FakeSlack
) -> None:
    await seed(running, slack)
    slack.fail("chat.postMessage", error="user_not_found")  # Bob's DM: a mistyped roster ID
    slack.fail("users.info", error="user_not_found")
    await sender.command("/ask-champion", QUESTION)
    await deliver(running)
    assert (await question(running)).champion_id == "U0CAROL"
    told = [m["text"] for m in slack.messages("U0ALICE")]
    assert not any("U0BOB" in t for t in told)  # never "<@U0BOB> has your question"
    assert any("<@U0CAROL> has your question" in t for t in told)
    [notice] = await _coe_notices(running)
    assert notice.text.startswith(
        "<@U0BOB> is not in this Slack workspace (Slack says `user_not_found`: check the ID "
        "in your roster), so they are no longer a champion; their open question was routed "
        "again."
    )
