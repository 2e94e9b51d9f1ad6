"""Helpers for the Slack-limits tests: seeding, clicking through pages, Slack's checks."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.models import Prompt
from bot.services import prompts
from bot.standin import FakeSlack, SlackSender
from bot.standin.blockkit import blocks_size, check_message, validate_blocks, validate_view
from tests.conftest import RunningApp
from tests.helpers import message_text

BODY = "Write pytest unit tests for the function below.\nCover the happy path.\n"


def slack_problems(message: dict[str, Any]) -> list[str]:
    """Everything Slack would refuse in a message (blocks, and total size)."""
    problem = check_message(message.get("text"), message.get("blocks"))
    if problem is None:
        return []
    error, details = problem
    return [error, *details, f"size={blocks_size(message.get('blocks'))}"]


def assert_slack_ok(message: dict[str, Any]) -> None:
    problems = slack_problems(message)
    assert problems == [], problems


def assert_view_ok(view: dict[str, Any]) -> None:
    problems = validate_view(view)
    assert problems == [], problems


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for block in message.get("blocks") or []:
        if block.get("type") == "actions":
            out += block["elements"]
        if block.get("type") == "section" and block.get("accessory", {}).get("type") == "button":
            out.append(block["accessory"])
    return out


async def add_prompt(
    app: RunningApp,
    *,
    title: str,
    body: str = BODY,
    author: str = "U0ALICE",
    now: dt.datetime | None = None,
    needs_review: bool = False,
    tags: list[str] | None = None,
) -> Prompt:
    async with app.deps.sessions.begin() as session:
        return await prompts.create(
            session=session,
            draft=prompts.PromptDraft(title=title, body=body, tags=tags or ["testing"]),
            author_id=author,
            team=None,
            now=now or app.deps.clock(),
            needs_review=needs_review,
        )


async def click(
    sender: SlackSender,
    app: RunningApp,
    slack: FakeSlack,
    action_id: str,
    value: str,
    user: str,
) -> tuple[list[dict[str, Any]], Any]:
    """Press a button; every post the app made to the click's response_url (all, even
    refused ones), and the HTTP answer."""
    url = slack.new_response_url()
    sent = await sender.block_action(action_id, value=value, user_id=user, response_url=url)
    await app.settle()
    return [r for r in slack.responses_for(url, ok_only=False)], sent


async def walk(
    sender: SlackSender,
    app: RunningApp,
    slack: FakeSlack,
    first: dict[str, Any],
    page_action: str,
    entry_action: str,
    user: str,
    *,
    limit: int = 40,
) -> list[dict[str, Any]]:
    """Every page reached by pressing the forward page button; the messages."""
    pages = [first]
    message = first
    for _ in range(limit):
        forward = [
            b
            for b in buttons(message)
            if b["action_id"] == page_action
            and b.get("value") != "0"
            and not any(w in b["text"]["text"].lower() for w in ("first", "previous", "back"))
        ]
        if not forward:
            return pages
        posts, _ = await click(sender, app, slack, page_action, forward[0]["value"], user)
        assert posts, f"no reply to {page_action}={forward[0]['value']}"
        assert posts[-1].ok, (posts[-1].error, slack_problems(posts[-1].body))
        message = posts[-1].body
        pages.append(message)
    raise AssertionError("paging never ends")


def entry_values(message: dict[str, Any], entry_action: str) -> list[str]:
    return [b["value"] for b in buttons(message) if b["action_id"] == entry_action]


__all__ = [
    "BODY",
    "add_prompt",
    "assert_slack_ok",
    "assert_view_ok",
    "buttons",
    "click",
    "entry_values",
    "message_text",
    "slack_problems",
    "validate_blocks",
    "walk",
]


def duplicate_ids(message: dict[str, Any]) -> list[str]:
    """Slack refuses (invalid_blocks) a message whose actions block repeats an action_id,
    or whose blocks repeat a block_id."""
    problems = []
    block_ids = [b.get("block_id") for b in message.get("blocks") or [] if b.get("block_id")]
    if len(block_ids) != len(set(block_ids)):
        problems.append(f"duplicate block_id: {sorted(block_ids)}")
    for i, block in enumerate(message.get("blocks") or []):
        elements = block.get("elements") if block.get("type") == "actions" else None
        ids = [e.get("action_id") for e in elements or [] if e.get("action_id")]
        if len(ids) != len(set(ids)):
            problems.append(f"/blocks/{i}: duplicate action_id {ids}")
    return problems
