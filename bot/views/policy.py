"""Block Kit for `/ai-policy`: answers, the overview, help and the no-match reply."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from bot.services.policy_decide import Intent, Ruling, article, either, first_sentence
from bot.services.policy_decide import short as short_name
from bot.services.policy_pack import (
    Decision,
    MatrixCell,
    PolicyPack,
    Rule,
    Tool,
    ToolStatus,
    Verdict,
)
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
    plain,
    section,
)


class PolicyActions(StrEnum):
    share = "policy-share"
    ask_champion = "policy-ask-champion"
    details = "policy-details"
    choose = "policy-choose"  # numbered: policy-choose-0, -1, ... (unique per block)
    feedback = "policy-feedback"  # policy-feedback-up / policy-feedback-down


QUESTION_MAX = 1500  # of a button value's 2,000 characters, the rest is the JSON around it


@dataclass(frozen=True, slots=True)
class Choice:
    """What a button carries: the question, any tier or category chosen, and on a
    mention the asker (only they may choose). JSON, at most `BUTTON_VALUE_MAX` chars."""

    query: str
    tier: str | None = None
    category: str | None = None
    asker: str | None = None
    pilot: str | None = None  # "yes" / "no": is the asker's team in the tool's pilot

    @property
    def enrolled(self) -> bool | None:
        return {"yes": True, "no": False}.get(self.pilot or "")

    def encode(self, vote: str | None = None) -> str:
        data = {"q": clip(self.query, QUESTION_MAX), "t": self.tier, "c": self.category}
        data["p"] = self.pilot
        data |= {"u": self.asker, "v": vote}
        return json.dumps({k: v for k, v in data.items() if v}, ensure_ascii=False)

    @classmethod
    def decode(cls, value: str | None) -> tuple[Choice, str | None]:
        """(choice, vote); a value that is not ours (old buttons: plain text) is the query."""
        try:
            data = json.loads(value or "")
        except ValueError:
            return cls(query=(value or "").strip()), None
        if not isinstance(data, dict):
            return cls(query=str(value).strip()), None

        def text(key: str, limit: int = 120) -> str | None:
            item = data.get(key)
            return item[:limit] if isinstance(item, str) and item else None

        choice = cls(
            query=(text("q", QUESTION_MAX) or "").strip(),
            tier=text("t"),
            category=text("c"),
            asker=text("u"),
            pilot=text("p"),
        )
        return choice, text("v")


VERDICT_LABEL = {
    Verdict.incident: ":rotating_light: *Incident: act now*",
    Verdict.not_allowed: ":no_entry: *Not allowed*",
    Verdict.allowed_with_review: ":large_orange_diamond: *Allowed with review*",
    Verdict.allowed: ":white_check_mark: *Allowed*",
}
MAX_STEPS = 3


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
HELP = (
    "*`/ai-policy`* answers “may I use an AI assistant on this code, with which tool, "
    "under what review?” from the organisation's policy pack.\n"
    "• `/ai-policy can cursor write the oauth callback for our customer portal?` — the first "
    "line is the answer, then what to do; *Details* shows the full review and sources\n"
    "• `/ai-policy can I paste a stack trace into copilot chat` — what may go into a prompt\n"
    "• `/ai-policy I pasted an API key into chatgpt, what now?` — what to do first\n"
    "• `/ai-policy is windsurf approved?` — a tool's status\n"
    "• `/ai-policy` — the overview: the category × tier matrix and the approved tools\n"
    "When the answer depends on something you didn't say (the tier, what the code does, "
    "whether your team is in a pilot) I ask, with a button per choice. Answers are only "
    "shown to you; *Share in channel* posts one for everyone. 👍 / 👎 tell the CoE whether "
    "an answer was right."
)


def help_message() -> dict[str, Any]:
    return _reply([section(HELP)], text="How to use /ai-policy")


def answer_message(
    answer: PolicyAnswer,
    pack: PolicyPack,
    *,
    asker: str | None = None,
    team: str | None = None,
    shareable: bool = True,
) -> dict[str, Any]:
    """The reply to a question: the verdict first, at most three lines of what to do, then
    buttons (Details, 👍 / 👎, Share); or an ask-back with one button per choice.

    `asker`: on a mention, the only person whose choice counts (carried in button values);
    `team`: the asker's team, named when its default tier was assumed."""
    if answer.outcome is Outcome.overview:
        return overview_message(pack)
    if answer.outcome is Outcome.no_match and len(re.findall(r"[^\W\d_]{2,}", answer.query)) < 2:
        return help_message()  # "hi", "...", "?": how to ask beats a guess
    if answer.outcome is Outcome.no_match:
        intro = [section(f"*Your question:* {escape(clip(answer.query, 500))}")]
        return _reply(intro + _no_match(answer), text="No policy entry matched your question")
    ruling = answer.ruling
    state = Choice(
        query=answer.query,
        tier=answer.chosen.get("tier"),
        category=answer.chosen.get("category"),
        asker=asker,
        pilot=answer.chosen.get("pilot"),
    )
    if ruling is not None and ruling.ask:
        return _ask_message(answer, ruling, state, pack)
    lines = _verdict_lines(answer, pack, team)
    buttons = [
        button("Details", PolicyActions.details.value, state.encode()),
        button(":+1: Right", f"{PolicyActions.feedback.value}-up", state.encode("up")),
        button(":-1: Wrong", f"{PolicyActions.feedback.value}-down", state.encode("down")),
    ]
    if shareable:
        buttons.append(_share_button(state))
    blocks: list[Block] = [section("\n".join(lines)), actions(*buttons), _footer(pack, answer)]
    return _reply(blocks, text=_plain_first_line(lines[0]))


