"""App Home: what a person sees, and what a CoE admin sees besides."""

from __future__ import annotations

from bot.jobs.people import sync_directory
from bot.services import prompts
from bot.standin import FakeSlack, SlackSender
from tests.conftest import Clock, RunningApp
from tests.helpers import message_text


async def test_home_for_everyone_and_for_coe_admins(
    sender: SlackSender, running: RunningApp, slack: FakeSlack
) -> None:
    async with running.deps.sessions.begin() as session:
        await prompts.create(
            session=session,
            draft=prompts.PromptDraft(title="<!here> Review a diff", body="Review this diff."),
            author_id="U0ALICE",
            team=None,
            now=running.deps.clock(),
            needs_review=False,
        )
    await sender.command("/ask-champion", "Who can approve a new AI tool?")
    await running.settle()

    await sender.event(
        {
            "type": "app_home_opened",
            "user": "U0ALICE",
            "tab": "home",
            "channel": "D0ALICE",
            "event_ts": "1.1",
        }
    )
    await running.settle()
    alice = slack.home_view("U0ALICE")
    assert alice is not None
    text = message_text(alice)
    assert "Your open questions" in text
    assert "Who can approve a new AI tool?" in text
    assert "&lt;!here&gt; Review a diff" in text
    assert "CoE view" not in text

    await sender.event(
        {
            "type": "app_home_opened",
            "user": "U0ADMIN",
            "tab": "home",
            "channel": "D0ADMIN",
            "event_ts": "1.2",
        }
    )
    await running.settle()
    admin = slack.home_view("U0ADMIN")
    assert admin is not None
    admin_text = message_text(admin)
    assert "CoE view" in admin_text
    assert "Open questions (1), oldest first" in admin_text
    assert "Policy pack" in admin_text


async def test_the_coe_view_reads_the_people_directory(
    sender: SlackSender, running: RunningApp, slack: FakeSlack, clock: Clock
) -> None:
    async def admin_home() -> str:
        await sender.event(
            {"type": "app_home_opened", "user": "U0ADMIN", "tab": "home", "event_ts": "1.3"}
        )
        await running.settle()
        view = slack.home_view("U0ADMIN")
        assert view is not None
        return message_text(view)

    assert "never read whole from Slack" in await admin_home()
    slack.workspace.add_user("U0GUEST", "gus", is_restricted=True)
    slack.deactivate_user("U0DAVE")
    await sync_directory(running.deps, force=True)
    clock.advance(hours=3)
    text = await admin_home()
    people = len(slack.workspace.users)
    assert (
        f"People directory: {people} people (1 deactivated, 1 bot, 1 guest), "
        "read from Slack 3 h ago"
    ) in text


async def test_the_coe_view_names_the_channels_coe_bot_cannot_post_in(
    sender: SlackSender, running: RunningApp, slack: FakeSlack, clock: Clock
) -> None:
    async def admin_home() -> str:
        await sender.event(
            {"type": "app_home_opened", "user": "U0ADMIN", "tab": "home", "event_ts": "1.4"}
        )
        await running.settle()
        view = slack.home_view("U0ADMIN")
        assert view is not None
        return message_text(view)

    assert "cannot post in" not in await admin_home()
    await sender.event(slack.archive_channel("C0COMMUNITY"))
    clock.advance(hours=1)
    await sender.event(slack.remove_bot("C0GENERAL"))
    clock.advance(hours=2)
    assert (
        ":no_entry: coe-bot cannot post in <#C0COMMUNITY> (channel archived, 3 h ago), "
        "<#C0GENERAL> (coe-bot removed from the channel, 2 h ago)"
    ) in await admin_home()
    await sender.event(slack.invite_bot("C0GENERAL"))
    await running.settle()
    assert "<#C0GENERAL>" not in await admin_home()


async def test_app_home_lists_say_how_many_there_are_and_where_the_rest_is(
    sender: SlackSender, running: RunningApp, slack: FakeSlack
) -> None:
    async with running.deps.sessions.begin() as session:
        for n in range(8):
            await prompts.create(
                session=session,
                draft=prompts.PromptDraft(title=f"Prompt {n}", body=f"Review this diff, case {n}."),
                author_id="U0ALICE",
                team=None,
                now=running.deps.clock(),
                needs_review=False,
            )
    await sender.event(
        {"type": "app_home_opened", "user": "U0ALICE", "tab": "home", "event_ts": "1.5"}
    )
    await running.settle()
    view = slack.home_view("U0ALICE")
    assert view is not None
    text = message_text(view)
    assert "*Your prompts* (8)" in text
    assert "…and 3 more: `/prompts mine` lists them all" in text
    assert text.count("Review this diff") == 0  # titles are listed, not bodies
    assert sum(f"Prompt {n}" in text for n in range(8)) == 5
