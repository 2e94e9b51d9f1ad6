"""Channels that close: the community or CoE channel archived, or coe-bot removed from it.

Questions nobody could take go to the next place that works (community channel, CoE
channel, the CoE admins by DM), the CoE is told once, digests pause, and the asker is only
ever told where a question was posted once Slack has taken the post.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest
from sqlmodel import col, select

from bot.config import Settings
from bot.jobs.channels import recheck_closed
from bot.jobs.escalation import escalate_overdue
from bot.jobs.policy_review import remind_if_overdue
from bot.models import ChannelState, OutboxMessage
from bot.standin import FakeSlack, SlackSender
from tests.conftest import SIGNING_SECRET, Clock, RunningApp, start_app
from tests.helpers import message_text
from tests.test_questions import QUESTION, deliver, question, seed

ASK = "Who owns the copilot licences?"  # no champion exists: it goes to the community


@pytest.fixture
async def community(settings: Settings, clock: Clock) -> AsyncIterator[RunningApp]:
    """The app with COMMUNITY_CHANNEL=C0COMMUNITY (and COE_CHANNEL=C0COE, admin U0ADMIN)."""
    app, runner = await start_app(
        settings.model_copy(update={"community_channel": "C0COMMUNITY"}), clock
    )
    try:
        yield app
    finally:
        await runner.cleanup()


@pytest.fixture
async def asks(community: RunningApp, slack: FakeSlack) -> AsyncIterator[SlackSender]:
    async with SlackSender(community.events_url, SIGNING_SECRET, slack=slack) as sender:
        yield sender


def texts(slack: FakeSlack, conversation: str) -> list[str]:
    return [message_text(m) for m in slack.messages(conversation)]


def told_alice(slack: FakeSlack) -> list[str]:
    """What Alice's notices say (their notification text; the blocks say the same)."""
    return [m["text"] for m in slack.messages("U0ALICE") if "No champion could take" in m["text"]]


def posts_to(slack: FakeSlack, channel: str) -> int:
    """How many times coe-bot tried to post in `channel`, accepted or not."""
    return sum(
        1 for c in slack.calls_to("chat.postMessage", ok_only=False) if c.args["channel"] == channel
    )


async def closed_state(app: RunningApp) -> dict[str, str | None]:
    async with app.deps.sessions() as session:
        rows = (await session.exec(select(ChannelState))).all()
    return {r.channel_id: r.closed for r in rows}


async def test_an_archived_community_channel_sends_the_question_to_the_coe_truthfully(
    asks: SlackSender, community: RunningApp, slack: FakeSlack
) -> None:
    assert (await asks.event(slack.archive_channel("C0COMMUNITY"))).status == 200
    await asks.command("/ask-champion", ASK)
    await deliver(community)

    assert posts_to(slack, "C0COMMUNITY") == 0  # known archived: not even tried
    coe = texts(slack, "C0COE")
    assert any("needs a champion" in t and "copilot licences" in t for t in coe)
    assert told_alice(slack) == [
        "No champion could take your question (no champion is available), so it is posted "
        "in <#C0COE> for any champion to pick up."
    ]
    assert "posted in <#C0COE>" in texts(slack, "U0ALICE")[-1]  # the blocks: a link
    closing = [t for t in coe if "can no longer post in <#C0COMMUNITY>" in t]
    assert closing == [
        ":warning: coe-bot can no longer post in <#C0COMMUNITY>: it was archived. Questions "
        "nobody could take now go to <#C0COE>. To undo: unarchive the channel (with coe-bot "
        "still in it)."
    ]
    assert await closed_state(community) == {"C0COMMUNITY": "archived"}


async def test_archived_without_an_event_the_refused_post_moves_and_the_asker_is_told_once(
    asks: SlackSender, community: RunningApp, slack: FakeSlack
) -> None:
    slack.workspace.channels["C0COMMUNITY"].is_archived = True  # an event we never got
    await asks.command("/ask-champion", ASK)
    await deliver(community)

    assert posts_to(slack, "C0COMMUNITY") == 1  # refused with is_archived
    assert [c.error for c in slack.calls_to("chat.postMessage", ok_only=False) if not c.ok] == [
        "is_archived"
    ]
    assert len(told_alice(slack)) == 1
    assert "posted in <#C0COE>" in told_alice(slack)[0]
    assert "C0COMMUNITY" not in " ".join(texts(slack, "U0ALICE"))
    assert sum("can no longer post in <#C0COMMUNITY>" in t for t in texts(slack, "C0COE")) == 1

    await asks.command("/ask-champion", "And who approves cursor seats?", user_id="U0BOB")
    await deliver(community)
    assert posts_to(slack, "C0COMMUNITY") == 1  # the second question went straight on
    assert any("posted in <#C0COE>" in t for t in texts(slack, "U0BOB"))
    assert sum("can no longer post" in t for t in texts(slack, "C0COE")) == 1  # told once


