"""How well `/ai-policy` answers natural questions: `python -m benchmarks policy-eval`.

Reads the evaluation set (`tests/data/policy_questions*.yaml`: question, expected intent,
category, tier and verdict), answers each question with the shipped pack exactly as the
slash command does, renders the reply as `coe-bot try` prints it, and scores what a
developer reads:

- verdict: the first verdict label on screen (Not allowed, Allowed with review, Allowed,
  a tool not approved for the tier), else "ask" when the answer asks back or lists several
  cases, else "none";
- category and tier: the ones the answer was decided on (tier "ask" when it asked);
- intent: the intent the answer was given for (`Intent`);
- too permissive: the first verdict on screen is more permissive than the expected one
  (the issue's hard target: zero);
- ask-back: how often the answer asks back, and how often an ask-back was wrong (the
  expected answer was a verdict);
- length: lines and characters of the rendered reply.

Figures per file (the held-out half separately).
"""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

import yaml

from bot.services.policy import PolicyStore
from bot.views.policy import answer_message
from bot.views.text import render_message

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
# From most permissive to strictest; "ask" and "none" are not verdicts on screen.
ORDER = ["allowed", "allowed with review", "not allowed", "incident: act now"]
LABELS = [  # what the rendered reply says, mapped to a verdict
    (":rotating_light: *Incident: act now*", "incident: act now"),
    (":no_entry: *Not allowed*", "not allowed"),
    (":large_orange_diamond: *Allowed with review*", "allowed with review"),
    (":white_check_mark: *Allowed*", "allowed"),
    (":question: *Which", "ask"),
    (":question: *What does", "ask"),
    (":question: *Is your team", "ask"),
]


def first_verdict(rendered: str) -> str:
    """The verdict on the reply's first line: what a developer who reads one line reads."""
    first = rendered.split("\n", 1)[0]
    for label, verdict in LABELS:
        if first.startswith(label):
            return verdict
    return "none"


def _category(answer: Any) -> str | None:
    ruling = answer.ruling
    return ruling.category.id if ruling and ruling.category else None


def _tier(answer: Any) -> str | None:
    """The tier the answer is for: named, assumed or chosen; "ask" when it asked which."""
    ruling = answer.ruling
    if ruling and ruling.ask and ruling.ask[0].kind == "tier":
        return "ask"
    return ruling.tier.id if ruling and ruling.tier else None


def too_permissive(read: str, expected: str) -> bool:
    if read not in ORDER or expected not in ORDER:
        return read in ORDER and expected in {"incident: act now"}
    return ORDER.index(read) < ORDER.index(expected)


def evaluate(path: Path) -> dict[str, Any]:
    """Scores for one file of questions; shapes as in the module docstring."""
    items = yaml.safe_load(path.read_text(encoding="utf-8"))
    active = PolicyStore(None).active
    rows = []
    for item in items:
        answer = active.index.answer(item["q"])
        rendered = render_message(answer_message(answer, active.loaded.pack))
        read = first_verdict(rendered)
        rows.append(
            {
                "verdict_ok": read == item["verdict"],
                "intent_ok": answer.intent.value == item["intent"],
                "ask_wrong": read == "ask" and item["verdict"] != "ask",
                "too_permissive": too_permissive(read, item["verdict"]),
                "category_ok": _category(answer) == item.get("category"),
                "tier_ok": _tier(answer) == item.get("tier"),
                "ask": read == "ask",
                "lines": rendered.count("\n"),
                "chars": len(rendered),
            }
        )
    n = len(rows)

    def share(key: str) -> float:
        return round(sum(r[key] for r in rows) / n, 3)

    lines = sorted(r["lines"] for r in rows)
    chars = sorted(r["chars"] for r in rows)
    return {
        "questions": n,
        "verdict_accuracy": share("verdict_ok"),
        "intent_accuracy": share("intent_ok"),
        "category_accuracy": share("category_ok"),
        "tier_accuracy": share("tier_ok"),
        "ask_back_rate": share("ask"),
        "ask_back_wrong": sum(r["ask_wrong"] for r in rows),
        "too_permissive": sum(r["too_permissive"] for r in rows),
        "lines_median": statistics.median(lines),
        "lines_p95": lines[int(n * 0.95) - 1],
        "chars_median": statistics.median(chars),
        "chars_p95": chars[int(n * 0.95) - 1],
    }


def run() -> dict[str, Any]:
    return {path.name: evaluate(path) for path in sorted(DATA.glob("policy_questions*.yaml"))}


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
