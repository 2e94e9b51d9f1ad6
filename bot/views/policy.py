"""Block Kit for `/ai-policy`: answers, the overview, help and the no-match reply."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from bot.services.policy_pack import Decision, MatrixCell, PolicyPack, Rule, Tool, ToolStatus
from bot.services.policy_search import Outcome, PolicyAnswer
from bot.views.common import (
    BUTTON_VALUE_MAX,
    Block,
    actions,
    button,
    clip,
    context,
    divider,
    escape,
    header,
    section,
)


class PolicyActions(StrEnum):
    share = "policy-share"
    ask_champion = "policy-ask-champion"


DECISION_LABEL = {
    Decision.allowed: ":white_check_mark: Allowed",
    Decision.allowed_with_review: ":large_orange_diamond: Allowed with review",
    Decision.not_allowed: ":no_entry: Not allowed",
}
TOOL_STATUS_LABEL = {
    ToolStatus.approved: ":white_check_mark: approved",
    ToolStatus.pilot: ":test_tube: pilot",
    ToolStatus.not_allowed: ":no_entry: not allowed",
}
MAX_CELLS = 6
HELP = (
    "*`/ai-policy`* answers “may I use an AI assistant on this code, with which tool, "
    "under what review?” from the organisation's policy pack.\n"
    "• `/ai-policy` — the overview: the category × tier matrix and the approved tools\n"
    "• `/ai-policy can I use copilot for auth code in a customer-facing service?` — a question\n"
    "• `/ai-policy cursor` — a tool's status and approved configuration\n"
    "• `/ai-policy secrets in prompts` — the matching rules\n"
    "• `/ai-policy help` — this message\n"
    "Answers are only shown to you; *Share in channel* posts one for everyone."
)


def help_message() -> dict[str, Any]:
    return _reply([section(HELP)], text="How to use /ai-policy")


def answer_message(answer: PolicyAnswer, pack: PolicyPack) -> dict[str, Any]:
    """The reply to a question; shareable unless nothing matched."""
    if answer.outcome is Outcome.overview:
        return overview_message(pack)
    blocks: list[Block] = [section(f"*Your question:* {escape(clip(answer.query, 500))}")]
    if answer.corrections:
        fixed = ", ".join(f"“{escape(a)}” → “{escape(b)}”" for a, b in answer.corrections.items())
        blocks.append(context(f"Read as: {fixed}"))
    if answer.outcome is Outcome.no_match:
        return _reply(blocks + _no_match(answer), text="No policy entry matched your question")
    blocks += _cells(answer, pack)
    blocks += [_tool(tool, answer) for tool in answer.tools[:3]]
    blocks += _rules(answer.rules)
    blocks.append(_footer(pack))
    blocks.append(actions(_share_button(answer.query)))
    return _reply(blocks, text=_fallback_text(answer, pack))


def shared_message(answer: PolicyAnswer, pack: PolicyPack, user_id: str) -> dict[str, Any]:
    """The same answer, posted for the channel, saying who shared it."""
    message = answer_message(answer, pack)
    blocks = [b for b in message["blocks"] if b.get("type") != "actions"]
    blocks.append(context(f"Shared by <@{user_id}> from `/ai-policy`"))
    return {**message, "response_type": "in_channel", "blocks": blocks}


def overview_message(pack: PolicyPack) -> dict[str, Any]:
    meta = pack.metadata
    blocks: list[Block] = [header(f"AI coding policy: {meta.name}")]
    for category in pack.categories:
        lines = [
            f"{escape(pack.tier(c.tier).name)}: {DECISION_LABEL[c.decision]}"
            for c in pack.matrix
            if c.category == category.id
        ]
        blocks.append(
            section(f"*{escape(category.name)}* — {escape(clip(category.description, 300))}\n")
        )
        blocks.append(context(" · ".join(lines)))
    blocks.append(divider())
    tools = [
        f"• *{escape(t.name)}* — {TOOL_STATUS_LABEL[t.status]}"
        + (f" ({', '.join(escape(pack.tier(x).name) for x in t.tiers)})" if t.tiers else "")
        for t in pack.tools
    ]
    if tools:
        blocks.append(section("*Tools*\n" + "\n".join(tools)))
    blocks.append(_footer(pack))
    blocks.append(actions(_share_button("")))
    return _reply(blocks, text=f"AI coding policy overview ({meta.name} {meta.version})")


def _reply(blocks: list[Block], *, text: str) -> dict[str, Any]:
    return {"response_type": "ephemeral", "text": text, "blocks": blocks}


def _cells(answer: PolicyAnswer, pack: PolicyPack) -> list[Block]:
    if not answer.cells:
        return []
    blocks: list[Block] = []
    if len(answer.cells) > 1:
        blocks.append(
            section(
                "*Your question fits more than one case.* Where code falls in several "
                "categories, the strictest cell applies:"
            )
        )
    blocks += [_cell(cell, pack) for cell in answer.cells[:MAX_CELLS]]
    if len(answer.cells) > MAX_CELLS:
        blocks.append(
            context(f"…and {len(answer.cells) - MAX_CELLS} more: name a category or tier.")
        )
    return blocks


def _cell(cell: MatrixCell, pack: PolicyPack) -> Block:
    category, tier = pack.category(cell.category), pack.tier(cell.tier)
    lines = [
        f"*{escape(category.name)}* code in a *{escape(tier.name)}* system: "
        f"*{DECISION_LABEL[cell.decision]}*",
        f"*Review required:* {escape(cell.review)}",
    ]
    if cell.label_required:
        lines.append(
            "*Label:* AI-assisted changes must be labelled in the pull request for the audit trail."
        )
    if cell.notes:
        lines.append(escape(cell.notes))
    return section("\n".join(lines))


def _tool(tool: Tool, answer: PolicyAnswer) -> Block:
    lines = [f"*{escape(tool.name)}* — {TOOL_STATUS_LABEL[tool.status]}"]
    outside = [t for t in answer.tiers if tool.tiers and t.id not in tool.tiers]
    if tool.status is not ToolStatus.not_allowed and outside:
        names = ", ".join(escape(t.name) for t in outside)
        lines.append(f":warning: Not approved for *{names}* systems.")
    if tool.configuration:
        lines.append("*Approved configuration:*")
        lines += [f"• {escape(item)}" for item in tool.configuration]
    if tool.data_residency:
        lines.append(f"*Data residency:* {escape(tool.data_residency)}")
    if tool.notes:
        lines.append(escape(tool.notes))
    return section("\n".join(lines))


def _rules(rules: list[Rule]) -> list[Block]:
    blocks: list[Block] = []
    for rule in rules:
        links = " · ".join(f"<{link.url}|{escape(link.title)}>" for link in rule.links[:4])
        text = f"*{escape(rule.question)}*\n{escape(rule.answer)}"
        blocks.append(section(text + (f"\n{links}" if links else "")))
    return blocks


def _no_match(answer: PolicyAnswer) -> list[Block]:
    blocks: list[Block] = [section("I couldn't find that in the policy pack.")]
    if answer.suggestions:
        topics = "\n".join(f"• {escape(clip(s, 200))}" for s in answer.suggestions)
        blocks.append(section(f"*Closest topics:*\n{topics}"))
    blocks.append(
        actions(
            button(
                "Ask a champion",
                PolicyActions.ask_champion.value,
                clip(answer.query, BUTTON_VALUE_MAX - 100),
                style="primary",
            )
        )
    )
    return blocks


def _share_button(query: str) -> Block:
    return button(
        "Share in channel", PolicyActions.share.value, clip(query, BUTTON_VALUE_MAX - 100)
    )


def _footer(pack: PolicyPack) -> Block:
    meta = pack.metadata
    parts = [
        f"{escape(meta.name)} · version {escape(meta.version)} · "
        f"last reviewed {meta.last_reviewed.isoformat()} · owner {escape(meta.owner)}"
    ]
    if meta.example:
        parts.append(":memo: Example policy pack: adapt it before relying on it.")
    return context(*parts)


def _fallback_text(answer: PolicyAnswer, pack: PolicyPack) -> str:
    if len(answer.cells) == 1:
        cell = answer.cells[0]
        return (
            f"{pack.category(cell.category).name} × {pack.tier(cell.tier).name}: "
            f"{DECISION_LABEL[cell.decision].split(' ', 1)[1]}"
        )
    return "AI policy answer"


def mention_reply(answer: PolicyAnswer, pack: PolicyPack) -> dict[str, Any]:
    """The answer as a thread reply to an @-mention: public, so no share button."""
    message = answer_message(answer, pack)
    blocks = [b for b in message["blocks"] if b.get("type") != "actions"]
    if answer.outcome is Outcome.no_match:
        blocks.append(context("Try `/ai-policy` for the overview, or ask a champion."))
    return {"text": message["text"], "blocks": blocks}
