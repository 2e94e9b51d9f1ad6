"""Attacks on edits: versions, deletes in between, forged versions, answers racing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlmodel import select

from bot.models import Prompt, Question
from bot.standin import FakeSlack, SlackSender
from tests.conftest import Clock, RunningApp
from tests.slack_limits.test_modals import bob_question
from tests.slack_limits.util import BODY, add_prompt, message_text


def form(title: str, body: str) -> dict[str, Any]:
    def text(block: str, value: str) -> dict[str, Any]:
        return {block: {block: {"type": "plain_text_input", "value": value or None}}}

    values: dict[str, Any] = {}
    for block, value in (
        ("title", title),
        ("body", body[:3000]),
        ("body_more", body[3000:6000]),
        ("body_rest", body[6000:]),
        ("tags", ""),
        ("stack", "python"),
        ("use_case", "unit tests"),
        ("tool", "Claude Code"),
    ):
        values.update(text(block, value))
    values["confirm"] = {"confirm": {"type": "checkboxes", "selected_options": []}}
    return values


async def the_prompt(running: RunningApp, pid: int) -> Prompt:
    async with running.deps.sessions() as session:
        p = await session.get(Prompt, pid)
        assert p is not None
        return p


async def opened_metadata(
    sender: SlackSender, running: RunningApp, slack: FakeSlack, pid: int, user: str
) -> str:
    await sender.block_action("prompt-edit", value=str(pid), user_id=user)
    await running.settle()
    return slack.views()[-1]["private_metadata"]


async def test_saving_an_edit_of_a_prompt_deleted_meanwhile_does_not_bring_it_back(
    sender: SlackSender, running: RunningApp, slack: FakeSlack
) -> None:
    p = await add_prompt(running, title="Original", author="U0ALICE")
    alice = await opened_metadata(sender, running, slack, int(p.id), "U0ALICE")
    await sender.block_action("prompt-delete", value=str(p.id), user_id="U0ADMIN")
    await running.settle()
    late = await sender.view_submission(
        "prompt-modal",
        form("Alice's edit", BODY + "More."),
        user_id="U0ALICE",
        private_metadata=alice,
    )
    assert late.status == 200
    answer = late.json()
    assert answer["response_action"] == "errors", answer
    kept = await the_prompt(running, int(p.id))
    assert kept.status == "deleted"
    assert kept.title == "Original"


async def test_a_modal_without_a_version_does_not_overwrite_a_newer_save(
    sender: SlackSender, running: RunningApp, slack: FakeSlack
) -> None:
    """A modal opened before the upgrade has no version in its metadata; the admin saves v2
    meanwhile. Saving the old modal must not silently overwrite v2."""
    p = await add_prompt(running, title="Original", author="U0ALICE")
    admin = await opened_metadata(sender, running, slack, int(p.id), "U0ADMIN")
    saved = await sender.view_submission(
        "prompt-modal",
        form("Admin v2", BODY + "Admin."),
        user_id="U0ADMIN",
        private_metadata=admin,
    )
    assert saved.json()["response_action"] == "update"
    legacy = json.dumps({"channel": "C0GENERAL", "prompt_id": p.id})
    late = await sender.view_submission(
        "prompt-modal",
        form("Alice old", BODY + "Alice."),
        user_id="U0ALICE",
        private_metadata=legacy,
    )
    kept = await the_prompt(running, int(p.id))
    assert kept.title == "Admin v2", f"v2 overwritten: {late.json()}"


@pytest.mark.parametrize("version", ['"abc"', "0", "null", "999", '"1"', "99999999999999999999999"])
async def test_forged_versions_never_overwrite_and_never_error(
    sender: SlackSender, running: RunningApp, slack: FakeSlack, version: str
) -> None:
    p = await add_prompt(running, title="Original", author="U0ALICE")
    admin = await opened_metadata(sender, running, slack, int(p.id), "U0ADMIN")
    await sender.view_submission(
        "prompt-modal",
        form("Admin v2", BODY + "Admin."),
        user_id="U0ADMIN",
        private_metadata=admin,
    )
    forged = f'{{"channel": "C0GENERAL", "prompt_id": {p.id}, "version": {version}}}'
    late = await sender.view_submission(
        "prompt-modal",
        form("Forged", BODY + "Forged."),
        user_id="U0ALICE",
        private_metadata=forged,
    )
    assert late.status == 200, late.text
    kept = await the_prompt(running, int(p.id))
    assert kept.title == "Admin v2", late.json()
    assert "reference" not in json.dumps(late.json() or {}).lower()


async def test_the_stale_error_fits_slack_even_when_the_current_text_is_huge(
    sender: SlackSender, running: RunningApp, slack: FakeSlack
) -> None:
    """The refusal shows "here is the current text": a 7,800-character prompt must not make
    the errors answer something Slack cannot show."""
    p = await add_prompt(running, title="Original", author="U0ALICE", body="x " * 3900)
    alice = await opened_metadata(sender, running, slack, int(p.id), "U0ALICE")
    admin = await opened_metadata(sender, running, slack, int(p.id), "U0ADMIN")
    await sender.view_submission(
        "prompt-modal",
        form("Admin v2", "Admin & <b>body</b> " * 380),
        user_id="U0ADMIN",
        private_metadata=admin,
    )
    late = await sender.view_submission(
        "prompt-modal", form("Alice", BODY + "Alice."), user_id="U0ALICE", private_metadata=alice
    )
    errors = late.json()["errors"]
    assert all(len(m) <= 2000 for m in errors.values()), {k: len(v) for k, v in errors.items()}


async def test_a_stale_answer_modal_does_not_overwrite_another_champions_answer(
    sender: SlackSender, running: RunningApp, slack: FakeSlack, clock: Clock
) -> None:
    qid = await bob_question(running, clock)
    await sender.block_action("question-answer", value=str(qid), user_id="U0BOB")
    await running.settle()
    [modal] = slack.views()
    # meanwhile Bob answers by typing (from his phone)
    typed = await sender.command(
        "/ask-champion", f"answer {qid} The typed answer.", user_id="U0BOB"
    )
    await running.settle()
    assert "was sent" in message_text(typed.json()), message_text(typed.json())
    late = await sender.view_submission(
        "question-answer-modal",
        {"answer": {"answer": {"type": "plain_text_input", "value": "The modal answer."}}},
        user_id="U0BOB",
        private_metadata=modal["private_metadata"],
    )
    await running.settle()
    async with running.deps.sessions() as session:
        q = (await session.exec(select(Question).where(Question.id == qid))).one()
    assert q.answer == "The typed answer.", late.json()
