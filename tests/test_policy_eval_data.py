"""The /ai-policy evaluation set is well formed: every label names something in the shipped
pack, so the figures `python -m benchmarks policy-eval` prints mean what they say."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.services.policy import PolicyStore

DATA = Path(__file__).parent / "data"
INTENTS = {"may_i", "tool_approved", "data_in_prompt", "incident", "request", "overview"}
VERDICTS = {"not allowed", "incident: act now", "allowed with review", "allowed", "ask"}


@pytest.mark.parametrize(
    ("name", "at_least"),
    [
        ("policy_questions.yaml", 100),
        ("policy_questions_heldout.yaml", 100),
        ("policy_questions_heldout2.yaml", 80),  # a second blind batch
    ],
)
def test_every_question_is_labelled_with_the_packs_ids(name: str, at_least: int) -> None:
    pack = PolicyStore(None).active.loaded.pack
    categories = {c.id for c in pack.categories}
    tiers = {t.id for t in pack.tiers}
    items = yaml.safe_load((DATA / name).read_text(encoding="utf-8"))
    assert len(items) >= at_least
    assert len({item["q"] for item in items}) == len(items)
    for item in items:
        assert set(item) == {"q", "intent", "category", "tier", "verdict", "note"}, item
        assert item["intent"] in INTENTS, item
        assert item["verdict"] in VERDICTS, item
        assert item["category"] is None or item["category"] in categories, item
        assert item["tier"] is None or item["tier"] in tiers | {"ask"}, item
        assert (item["tier"] == "ask") <= (item["verdict"] == "ask"), item
