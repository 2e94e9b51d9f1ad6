"""Slack's uniqueness rules on the paged lists, and the stand-in's enforcement of limits.

Slack documents action_id as "unique among all other action_ids in the containing block"
and block_id as "unique for each message"; a message breaking either is refused with
`invalid_blocks` (a slash-command answer with `invalid_command_response`) - field reports:
fabro-sh/fabro#251, knacklabs/gantry#458, haruotsu/slack-review-notify#99.
"""

from __future__ import annotations

import datetime as dt

from bot.services import champions, teams
from bot.standin import FakeSlack, SlackSender, validate_blocks
from bot.standin.blockkit import validate_view
from tests.conftest import Clock, RunningApp
from tests.helpers import add_digest_subscriptions
from tests.slack_limits.test_other_lists import seed_questions
from tests.slack_limits.util import add_prompt, duplicate_ids, walk


def assert_unique(pages: list[dict]) -> None:
    assert len(pages) >= 3, "needs a middle page"
    problems = {i: duplicate_ids(p) for i, p in enumerate(pages) if duplicate_ids(p)}
    assert not problems, problems


async def test_middle_pages_of_prompts_mine_are_valid_for_slack(
    sender: SlackSender, running: RunningApp, slack: FakeSlack, clock: Clock
) -> None:
    for i in range(40):
        await add_prompt(
            running,
            title=f"Prompt {i:02d}",
            body=f"Body {i}.",
            now=clock() + dt.timedelta(minutes=i),
        )
    first = (await sender.command("/prompts", "mine", user_id="U0ALICE")).json()
    assert_unique(await walk(sender, running, slack, first, "prompt-mine-page", "-", "U0ALICE"))


async def test_middle_pages_of_search_are_valid_for_slack(
    sender: SlackSender, running: RunningApp, slack: FakeSlack, clock: Clock
) -> None:
    for i in range(20):
        await add_prompt(
            running, title=f"Testing recipe {i}", body=f"Write tests, number {i}.", author="U0BOB"
        )
    first = (await sender.command("/prompts", "testing recipe")).json()
    assert_unique(await walk(sender, running, slack, first, "prompt-more", "-", "U0ALICE"))


async def test_middle_pages_of_the_review_queue_are_valid_for_slack(
    sender: SlackSender, running: RunningApp, slack: FakeSlack, clock: Clock
) -> None:
    for i in range(40):
        await add_prompt(
            running, title=f"Pending {i}", body=f"Body {i}.", author="U0BOB", needs_review=True
        )
    sent = await sender.command("/ai-coe", "prompts review", user_id="U0ADMIN")
    await running.settle()
    first = slack.responses_for(sent.response_url or "")[-1].body
    assert_unique(await walk(sender, running, slack, first, "prompt-review-page", "-", "U0ADMIN"))


async def test_middle_pages_of_the_champion_queue_are_valid_for_slack(
    sender: SlackSender, running: RunningApp, slack: FakeSlack, clock: Clock
) -> None:
    await seed_questions(
        running, clock, 40, text="How do I test it?", champion="U0BOB", asker="U0ALICE"
    )
    first = (await sender.command("/ask-champion", "queue", user_id="U0BOB")).json()
    assert_unique(await walk(sender, running, slack, first, "question-queue-page", "-", "U0BOB"))


async def test_middle_pages_of_the_champions_list_are_valid_for_slack(
    sender: SlackSender, running: RunningApp, slack: FakeSlack
) -> None:
    async with running.deps.sessions.begin() as session:
        team = await teams.get_or_create(session=session, name="platform", now=running.deps.clock())
        for n in range(120):
            await champions.upsert(
                session=session,
                user_id=f"U0CH{n:03d}",
                team=team,
                topics=["python"],
                now=running.deps.clock(),
            )
    sent = await sender.command("/ai-coe", "champions list", user_id="U0ADMIN")
    await running.settle()
    first = slack.responses_for(sent.response_url or "")[-1].body
    assert_unique(await walk(sender, running, slack, first, "champions-list-page", "-", "U0ADMIN"))


async def test_middle_pages_of_the_digest_list_are_valid_for_slack(
    sender: SlackSender, running: RunningApp, slack: FakeSlack
) -> None:
    await add_digest_subscriptions(running, 120, sections=["prompts"])
    sent = await sender.command("/ai-coe", "digest list", user_id="U0ADMIN")
    await running.settle()
    first = slack.responses_for(sent.response_url or "")[-1].body
    assert_unique(await walk(sender, running, slack, first, "digest-list-page", "-", "U0ADMIN"))


# -- the stand-in (promise 5): it must refuse what Slack refuses -----------------------


def test_standin_refuses_duplicate_action_ids_in_one_block() -> None:
    blocks = [
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": "page",
                    "text": {"type": "plain_text", "text": "Next"},
                    "value": "11",
                },
                {
                    "type": "button",
                    "action_id": "page",
                    "text": {"type": "plain_text", "text": "First"},
                    "value": "0",
                },
            ],
        }
    ]
    assert validate_blocks(blocks) != []


def test_standin_refuses_duplicate_block_ids() -> None:
    section = {"type": "section", "block_id": "same", "text": {"type": "mrkdwn", "text": "a"}}
    assert validate_blocks([section, dict(section)]) != []


def test_standin_checks_text_objects_in_context_blocks() -> None:
    too_long = [{"type": "context", "elements": [{"type": "mrkdwn", "text": "x" * 3001}]}]
    empty = [{"type": "context", "elements": [{"type": "mrkdwn", "text": ""}]}]
    assert validate_blocks(too_long) != [], "3,001 characters in a context text object"
    assert validate_blocks(empty) != [], "an empty context text object"


def test_standin_checks_plain_text_input_lengths() -> None:
    view = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Edit"},
        "submit": {"type": "plain_text", "text": "Save"},
        "blocks": [
            {
                "type": "input",
                "block_id": "body",
                "label": {"type": "plain_text", "text": "Body"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": "body",
                    "multiline": True,
                    "max_length": 6000,
                    "initial_value": "x" * 4000,
                },
            }
        ],
    }
    assert validate_view(view) != [], "plain_text_input max_length is at most 3,000"


async def test_middle_pages_of_the_survey_list_are_valid_for_slack(
    sender: SlackSender, running: RunningApp, slack: FakeSlack
) -> None:
    from bot.services import surveys
    from bot.services.survey_definitions import parse_definition

    for n in range(120):
        definition = parse_definition(
            f"id: pulse-{n:03d}\ntitle: Pulse {n}\nintro: hi\nanonymous: true\naudience:\n"
            "  users: [U0ALICE]\nwindow_days: 7\nreminder_after_days: 3\nquestions:\n"
            "  - id: q\n    type: likert\n    text: How useful?\n",
            source="t",
        )
        async with running.deps.sessions.begin() as session:
            await surveys.save_definition(
                session=session,
                definition=definition,
                source="t",
                actor="U0ADMIN",
                now=running.deps.clock(),
            )
    sent = await sender.command("/ai-coe", "survey list", user_id="U0ADMIN")
    await running.settle()
    first = slack.responses_for(sent.response_url or "")[-1].body
    assert_unique(await walk(sender, running, slack, first, "survey-list-page", "-", "U0ADMIN"))
