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
    first = text.splitlines()[0]  # the notification text, then the blocks
    assert first == "Allowed with review — Security-critical code in a Regulated system."
    assert "Two-person review with security sign-off" in text
    assert "Label the pull request AI-assisted." in text
    for button in ("Details", ":+1: Right", ":-1: Wrong", "Share in channel"):
        assert button in text

    [stored] = await lookups(running)
    assert stored.user_id == "U0ALICE"
    assert stored.outcome == "answered"
    assert stored.matched["categories"] == ["security-critical"]
    assert stored.matched["tiers"] == ["regulated"]
    assert stored.matched["tools"] == ["github-copilot"]
    assert stored.matched["intent"] == "may_i"
    assert stored.matched["verdict"] == "allowed_with_review"
    assert stored.matched["tier"] == "regulated"
    assert stored.matched["tier_source"] == "asked"
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


async def test_help_explains_usage(sender: SlackSender, running: RunningApp) -> None:
    sent = await sender.command("/ai-policy", "help")
    await running.settle()

    assert "/ai-policy" in message_text(sent.json())
    assert await lookups(running) == []


async def test_a_change_in_two_categories_is_answered_by_the_riskier(
    sender: SlackSender, running: RunningApp
) -> None:
    sent = await sender.command(
        "/ai-policy", "login code that exports customer data in a customer-facing service"
    )
    await running.settle()

    reply = sent.json()
    assert_valid_message(reply)
    text = message_text(reply)
    assert "more than one case" not in text
    assert text.startswith("Allowed with review — Data handling code in a Customer-facing system.")
    [stored] = await lookups(running)
    assert stored.outcome == "answered"
    assert set(stored.matched["categories"]) == {"security-critical", "data-handling"}


async def test_a_category_whose_answer_depends_on_the_tier_asks_which(
    sender: SlackSender, running: RunningApp
) -> None:
    sent = await sender.command("/ai-policy", "business logic")
    text = message_text(sent.json())
    assert text.startswith("Which tier is this code in?")
    for tier in ("Internal tooling", "Customer-facing", "Regulated"):
        assert tier in text


async def test_small_typos_are_understood(sender: SlackSender, running: RunningApp) -> None:
    sent = await sender.command("/ai-policy", "copliot for authentcation in a hipaa app")
    await running.settle()

    text = message_text(sent.json())
    assert "read as: copliot → copilot" in text
    assert text.startswith("Allowed with review — Security-critical code in a Regulated system.")
    [stored] = await lookups(running)
    assert stored.matched["tools"] == ["github-copilot"]
    assert stored.matched["tiers"] == ["regulated"]


async def test_a_tool_that_is_not_approved_for_the_tier_is_flagged(
    sender: SlackSender, running: RunningApp
) -> None:
    sent = await sender.command("/ai-policy", "cursor for business logic in a regulated system")
    text = message_text(sent.json())
    assert text.startswith("Not allowed — Cursor Business is not approved for Regulated systems.")


async def test_user_text_is_escaped(sender: SlackSender, running: RunningApp) -> None:
    sent = await sender.command("/ai-policy", "<!channel> <@U0BOB> & copilot")
    await running.settle()

    shown = message_text(sent.json())
    assert "<!channel>" not in shown
    assert "<@U0BOB>" not in shown
    assert "&lt;!channel&gt; &lt;@U0BOB&gt; &amp; copilot" in shown


async def test_overlong_text_is_refused_politely(sender: SlackSender, running: RunningApp) -> None:
    sent = await sender.command("/ai-policy", "copilot " * 400)
    await running.settle()

    assert sent.status == 200
    assert "under 3,000 characters" in message_text(sent.json())
    assert await lookups(running) == []


async def test_control_characters_are_refused(sender: SlackSender, running: RunningApp) -> None:
    sent = await sender.command("/ai-policy", "copilot\x00\x1b[31m")
    await running.settle()

    assert "control characters" in message_text(sent.json())
    assert await lookups(running) == []


async def test_share_posts_the_answer_in_channel(
    sender: SlackSender, running: RunningApp, slack: FakeSlack
) -> None:
    asked = await sender.command("/ai-policy", "copilot for auth code in a customer-facing service")
    share = next(
        e
        for b in asked.json()["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "policy-share"
    )
    clicked = await sender.block_action(
        "policy-share", value=share["value"], user_id="U0ALICE", response_url=asked.response_url
    )
    await running.settle()

    assert clicked.status == 200
    [posted] = [r.body for r in slack.responses_for(asked.response_url or "")]
    assert posted["response_type"] == "in_channel"
    assert posted["replace_original"] is False
    assert_valid_message(posted)
    text = message_text(posted)
    assert "Shared by <@U0ALICE>" in text
    assert "Security-critical" in text
    assert "Share in channel" not in text


async def test_retried_command_is_recorded_once(sender: SlackSender, running: RunningApp) -> None:
    first = await sender.command("/ai-policy", "copilot secrets")
    retry = await sender.command(
        "/ai-policy",
        "copilot secrets",
        trigger_id=first.trigger_id,
        response_url=first.response_url,
        retry_num=1,
    )
    await running.settle()

    assert retry.status == 200
    assert len(await lookups(running)) == 1


async def test_ask_a_champion_hands_the_question_to_a_champion(
    sender: SlackSender, running: RunningApp, slack: FakeSlack
) -> None:
    from bot.jobs.outbox import send_due
    from bot.services import champions, teams

    async with running.deps.sessions.begin() as session:
        team = await teams.get_or_create(session=session, name="platform", now=running.deps.clock())
        await champions.upsert(
            session=session,
            user_id="U0DAVE",
            team=team,
            topics=["coffee"],
            now=running.deps.clock(),
        )
    asked = await sender.command(
        "/ai-policy", "<!here> is the coffee machine on floor three broken"
    )
    button = next(
        e
        for b in asked.json()["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "policy-ask-champion"
    )
    for _ in range(2):  # pressed twice: handed over once
        await sender.block_action(
            "policy-ask-champion", value=button["value"], response_url=asked.response_url
        )
        await running.settle()
    while await send_due(running.deps):
        pass

    [dm] = slack.messages("U0DAVE")  # the coffee champion has it, once
    assert "&lt;!here&gt;" in message_text(dm)
    assert "<!here>" not in message_text(dm)
    confirmations = [message_text(r.body) for r in slack.responses_for(asked.response_url or "")]
    assert any("passed your question to a champion" in c for c in confirmations)
    assert any("already passed" in c for c in confirmations)


async def test_with_no_champion_the_question_reaches_the_coe_channel(
    sender: SlackSender, running: RunningApp, slack: FakeSlack
) -> None:
    from bot.jobs.outbox import send_due

    asked = await sender.command("/ai-policy", "is the coffee machine on floor three broken")
    button = next(
        e
        for b in asked.json()["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "policy-ask-champion"
    )
    await sender.block_action(
        "policy-ask-champion", value=button["value"], response_url=asked.response_url
    )
    await running.settle()
    while await send_due(running.deps):
        pass
    [post] = slack.messages("C0COE")  # no COMMUNITY_CHANNEL: the CoE channel stands in
    assert "needs a champion" in message_text(post)