async def test_with_both_channels_closed_the_question_goes_to_the_admins_by_dm(
    asks: SlackSender, community: RunningApp, slack: FakeSlack
) -> None:
    await asks.event(slack.archive_channel("C0COMMUNITY"))
    await asks.event(slack.remove_bot("C0COE"))
    await asks.command("/ask-champion", ASK)
    await deliver(community)

    admin = texts(slack, "U0ADMIN")
    [post] = [t for t in admin if "needs a champion" in t]
    assert "It comes to you as a CoE admin" in post
    assert told_alice(slack) == [
        "No champion could take your question (no champion is available), so it was sent "
        "to the CoE team directly, as its channels cannot be posted in."
    ]
    # the CoE channel's own closing reached the admins, as every CoE notice now does
    assert any(
        "can no longer post in <#C0COE>: it no longer has coe-bot in it" in t
        and "CoE notices now come to the CoE admins by DM" in t
        for t in admin
    )
    assert posts_to(slack, "C0COE") == posts_to(slack, "C0COMMUNITY") == 0  # known closed


async def test_nowhere_to_post_the_asker_is_told_so_at_once(
    settings: Settings, clock: Clock, slack: FakeSlack
) -> None:
    app, runner = await start_app(
        settings.model_copy(update={"community_channel": "C0COMMUNITY", "coe_admins": ()}), clock
    )
    try:
        async with SlackSender(app.events_url, SIGNING_SECRET, slack=slack) as sender:
            await sender.event(slack.archive_channel("C0COMMUNITY"))
            await sender.event(slack.archive_channel("C0COE"))
            await sender.command("/ask-champion", ASK)
        await deliver(app)
        [said] = told_alice(slack)
        assert "coe-bot has nowhere to post it right now; it is saved" in said
        assert posts_to(slack, "C0COMMUNITY") == 0
        assert slack.messages("C0COE") == []  # only the refused notice about C0COMMUNITY
    finally:
        await runner.cleanup()


async def test_the_asker_hears_nothing_until_slack_takes_the_post(
    asks: SlackSender, community: RunningApp, slack: FakeSlack
) -> None:
    slack.fail("chat.postMessage", status=500, times=1)  # the community post, first try
    await asks.command("/ask-champion", ASK)
    await deliver(community)
    assert told_alice(slack) == []
    async with community.deps.sessions() as session:
        rows = (await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))).all()
    assert [(r.kind, r.status) for r in rows] == [
        ("question-community-post", "pending"),
        ("question-asker-community", "held"),
    ]
    community.deps.clock = lambda: rows[0].next_attempt_at  # the retry is due
    await deliver(community)
    assert len(texts(slack, "C0COMMUNITY")) == 1
    assert len(told_alice(slack)) == 1
    assert "posted in <#C0COMMUNITY>" in told_alice(slack)[0]


async def test_a_repeated_event_tells_the_coe_once_and_unarchiving_restores_the_channel(
    asks: SlackSender, community: RunningApp, slack: FakeSlack
) -> None:
    event = slack.archive_channel("C0COMMUNITY")
    await asks.event(event)
    await asks.event(event, event_id="Ev0RETRY", retry_num=1)
    await asks.event(slack.remove_bot("C0COMMUNITY"))  # Slack may say both
    await deliver(community)
    assert sum("can no longer post" in t for t in texts(slack, "C0COE")) == 1
    assert await closed_state(community) == {"C0COMMUNITY": "archived"}

    slack.invite_bot("C0COMMUNITY")
    await asks.event(slack.archive_channel("C0COMMUNITY", archived=False))
    await deliver(community)
    assert texts(slack, "C0COE")[-1] == (
        ":white_check_mark: coe-bot can post in <#C0COMMUNITY> again. Questions nobody could "
        "take go there again."
    )
    await asks.command("/ask-champion", ASK)
    await deliver(community)
    assert any("needs a champion" in t for t in texts(slack, "C0COMMUNITY"))
    assert "posted in <#C0COMMUNITY>" in told_alice(slack)[0]