def _verdict_lines(answer: PolicyAnswer, pack: PolicyPack, team: str | None) -> list[str]:
    ruling = answer.ruling
    if ruling is None or ruling.lead is None:
        return _informational_lines(answer, pack)
    lead = ruling.lead
    lines = [f"{VERDICT_LABEL[lead.verdict]} — {lead.why}"]
    if ruling.tier_source == "team" and ruling.tier is not None:
        who = f"{escape(team)} team default" if team else "your team's default"
        lines.append(f"_Assumed *{escape(short_name(ruling.tier.name))}* ({who})._")
    steps = list(lead.steps[:2])
    for tier, reason in ruling.elsewhere[:1]:
        name = short_name(tier.name)
        words = _verdict_words(reason.verdict)
        steps.insert(1, f"In {article(name)} *{escape(name)}* system: {words} — {reason.why}")
    strict = lead.verdict.rank >= Verdict.not_allowed.rank
    for other in ruling.reasons[1:]:
        if strict and (other.verdict is Verdict.allowed or other.verdict is lead.verdict):
            continue  # a tool's configuration under a refusal, or a second incident's steps
        if other.cell is not None and lead.tool is not None and strict:
            # the tool may not be used here: the review is for a tool that may
            steps += [
                f"With an approved tool — {step[0].lower()}{step[1:]}" for step in other.steps[:1]
            ]
        elif other.cell is not None:
            steps += other.steps[:1]  # the review that applies
        elif other.rule is None and other.verdict is not Verdict.allowed:
            steps.append(f"{_verdict_words(other.verdict)} — {other.why}")
        else:
            steps += other.steps[:1]
    steps += list(lead.steps[2:])
    seen: list[str] = []
    for step in steps:
        if step and step not in seen and step != lead.why:
            seen.append(step)
    lines += [f"• {step}" for step in seen[:MAX_STEPS]]
    return lines


def _verdict_words(verdict: Verdict) -> str:
    """The label without its emoji: "*Not allowed*"."""
    return VERDICT_LABEL[verdict].split(" ", 1)[1]


def _informational_lines(answer: PolicyAnswer, pack: PolicyPack) -> list[str]:
    """No rule decides: the closest rule's answer, or the short overview."""
    if answer.rules and answer.intent is not Intent.overview:
        # Guidance, not a ruling of its own ("what is prompt injection?"): the policy's
        # general verdict leads, then the entry's question and what it says to do.
        rule = answer.rules[0]
        steps = list(rule.steps) or [first_sentence(rule.answer, 300)]
        return [
            f"{VERDICT_LABEL[Verdict.allowed_with_review]} — with an approved tool and your "
            f"company account. *{escape(rule.question)}*"
        ] + [f"• {s}" for s in steps[:MAX_STEPS]]
    tier = answer.tiers[-1] if answer.tiers else None
    tools = [
        short_name(t.name)
        for t in pack.tools
        if t.status is ToolStatus.approved and (tier is None or tier.id in t.tiers)
    ]
    where = f" for *{escape(tier.name)}* systems" if tier else ""
    last = (
        "• Ask about your change (`/ai-policy copilot for tests in the billing service`), "
        "or `/ai-policy` alone for the whole matrix."
    )
    if answer.rules:
        rule = answer.rules[0]
        last = f"• {escape(rule.question)} {(rule.steps or [first_sentence(rule.answer, 200)])[0]}"
    return [
        f"{VERDICT_LABEL[Verdict.allowed_with_review]} — with an approved tool and your company "
        "account; a human reviews every AI-assisted change.",
        f"• Approved{where}: {escape(', '.join(tools))}.",
        "• Never secrets, personal data, PHI, card data or export-controlled data in prompts.",
        last,
    ]


