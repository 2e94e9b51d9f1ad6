"""`/ai-coe rollout`: each team's wave and start day, as a CoE admin sets them in Slack."""

from __future__ import annotations

from bot.services import teams
from bot.standin import FakeSlack, SlackSender
from tests.conftest import Clock, RunningApp
from tests.helpers import audit_events, message_text


async def say(
    sender: SlackSender, running: RunningApp, slack: FakeSlack, text: str, user: str = "U0ADMIN"
) -> str:
    reply = await sender.command("/ai-coe", text, user_id=user)
    await running.settle()
    return message_text(slack.responses_for(reply.response_url or "")[-1].body)


async def with_teams(running: RunningApp, clock: Clock) -> None:
    async with running.deps.sessions.begin() as session:
        await teams.import_rows(
            session=session,
            rows=teams.read_csv(
                "user_id,team,is_champion,topics\n"
                "U0A,payments,false,\nU0B,Data Platform,false,\nU0C,search,false,\n"
            ),
            actor="test",
            now=clock(),
        )


async def test_an_admin_sets_lists_and_removes_rollout_starts(
    running: RunningApp, sender: SlackSender, slack: FakeSlack, clock: Clock
) -> None:
    await with_teams(running, clock)
    assert "No team has a rollout start yet" in await say(sender, running, slack, "rollout")
    said = await say(sender, running, slack, "rollout payments pilot 2026-09-14")
    assert "*payments* is in the *pilot* wave from 14 Sep 2026" in said
    # twelve whole ISO weeks before the start's week (Mon 14 Sep): 22 Jun – 13 Sep
    assert "baseline is 22 Jun – 13 Sep 2026 (12 weeks before its start)" in said
    # a name with a space, a wave written as a number, a mid-week start
    said = await say(sender, running, slack, "rollout data platform 25 2026-10-07")
    assert "*data-platform* is in the *25%* wave from 7 Oct 2026" in said
    assert "baseline is 13 Jul – 4 Oct 2026" in said
    said = await say(sender, running, slack, "rollout search all 2026-11-30")
    assert "*search* is in the *everyone* wave" in said
    listed = await say(sender, running, slack, "rollout")
    lines = list(dict.fromkeys(line for line in listed.splitlines() if line.startswith("• ")))
    assert [line.split("*")[1] for line in lines] == ["payments", "data-platform", "search"]
    assert "• *payments* · pilot · started 14 Sep 2026 · baseline 22 Jun – 13 Sep 2026" in listed
    # a later start replaces the earlier one; the audit keeps both
    await say(sender, running, slack, "rollout payments 10% 2026-09-21")
    events = await audit_events(running, "rollout.set")
    assert [e.subject for e in events] == ["payments", "data-platform", "search", "payments"]
    assert events[-1].actor == "U0ADMIN"
    assert events[-1].details == {
        "wave": "10%",
        "start": "2026-09-21",
        "before": {"wave": "pilot", "start": "2026-09-14"},
    }
    assert "Removed *search*'s rollout start" in await say(
        sender, running, slack, "rollout search remove"
    )
    assert "had no rollout start: nothing changed" in await say(
        sender, running, slack, "rollout search remove"
    )
    listed = await say(sender, running, slack, "rollout")
    assert "search" not in listed
    assert [e.subject for e in await audit_events(running, "rollout.remove")] == ["search"]


async def test_bad_input_is_refused_with_what_to_write_and_changes_nothing(
    running: RunningApp, sender: SlackSender, slack: FakeSlack, clock: Clock
) -> None:
    await with_teams(running, clock)
    cases = {
        "rollout payments beta 2026-09-14": "“beta” is not a wave. Waves: pilot, 10%, 25%, 50%,"
        " everyone",
        "rollout payments pilot 14/09/2026": "is not a date: write the start day as YYYY-MM-DD",
        "rollout payments pilot 2026-02-30": "is not a date",
        "rollout payments pilot 2019-01-01": "is before any AI coding tool existed",
        "rollout payments pilot 2028-01-01": "is more than a year away",
        "rollout nosuchteam pilot 2026-09-14": "No team called “nosuchteam”. Teams:"
        " data-platform, payments, search",
        "rollout <!channel> pilot 2026-09-14": "No team called “&lt;!channel&gt;”",
        "rollout payments pilot": "Name the team, its wave and its start day",
        "rollout nosuchteam remove": "No team called “nosuchteam”",
    }
    for command, expected in cases.items():
        assert expected in await say(sender, running, slack, command), command
    refused = await say(sender, running, slack, "rollout payments pilot 2026-09-14", user="U0ALICE")
    assert "CoE admins only" in refused
    assert "No team has a rollout start yet" in await say(sender, running, slack, "rollout")
    assert await audit_events(running, "rollout.set") == []
