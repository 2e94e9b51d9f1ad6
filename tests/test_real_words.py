"""Real words are never typos: `/ai-policy` and `/prompts` correct only words that are in
no English dictionary, no developer vocabulary and not in their own vocabulary."""

from __future__ import annotations

import pytest

from bot.services.policy import PolicyStore
from bot.services.policy_search import PolicyIndex
from bot.standin import SlackSender
from bot.words import is_real
from tests.conftest import RunningApp
from tests.helpers import message_text
from tests.test_prompts import add_prompt

REAL = [
    "yaml", "storybook", "generate", "hooks", "stale", "terraform", "k8s", "dbt", "jest",
    "gradle", "kubernetes", "pytest", "webpack", "eslint", "graphql", "redis", "kafka",
    "helm", "manifests", "migrations", "invoice", "payroll", "windsurf", "devin",
]  # fmt: skip


@pytest.fixture(scope="module")
def index() -> PolicyIndex:
    return PolicyStore(None).active.index  # the shipped pack


@pytest.mark.parametrize("word", REAL)
def test_a_real_word_is_never_corrected_in_a_policy_question(index: PolicyIndex, word: str) -> None:
    answer = index.answer(f"can i use copilot on {word} in an internal tool")
    assert word not in answer.corrections


@pytest.mark.parametrize(
    ("question", "fixed"),
    [("copilot on yaml k8s manifests", "yaml"), ("generate storybook stories", "generate")],
)
async def test_the_reported_questions_keep_their_words(
    sender: SlackSender, running: RunningApp, question: str, fixed: str
) -> None:
    text = message_text((await sender.command("/ai-policy", question)).json())
    assert "read as:" not in text  # no word of the question was "corrected"
    assert fixed in text


def test_typos_are_still_typos() -> None:
    for typo in ("copliot", "authentcation", "pytset", "kubernets", "terrafrom"):
        assert not is_real(typo), typo


async def test_typos_are_still_corrected(sender: SlackSender, running: RunningApp) -> None:
    text = message_text(
        (await sender.command("/ai-policy", "copliot for authentcation in a hipaa app")).json()
    )
    assert "read as: copliot → copilot, authentcation → authentication" in text
    assert text.startswith("Allowed with review")


@pytest.mark.parametrize(("word", "near"), [("hooks", "looks"), ("stale", "state")])
async def test_prompt_search_keeps_real_words(
    sender: SlackSender, running: RunningApp, word: str, near: str
) -> None:
    await add_prompt(running, title=f"What the {near} of the service {near}", tags=["python"])
    text = message_text((await sender.command("/prompts", f"{word} cleanup")).json())
    assert "Showing results for" not in text
    assert f"“{word}” → “{near}”" not in text
