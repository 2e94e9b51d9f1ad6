"""`/ai-policy` end to end: signed slash commands in, Slack-visible replies and rows out."""

from __future__ import annotations

from bot.standin import FakeSlack, SlackSender
from tests.conftest import RunningApp
from tests.helpers import assert_valid_message, lookups, message_text


async def test_question_names_category_tier_review_and_tool(
    sender: SlackSender, running: RunningApp
) -> None:
    sent = await sender.command(
        "/ai-policy", "can I use copilot on payment code in a regulated service"
    )
    await running.settle()

    assert sent.status == 200
    reply = sent.json()
    assert reply["response_type"] == "ephemeral"
    assert_valid_message(reply)
    text = message_text(reply)
    assert "Security-critical" in text
    assert "Regulated" in text
    assert "Review required" in text
    assert "Allowed with review" in text
    assert "GitHub Copilot" in text
    assert "Approved configuration" in text
    assert "Share in channel" in text

    [stored] = await lookups(running)
    assert stored.user_id == "U0ALICE"
    assert stored.outcome == "answered"
    assert stored.matched["categories"] == ["security-critical"]
    assert stored.matched["tiers"] == ["regulated"]
    assert stored.matched["tools"] == ["github-copilot"]
    assert stored.request_key == sent.trigger_id


async def test_overview_shows_matrix_and_tools(sender: SlackSender, running: RunningApp) -> None:
    sent = await sender.command("/ai-policy", "")
    await running.settle()

    reply = sent.json()
    assert_valid_message(reply)
    text = message_text(reply)
    for name in ("Boilerplate", "Business logic", "Security-critical", "Data handling"):
        assert name.lower() in text.lower()
    assert "Tools" in text
    [stored] = await lookups(running)
    assert stored.outcome == "overview"


async def test_no_answer_offers_a_champion(
    sender: SlackSender, running: RunningApp, slack: FakeSlack
) -> None:
    sent = await sender.command("/ai-policy", "what is the weather like on mars")
    await running.settle()

    reply = sent.json()
    text = message_text(reply)
    assert "couldn't find" in text
    assert "Closest topics" in text
    assert "Ask a champion" in text
    [stored] = await lookups(running)
    assert stored.outcome == "no_match"
