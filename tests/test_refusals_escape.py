"""A refusal quotes what was typed, escaped: `<!channel>` in a bad team name, topic, time
zone or user group never reaches Slack as a mention."""

from __future__ import annotations

import pytest

from bot.standin import FakeSlack, SlackSender
from tests.conftest import RunningApp
from tests.helpers import message_text


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("champions add <@U0BOB> team=<!channel> topics=python", "is not a team name"),
        ("champions add <@U0BOB> team=web topics=<!here>", "is not a topic"),
        ("teams map S0123 <!channel>", "is not a team name"),
        ("teams map <!subteam^S1> web", "is not a Slack user group ID"),
        (
            "digest subscribe <#C0COMMUNITY|ai-community> weekly mon 09:00 <!everyone>",
            "is not a time zone",
        ),
        (
            "digest subscribe <#C0COMMUNITY|ai-community> weekly <!here> 09:00 UTC",
            "is not a weekday",
        ),
        ("survey status <!channel>", "Survey “"),
    ],
)
async def test_a_refusal_quotes_the_input_escaped(
    running: RunningApp, sender: SlackSender, slack: FakeSlack, command: str, expected: str
) -> None:
    reply = await sender.command("/ai-coe", command, user_id="U0ADMIN")
    await running.settle()
    text = message_text(slack.responses_for(reply.response_url or "")[-1].body)
    assert expected in text
    assert "<!" not in text
    assert "&lt;!" in text
