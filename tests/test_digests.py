"""Weekly digests: subscriptions, content per section, exactly once, missed fires, pauses."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import update

from bot.jobs.digests import post_due
from bot.jobs.outbox import send_due
from bot.models import SurveyRecipient
from bot.services import prompts
from bot.standin import FakeSlack, SlackSender
from tests.conftest import Clock, RunningApp
from tests.helpers import (
    add_digest_subscriptions,
    assert_valid_message,
    audit_events,
    message_text,
    outbox_rows,
)

MONDAY_9_PARIS = dt.datetime(2026, 11, 9, 8, 0, tzinfo=dt.UTC)  # 09:00 in Paris


async def admin(sender: SlackSender, running: RunningApp, slack: FakeSlack, text: str) -> str:
    sent = await sender.command("/ai-coe", text, user_id="U0ADMIN")
    await running.settle()
    return message_text(slack.responses_for(sent.response_url or "")[0].body)


async def activity(sender: SlackSender, running: RunningApp, clock: Clock) -> None:
    async with running.deps.sessions.begin() as session:
        prompt = await prompts.create(
            session=session,
            draft=prompts.PromptDraft(
                title="Write tests first", body=f"Write a failing test ({clock():%Y-%m-%d})."
            ),
            author_id="U0BOB",
            team=None,
            now=clock(),
            needs_review=False,
        )
        await prompts.record_use(
            session=session, prompt=prompt, user_id="U0CAROL", team=None, now=clock()
        )
        await prompts.toggle_helpful(session=session, prompt=prompt, user_id="U0CAROL", now=clock())
    await sender.command("/ask-champion", "Who approves new AI tools?")
    await running.settle()


async def test_subscribe_and_post_once_per_week(
    sender: SlackSender, running: RunningApp, slack: FakeSlack, clock: Clock
) -> None:
    clock.now = MONDAY_9_PARIS - dt.timedelta(days=3)
    reply = await admin(
        sender,
        running,
        slack,
        "digest subscribe <#C0COMMUNITY|ai-community> weekly mon 09:00 Europe/Paris",
    )
    assert "every mon at 09:00 (Europe/Paris)" in reply
    await activity(sender, running, clock)

    assert await post_due(running.deps) == 0  # Friday: not due
    clock.now = MONDAY_9_PARIS + dt.timedelta(minutes=1)
    assert await post_due(running.deps) == 1
    assert await post_due(running.deps) == 0  # a repeated fire posts nothing more
    await send_due(running.deps)
    [posted] = slack.messages("C0COMMUNITY")
    text = message_text(posted)
    assert "Write tests first" in text
    assert "1 asked, 0 answered" in text
    assert "Did you know?" in text
    assert [e.action for e in await audit_events(running, "digest.subscribe")]

    clock.advance(days=7)  # the next week, with nothing new: a tip alone posts nothing
    assert await post_due(running.deps) == 0
    assert len(slack.messages("C0COMMUNITY")) == 1


async def test_a_missed_fire_posts_once_within_the_grace_window(
    sender: SlackSender, running: RunningApp, slack: FakeSlack, clock: Clock
) -> None:
    clock.now = MONDAY_9_PARIS - dt.timedelta(days=2)
    await admin(
        sender, running, slack, "digest subscribe C0COMMUNITY weekly mon 09:00 Europe/Paris"
    )
    await activity(sender, running, clock)
    clock.now = MONDAY_9_PARIS + dt.timedelta(hours=7)  # down over the hour, back too late
    assert await post_due(running.deps) == 0
    clock.now = MONDAY_9_PARIS + dt.timedelta(days=3)
    await activity(sender, running, clock)
    clock.now = MONDAY_9_PARIS + dt.timedelta(days=7, hours=2)  # next week, back within 6 h
    assert await post_due(running.deps) == 1
    assert await post_due(running.deps) == 0


async def test_a_channel_that_fails_pauses_its_digest_and_tells_the_coe_once(
    sender: SlackSender, running: RunningApp, slack: FakeSlack, clock: Clock
) -> None:
    slack.add_channel("C0GONE", "gone", ["U0ADMIN"])
    clock.now = MONDAY_9_PARIS - dt.timedelta(days=1)
    await admin(sender, running, slack, "digest subscribe C0GONE weekly mon 09:00 Europe/Paris")
    await activity(sender, running, clock)
    slack.workspace.channels["C0GONE"].members.remove("U0BOT")  # the bot was removed
    clock.now = MONDAY_9_PARIS + dt.timedelta(minutes=5)
    assert await post_due(running.deps) == 1
    await send_due(running.deps)
    await send_due(running.deps)
    listing = await admin(sender, running, slack, "digest list")
    assert "paused (coe-bot removed from the channel)" in listing
    paused = [m for m in slack.messages("C0COE") if "Its digest is paused" in m["text"]]
    assert [m["text"] for m in paused] == [
        ":warning: coe-bot can no longer post in <#C0GONE>: it no longer has coe-bot in it. "
        "Its digest is paused. To undo: invite coe-bot back (`/invite @coe-bot` in the "
        "channel), then `/ai-coe digest resume C0GONE`."
    ]
    clock.advance(days=7)
    assert await post_due(running.deps) == 0  # paused: not every week
    assert len([r for r in await outbox_rows(running) if r.kind == "channel-notice"]) == 1


async def test_bad_subscriptions_are_refused_and_nothing_is_stored(
    sender: SlackSender, running: RunningApp, slack: FakeSlack
) -> None:
    for text, expected in (
        ("digest subscribe C0NOPE weekly mon 09:00 Europe/Paris", "doesn't know that channel"),
        ("digest subscribe C0COMMUNITY weekly mon 25:00 Europe/Paris", "not a time"),
        ("digest subscribe C0COMMUNITY weekly mon 09:00 Mars/Olympus", "not a time zone"),
        ("digest subscribe C0COMMUNITY weekly funday 09:00 UTC", "not a weekday"),
        ("digest subscribe C0COMMUNITY weekly mon 09:00 UTC gossip", "Unknown section"),
    ):
        assert expected in await admin(sender, running, slack, text)
    assert "No channel gets a digest" in await admin(sender, running, slack, "digest list")
    refused = await sender.command("/ai-coe", "digest list", user_id="U0BOB")
    await running.settle()
    assert "CoE admins only" in message_text(
        slack.responses_for(refused.response_url or "")[0].body
    )


async def test_preview_shows_this_weeks_digest(
    sender: SlackSender, running: RunningApp, slack: FakeSlack, clock: Clock
) -> None:
    assert "Nothing happened" in await admin(sender, running, slack, "digest preview")
    await activity(sender, running, clock)
    preview = await admin(sender, running, slack, "digest preview prompts")
    assert "Write tests first" in preview
    assert "asked" not in preview  # only the prompts section was asked for


async def test_policy_changes_since_the_last_digest(
    settings: Any, clock: Clock, slack: FakeSlack, tmp_path: Any
) -> None:
    from bot.services.policy_pack import default_pack_path
    from tests.conftest import SIGNING_SECRET, start_app

    pack = tmp_path / "pack.yaml"
    pack.write_text(default_pack_path().read_text())
    app, runner = await start_app(settings.model_copy(update={"policy_pack": pack}), clock)
    try:
        clock.advance(days=1)
        pack.write_text(pack.read_text().replace('version: "2026.11.0"', 'version: "2026.12.0"'))
        async with SlackSender(app.events_url, SIGNING_SECRET, slack=slack) as sender:
            await sender.command("/ai-coe", "policy reload", user_id="U0ADMIN")
            await app.settle()
            preview = await admin(sender, app, slack, "digest preview policy")
        assert "version 2026.11.0 → 2026.12.0" in preview
    finally:
        await runner.cleanup()


async def test_two_replicas_firing_together_post_once(
    settings: Any, clock: Clock, slack: FakeSlack
) -> None:
    import asyncio

    from tests.conftest import SIGNING_SECRET, start_app

    first, runner_a = await start_app(settings, clock)
    second, runner_b = await start_app(settings, clock)  # a restart or another replica
    try:
        clock.now = MONDAY_9_PARIS - dt.timedelta(days=2)
        async with SlackSender(first.events_url, SIGNING_SECRET, slack=slack) as sender:
            await admin(
                sender, first, slack, "digest subscribe C0COMMUNITY weekly mon 09:00 Europe/Paris"
            )
            await activity(sender, first, clock)
        clock.now = MONDAY_9_PARIS + dt.timedelta(minutes=1)
        results = await asyncio.gather(post_due(first.deps), post_due(second.deps))
        assert sorted(results) == [0, 1]
        await send_due(first.deps)
        await send_due(second.deps)
        assert len(slack.messages("C0COMMUNITY")) == 1
    finally:
        await runner_a.cleanup()
        await runner_b.cleanup()


async def test_survey_and_champion_sections(
    sender: SlackSender, running: RunningApp, slack: FakeSlack, clock: Clock
) -> None:
    from bot.models import Question
    from bot.services import surveys
    from bot.services.survey_definitions import parse_definition
    from tests.test_api import SURVEY

    async with running.deps.sessions.begin() as session:
        session.add(
            Question(
                asker_id="U0ALICE",
                text="q",
                status="answered",
                answered_by="U0BOB",
                helpful=True,
                created_at=clock(),
                answered_at=clock(),
            )
        )
        session.add(
            Question(
                asker_id="U0CAROL",
                text="q2",
                status="answered",
                answered_by="U0BOB",
                helpful=False,
                created_at=clock(),
                answered_at=clock(),
            )
        )
        definition = parse_definition(SURVEY, source="t")
        await surveys.save_definition(
            session=session, definition=definition, source="t", actor="U0ADMIN", now=clock()
        )
        await surveys.start_run(
            session=session,
            definition=definition,
            period="p",
            audience=["U0ALICE", "U0BOB"],
            started_by="U0ADMIN",
            now=clock() - dt.timedelta(hours=1),
        )
        await session.exec(update(SurveyRecipient).values(status="sent"))  # both reached
    preview = await admin(sender, running, slack, "digest preview surveys champions questions")
    assert "Pulse: 0 of 2 answered (0%)" in preview
    assert "<@U0BOB> (1)" in preview  # one answer rated helpful, one not: thanked once
    assert "2 answered, median time to answer 0 min" in preview


async def test_an_archived_digest_channel_pauses_and_resumes_as_it_was(
    sender: SlackSender, running: RunningApp, slack: FakeSlack, clock: Clock
) -> None:
    slack.add_channel("C0TEAM", "team-news", ["U0ADMIN"])
    clock.now = MONDAY_9_PARIS - dt.timedelta(days=1)
    await admin(sender, running, slack, "digest subscribe C0TEAM weekly mon 09:00 UTC tip policy")
    await sender.event(slack.archive_channel("C0TEAM"))  # no failed post needed
    assert "paused (channel archived)" in await admin(sender, running, slack, "digest list")
    await activity(sender, running, clock)
    clock.now = MONDAY_9_PARIS + dt.timedelta(hours=1, minutes=5)
    assert await post_due(running.deps) == 0
    refused = await admin(sender, running, slack, "digest resume C0TEAM")
    assert "<#C0TEAM> is archived: unarchive it first; nothing was changed." in refused
    refused = await admin(sender, running, slack, "digest subscribe C0TEAM weekly mon 09:00 UTC")
    assert "<#C0TEAM> is archived: unarchive it first; nothing was changed." in refused
    assert "paused (channel archived)" in await admin(sender, running, slack, "digest list")

    await sender.event(slack.archive_channel("C0TEAM", archived=False))
    await running.settle()
    while await send_due(running.deps):
        pass
    [back] = [m["text"] for m in slack.messages("C0COE") if "again" in m["text"]]
    assert back == (
        ":white_check_mark: coe-bot can post in <#C0TEAM> again. Its digest stays paused: "
        "`/ai-coe digest resume C0TEAM` restarts it."
    )
    resumed = await admin(sender, running, slack, "digest resume C0TEAM")
    assert "<#C0TEAM> gets the digest again every mon at 09:00 (UTC): tip, policy." in resumed
    listing = await admin(sender, running, slack, "digest list")
    assert "paused" not in listing
    assert "tip, policy" in listing
    nothing = await admin(sender, running, slack, "digest resume C0COMMUNITY")
    assert "<#C0COMMUNITY> has no digest subscription; nothing was changed." in nothing


async def test_a_long_digest_list_pages_within_slacks_limits(
    sender: SlackSender, running: RunningApp, slack: FakeSlack
) -> None:
    await add_digest_subscriptions(
        running, 60, sections=["prompts", "questions", "surveys", "adoption"]
    )
    sent = await sender.command("/ai-coe", "digest list", user_id="U0ADMIN")
    await running.settle()
    first = slack.responses_for(sent.response_url or "")[-1].body
    assert_valid_message(first)
    assert "*Digest subscriptions* (60)" in message_text(first)
    shown = message_text(first).count("C0TEAM")
    assert f"Showing 1–{shown} of 60 subscriptions" in message_text(first)
    [following] = [
        e
        for b in first["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "digest-list-page"
    ]
    url = slack.new_response_url()
    await sender.block_action(
        "digest-list-page", value=following["value"], user_id="U0ADMIN", response_url=url
    )
    await running.settle()
    second = slack.responses_for(url)[-1].body
    assert_valid_message(second)
    assert shown + message_text(second).count("C0TEAM") == 60
    refused = slack.new_response_url()
    await sender.block_action(
        "digest-list-page", value="0", user_id="U0ALICE", response_url=refused
    )
    await running.settle()
    assert "CoE admins only" in message_text(slack.responses_for(refused)[-1].body)


async def test_a_busy_week_counts_what_the_digest_does_not_list(
    sender: SlackSender, running: RunningApp, slack: FakeSlack, clock: Clock
) -> None:
    async with running.deps.sessions.begin() as session:
        for n in range(7):
            await prompts.create(
                session=session,
                draft=prompts.PromptDraft(title=f"Recipe {n}", body=f"Do the thing, way {n}."),
                author_id="U0BOB",
                team=None,
                now=clock() - dt.timedelta(minutes=n),
                needs_review=False,
            )
    preview = await admin(sender, running, slack, "digest preview prompts")
    assert [f"Recipe {n}" in preview for n in range(7)] == [True] * 5 + [False] * 2
    assert "…and 2 more new prompts" in preview


async def test_many_policy_changes_in_a_week_show_the_latest(
    settings: Any, clock: Clock, slack: FakeSlack, tmp_path: Any
) -> None:
    from bot.services.policy_pack import default_pack_path
    from tests.conftest import SIGNING_SECRET, start_app

    pack = tmp_path / "pack.yaml"
    original = default_pack_path().read_text()
    pack.write_text(original)
    app, runner = await start_app(settings.model_copy(update={"policy_pack": pack}), clock)
    try:
        async with SlackSender(app.events_url, SIGNING_SECRET, slack=slack) as sender:
            for minor in range(1, 6):
                clock.advance(hours=1)
                pack.write_text(
                    original.replace('version: "2026.11.0"', f'version: "2026.11.{minor}"')
                )
                await sender.command("/ai-coe", "policy reload", user_id="U0ADMIN")
                await app.settle()
            preview = await admin(sender, app, slack, "digest preview policy")
        assert (
            "version 2026.11.2 → 2026.11.3; version 2026.11.3 → 2026.11.4;"
            " version 2026.11.4 → 2026.11.5 (and 2 earlier changes)"
        ) in preview
        assert "2026.11.1 →" not in preview
    finally:
        await runner.cleanup()


async def test_a_digest_slack_refuses_as_too_long_still_reaches_the_channel(
    sender: SlackSender, running: RunningApp, slack: FakeSlack, clock: Clock
) -> None:
    """Slack does not publish every size limit: when it refuses a post for its size, the
    same words go again as plain text, once, and the row says why the first one failed."""
    clock.now = MONDAY_9_PARIS - dt.timedelta(days=3)
    await admin(
        sender, running, slack, "digest subscribe <#C0COMMUNITY|ai-community> weekly mon 09:00 UTC"
    )
    await activity(sender, running, clock)
    while await send_due(running.deps):  # what the activity queued
        pass
    clock.now = MONDAY_9_PARIS + dt.timedelta(hours=1, minutes=1)
    assert await post_due(running.deps) == 1
    slack.fail("chat.postMessage", error="msg_blocks_too_long")
    await send_due(running.deps)
    await send_due(running.deps)
    [posted] = slack.messages("C0COMMUNITY")
    assert "blocks" not in posted or not posted["blocks"]
    assert "Write tests first" in posted["text"]
    assert "Shortened: Slack refused the full message as too long" in posted["text"]
    rows = await outbox_rows(running)
    assert sorted((r.status, r.last_error) for r in rows if r.kind == "digest") == [
        ("failed", "msg_blocks_too_long"),
        ("sent", None),
    ]