async def test_removed_then_invited_back_and_other_joins_change_nothing(
    asks: SlackSender, community: RunningApp, slack: FakeSlack
) -> None:
    await asks.event(slack.remove_bot("C0COMMUNITY"))
    assert await closed_state(community) == {"C0COMMUNITY": "removed"}
    someone = {
        "type": "member_joined_channel",
        "user": "U0BOB",
        "channel": "C0COMMUNITY",
        "channel_type": "C",
        "team": slack.team_id,
    }
    await asks.event(someone)
    assert await closed_state(community) == {"C0COMMUNITY": "removed"}
    await asks.event(slack.invite_bot("C0COMMUNITY"))
    await community.settle()  # conversations.info confirms it, after the 200
    assert await closed_state(community) == {"C0COMMUNITY": None}
    await deliver(community)
    assert texts(slack, "C0COE")[-1].startswith(
        ":white_check_mark: coe-bot can post in <#C0COMMUNITY> again."
    )


async def test_a_channel_with_no_part_is_recorded_and_nobody_is_bothered(
    asks: SlackSender, community: RunningApp, slack: FakeSlack
) -> None:
    await asks.event(slack.archive_channel("C0GENERAL"))
    await asks.event(slack.archive_channel("C0GENERAL", archived=False))
    await deliver(community)
    assert texts(slack, "C0COE") == []
    assert await closed_state(community) == {"C0GENERAL": None}


async def test_malformed_channel_events_are_refused_or_ignored(
    asks: SlackSender, community: RunningApp, slack: FakeSlack
) -> None:
    missing = await asks.event({"type": "channel_archive", "user": "U0ADMIN"})
    assert missing.status == 400
    odd = await asks.event({"type": "channel_left", "channel": {"id": "C0COMMUNITY"}})
    assert odd.status == 400
    lower = await asks.event({"type": "channel_left", "channel": "c0community"})
    assert lower.status == 400
    dm = await asks.event({"type": "channel_left", "channel": "D0ALICE"})
    assert dm.status == 200  # a DM, not a channel: nothing to record
    assert await closed_state(community) == {}


async def test_escalation_and_review_reminders_follow_a_closed_channel(
    asks: SlackSender, community: RunningApp, slack: FakeSlack, clock: Clock
) -> None:
    clock.now = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)  # a Monday morning
    await seed(community, slack)
    await asks.command("/ask-champion", QUESTION)
    await deliver(community)
    await asks.event(slack.archive_channel("C0COMMUNITY"))
    await asks.event(slack.archive_channel("C0COE"))
    clock.advance(minutes=31)
    await escalate_overdue(community.deps)  # Bob missed it: Carol
    clock.advance(minutes=31)
    await escalate_overdue(community.deps)  # Carol too: the community, which is closed
    await deliver(community)
    assert (await question(community)).champion_id is None
    assert any("It comes to you as a CoE admin" in t for t in texts(slack, "U0ADMIN"))
    assert "sent to the CoE team directly" in told_alice(slack)[0]
    assert posts_to(slack, "C0COMMUNITY") == 0
    assert slack.messages("C0COE") == []  # one refused notice (queued while it was open)

    clock.advance(hours=7)  # one business day: overdue, to the CoE, i.e. its admins
    await escalate_overdue(community.deps)
    await deliver(community)
    assert any("past its deadline" in t for t in texts(slack, "U0ADMIN"))

    pack = community.deps.policy.active.loaded.pack.metadata
    clock.now = dt.datetime.combine(
        pack.last_reviewed + dt.timedelta(days=pack.review_interval_days + 1),
        dt.time(9),
        tzinfo=dt.UTC,
    )
    assert await remind_if_overdue(community.deps)
    await deliver(community)
    assert any("was due for review" in t for t in texts(slack, "U0ADMIN"))
    assert slack.messages("C0COE") == []


async def test_a_coe_notice_refused_by_its_channel_goes_to_the_admins(
    community: RunningApp, slack: FakeSlack, clock: Clock
) -> None:
    slack.workspace.channels["C0COE"].members.remove(slack.bot_user_id)  # no event heard
    pack = community.deps.policy.active.loaded.pack.metadata
    clock.now = dt.datetime.combine(
        pack.last_reviewed + dt.timedelta(days=pack.review_interval_days + 1),
        dt.time(9),
        tzinfo=dt.UTC,
    )
    assert await remind_if_overdue(community.deps)
    await deliver(community)
    admin = texts(slack, "U0ADMIN")
    assert sum("was due for review" in t for t in admin) == 1
    assert sum("can no longer post in <#C0COE>" in t for t in admin) == 1
    assert await closed_state(community) == {"C0COE": "removed"}