def _ask_message(
    answer: PolicyAnswer, ruling: Ruling, state: Choice, pack: PolicyPack
) -> dict[str, Any]:
    kind = ruling.ask[0].kind
    question = {
        "tier": "Which tier is this code in?",
        "category": "What does the code do?",
        "pilot": "Is your team enrolled in the pilot?",
    }[kind]
    lines = [f":question: *{question}* {escape(ruling.ask_why)}"]
    outcomes: dict[tuple[Verdict, str], list[str]] = {}  # tiers with one answer share a line
    for option in ruling.ask:
        if option.kind == "category" and option.verdict is not None:  # what it does, and then
            lines.append(
                f"• *{escape(option.label)}* — {escape(option.description)}:"
                f" {VERDICT_LABEL[option.verdict]}"
            )
        elif option.verdict is None:
            lines.append(f"• *{escape(option.label)}* — {escape(option.description)}")
        else:
            outcomes.setdefault((option.verdict, option.why), []).append(
                f"*{escape(option.label)}*"
            )
    for (verdict, why), labels in outcomes.items():
        lines.append(f"• {either(labels)}: {VERDICT_LABEL[verdict]}" + (f" — {why}" if why else ""))
    buttons = []
    for number, option in enumerate(ruling.ask):
        if kind == "tier":
            choice = replace(state, tier=option.id)
        elif kind == "pilot":
            choice = replace(state, pilot=option.id)
        else:
            choice = replace(
                state, category=option.id, tier=ruling.tier.id if ruling.tier else None
            )
        buttons.append(
            button(
                option.label,
                f"{PolicyActions.choose.value}-{number}",
                choice.encode(),
                style="primary" if number == 0 else None,
            )
        )
    blocks: list[Block] = [section("\n".join(lines)), actions(*buttons), _footer(pack, answer)]
    return _reply(blocks, text=question)


def _plain_first_line(line: str) -> str:
    return re.sub(r":[a-z_+-]+: |\*", "", line)[:300]


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
            section(
                f"*{escape(category.name)}* — {escape(first_sentence(category.description, 400))}"
            )
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
    blocks.append(actions(_share_button(Choice(query=""))))
    return _reply(blocks, text=f"AI coding policy overview ({meta.name} {meta.version})")


def _reply(blocks: list[Block], *, text: str) -> dict[str, Any]:
    return {"response_type": "ephemeral", "text": text, "blocks": blocks}


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
    said = (
        "I couldn't read most of that: I understand questions in English. "
        "Try rephrasing it, or ask a champion."
        if answer.unreadable
        else "I couldn't find that in the policy pack."
    )
    blocks: list[Block] = [section(said)]
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


def _share_button(state: Choice) -> Block:
    return button("Share in channel", PolicyActions.share.value, state.encode())


def _footer(pack: PolicyPack, answer: PolicyAnswer | None = None) -> Block:
    meta = pack.metadata
    asked = ""
    if answer is not None:
        asked = f"“{escape(clip(answer.query, 150))}” · "
        if answer.corrections:
            fixed = ", ".join(f"{escape(a)} → {escape(b)}" for a, b in answer.corrections.items())
            asked += f"read as: {fixed} · "
    parts = [f"{asked}{escape(meta.name)} {escape(meta.version)}"]
    if meta.example:
        parts[0] += " · :memo: example pack: adapt it before relying on it"
    return context(*parts)


def details_view(answer: PolicyAnswer, pack: PolicyPack) -> dict[str, Any]:
    """The modal behind "Details": the full cell, tool configuration, rules and sources."""
    ruling = answer.ruling
    blocks: list[Block] = [section(f"*Your question:* {escape(clip(answer.query, 500))}")]
    cells: list[MatrixCell] = []
    tools: list[Tool] = []
    rules: list[Rule] = []
    for reason in ruling.reasons if ruling else []:
        if reason.cell is not None and reason.cell not in cells:
            cells.append(reason.cell)
        if reason.tool is not None and reason.tool not in tools and reason.tool.configuration:
            tools.append(reason.tool)
        if reason.rule is not None and reason.rule not in rules:
            rules.append(reason.rule)
    for _tier, reason in ruling.elsewhere if ruling else []:
        if reason.cell is not None and reason.cell not in cells:
            cells.append(reason.cell)
    rules += [r for r in answer.rules if r not in rules]
    blocks += [_cell(cell, pack) for cell in cells[:3]]
    blocks += [_tool(tool, answer) for tool in tools[:2]]
    blocks += _rules(rules[:3])
    if len(blocks) == 1:
        blocks.append(section("Nothing more to show: the answer is the whole rule."))
    blocks.append(_footer(pack))
    return {
        "type": "modal",
        "title": plain("Policy details", 24),
        "close": plain("Close", 24),
        "blocks": blocks[:100],
    }


def mention_reply(
    answer: PolicyAnswer, pack: PolicyPack, *, asker: str | None = None, team: str | None = None
) -> dict[str, Any]:
    """The answer as a thread reply to an @-mention: public, so no share button. An
    ask-back carries the asker, so only they can choose."""
    message = answer_message(answer, pack, asker=asker, team=team, shareable=False)
    blocks = [
        b
        for b in message["blocks"]
        if answer.outcome is not Outcome.no_match or b.get("type") != "actions"
    ]
    if answer.outcome is Outcome.no_match:
        blocks.append(context("Try `/ai-policy` for the overview, or ask a champion."))
    return {"text": message["text"], "blocks": blocks}