async def test_the_hourly_recheck_reopens_a_channel_whose_event_was_missed(
    asks: SlackSender, community: RunningApp, slack: FakeSlack
) -> None:
    await asks.event(slack.archive_channel("C0COMMUNITY"))
    assert await recheck_closed(community.deps) == 0  # still archived
    slack.workspace.channels["C0COMMUNITY"].is_archived = False  # unarchived while we were down
    slack.fail("conversations.info", error="internal_error")
    assert await recheck_closed(community.deps) == 0  # Slack unreadable: nothing changes
    assert await closed_state(community) == {"C0COMMUNITY": "archived"}
    assert await recheck_closed(community.deps) == 1
    assert await closed_state(community) == {"C0COMMUNITY": None}


async def test_unarchived_without_coe_bot_in_it_stays_closed(
    asks: SlackSender, community: RunningApp, slack: FakeSlack
) -> None:
    await asks.event(slack.archive_channel("C0COMMUNITY"))
    slack.workspace.channels["C0COMMUNITY"].members.remove(slack.bot_user_id)
    await asks.event(slack.archive_channel("C0COMMUNITY", archived=False))
    await deliver(community)
    assert await closed_state(community) == {"C0COMMUNITY": "archived"}
    assert not any("can post in" in t for t in texts(slack, "C0COE"))
    await asks.command("/ask-champion", ASK)
    await deliver(community)
    assert posts_to(slack, "C0COMMUNITY") == 0
    assert "posted in <#C0COE>" in told_alice(slack)[0]


async def test_with_nowhere_to_send_a_coe_notice_waits_for_the_coe_channel(
    settings: Settings, clock: Clock, slack: FakeSlack
) -> None:
    app, runner = await start_app(settings.model_copy(update={"coe_admins": ()}), clock)
    try:
        async with SlackSender(app.events_url, SIGNING_SECRET, slack=slack) as sender:
            await sender.event(slack.archive_channel("C0COE"))
            pack = app.deps.policy.active.loaded.pack.metadata
            clock.now = dt.datetime.combine(
                pack.last_reviewed + dt.timedelta(days=pack.review_interval_days + 1),
                dt.time(9),
                tzinfo=dt.UTC,
            )
            assert await remind_if_overdue(app.deps)
            await deliver(app)
            assert posts_to(slack, "C0COE") == 0
            clock.advance(hours=1)
            await sender.event(slack.archive_channel("C0COE", archived=False))
            await deliver(app)
        said = texts(slack, "C0COE")
        assert sum("was due for review" in t for t in said) == 1
        assert said[-1].startswith(":white_check_mark: coe-bot can post in <#C0COE> again")
    finally:
        await runner.cleanup()


async def test_the_admins_hear_of_both_closings_once_and_nothing_stale(
    asks: SlackSender, community: RunningApp, slack: FakeSlack
) -> None:
    await asks.event(slack.archive_channel("C0COMMUNITY"))  # its notice waits for C0COE
    await asks.event(slack.archive_channel("C0COE"))
    await deliver(community)
    assert texts(slack, "U0ADMIN") == [
        ":warning: coe-bot can no longer post in <#C0COE>: it was archived. Questions nobody "
        "could take now go to the CoE admins by DM. CoE notices now come to the CoE admins "
        "by DM. Also closed: <#C0COMMUNITY> (channel archived). To undo: unarchive the "
        "channel (with coe-bot still in it)."
    ]
    assert posts_to(slack, "C0COE") == 0  # the stale notice was not tried, nor forwarded


async def test_rows_for_a_channel_known_closed_are_not_tried_again(
    asks: SlackSender, community: RunningApp, slack: FakeSlack
) -> None:
    slack.workspace.channels["C0COMMUNITY"].is_archived = True  # no event
    for n, user in enumerate(("U0ALICE", "U0BOB", "U0CAROL", "U0DAVE", "U0ERIN")):
        await asks.command("/ask-champion", f"Question {n} about licences", user_id=user)
    await deliver(community)
    assert posts_to(slack, "C0COMMUNITY") == 1  # the first refusal closed it for the rest
    assert sum("needs a champion" in t for t in texts(slack, "C0COE")) == 5
    for user in ("U0ALICE", "U0BOB", "U0CAROL", "U0DAVE", "U0ERIN"):
        [said] = [m["text"] for m in slack.messages(user) if "No champion" in m["text"]]
        assert "posted in <#C0COE>" in said


async def test_coe_bot_joining_a_channel_still_archived_does_not_reopen_it(
    asks: SlackSender, community: RunningApp, slack: FakeSlack
) -> None:
    await asks.event(slack.remove_bot("C0COMMUNITY"))
    slack.workspace.channels["C0COMMUNITY"].is_archived = True
    await asks.event(slack.invite_bot("C0COMMUNITY"))
    await deliver(community)
    assert await closed_state(community) == {"C0COMMUNITY": "removed"}
    assert not any("can post in" in t for t in texts(slack, "C0COE"))
