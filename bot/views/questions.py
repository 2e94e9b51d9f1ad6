"""Block Kit for `/ask-champion`: DMs to champions and askers, channel posts, reuse, queue."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

from bot.models import Question
from bot.services.champions import ChampionStats
from bot.views.common import (
    Block,
    actions,
    button,
    clip,
    context,
    divider,
    escape,
    plain,
    plural,
    section,
)
from bot.views.paging import page


class QuestionActions(StrEnum):
    claim = "question-claim"
    answer = "question-answer"
    pass_on = "question-pass"
    helpful = "question-helpful"
    not_helpful = "question-not-helpful"
    reuse_resolved = "question-reuse-resolved"
    reuse_escalate = "question-reuse-escalate"
    queue_page = "question-queue-page"


ANSWER_MODAL = "question-answer-modal"
ANSWER_BLOCK = "answer"
HELP = (
    "*`/ask-champion <question>`* — ask your team's AI champion. Earlier answers that match "
    "are shown first; if none helps, the question goes to a champion, who is reminded, and "
    "it moves on if they can't take it.\n"
    "• `/ask-champion queue` — (champions) your open questions, with their numbers\n"
    "• `/ask-champion claim 12`, `pass 12`, `answer 12 <your answer>` — (champions) the "
    "buttons, typed\n"
    "• `/ask-champion away on` / `away off` — (champions) pause or resume new questions"
)


def _quote(text: str, limit: int = 2500) -> str:
    return "\n".join(f">{line}" for line in clip(escape(text), limit).splitlines() or [""])


def help_message() -> dict[str, Any]:
    return {
        "response_type": "ephemeral",
        "text": "How to use /ask-champion",
        "blocks": [section(HELP)],
    }


def champion_dm(question: Question, reason: str | None) -> tuple[str, list[Block]]:
    value = str(question.id)
    why = f" (it came to you as {escape(reason)})" if reason else ""
    blocks = [
        section(f":raising_hand: <@{question.asker_id}> asks{why}:\n{_quote(question.text)}"),
        actions(
            button("Claim", QuestionActions.claim.value, value, style="primary"),
            button("Answer", QuestionActions.answer.value, value),
            button("Pass", QuestionActions.pass_on.value, value),
        ),
        context(
            f"Question #{question.id} · reply in this thread to answer, use the buttons, or "
            f"`/ask-champion claim {question.id}`."
        ),
    ]
    return f"A question from <@{question.asker_id}>", blocks


def asker_routed(question: Question, champion: str) -> tuple[str, list[Block]]:
    text = f"<@{champion}> has your question and will get back to you."
    return text, [section(f":white_check_mark: {text}\n{_quote(question.text, 500)}")]


def asker_claimed(champion: str) -> tuple[str, list[Block]]:
    text = f"<@{champion}> is working on your question."
    return text, [section(f":eyes: {text}")]


def asker_community(question: Question, where: str | None) -> tuple[str, list[Block]]:
    """The asker's notice that no champion took it; `where` is the channel it was posted
    in, "admins" (sent to the CoE admins by DM) or None (nowhere could take it)."""
    if where == "admins":
        then = "so it was sent to the CoE team directly, as its channels cannot be posted in."
    elif where:
        then = f"so it is posted in <#{where}> for any champion to pick up."  # a link
    else:
        then = (
            "and coe-bot has nowhere to post it right now; it is saved, and the CoE "
            "will see it in the question list."
        )
    reason = question.route_reason or "no champion is available"
    text = f"No champion could take your question ({reason}), {then}"
    said = f"No champion could take your question ({escape(reason)}), {then}"
    return text, [section(f":loudspeaker: {said}\n{_quote(question.text, 500)}")]


def asker_answered(question: Question) -> tuple[str, list[Block]]:
    value = str(question.id)
    blocks = [
        section(
            f":speech_balloon: <@{question.answered_by}> answered your question:\n"
            f"{_quote(question.text, 400)}"
        ),
        section(escape(clip(question.answer or "", 2900))),
        actions(
            button("Helpful", QuestionActions.helpful.value, value, style="primary"),
            button("Not helpful", QuestionActions.not_helpful.value, value),
        ),
    ]
    return f"<@{question.answered_by}> answered your question", blocks


def community_post(question: Question, *, to_admin: bool = False) -> tuple[str, list[Block]]:
    """A question nobody could take, for the community channel (or, when no channel can be
    posted in, for each CoE admin by DM, with a line saying why it came to them)."""
    blocks: list[Block] = [
        section(
            f":sos: A question from <@{question.asker_id}> needs a champion:\n"
            f"{_quote(question.text)}"
        ),
        actions(
            button("Claim", QuestionActions.claim.value, str(question.id), style="primary"),
            button("Answer", QuestionActions.answer.value, str(question.id)),
        ),
    ]
    if to_admin:
        blocks.append(
            context(
                "It comes to you as a CoE admin: coe-bot cannot post in the community or "
                "CoE channel."
            )
        )
    return "A question needs a champion", blocks


def coe_post(question: Question) -> tuple[str, list[Block]]:
    holder = f"with <@{question.champion_id}>" if question.champion_id else "unclaimed"
    blocks = [
        section(
            f":warning: Unanswered past its deadline ({holder}), from "
            f"<@{question.asker_id}>:\n{_quote(question.text)}"
        ),
        context(f"Asked {question.created_at:%Y-%m-%d %H:%M} UTC · question #{question.id}"),
    ]
    return "A question is overdue", blocks


def reuse_message(text: str, matches: list[Question]) -> dict[str, Any]:
    blocks: list[Block] = [section("*These earlier answers may help:*")]
    for match in matches:
        value = json.dumps({"m": match.id, "q": text[:1800]})
        blocks += [
            divider(),
            section(
                f"{_quote(match.text, 400)}\n*<@{match.answered_by}>:* "
                f"{escape(clip(match.answer or '', 1500))}"
            ),
            actions(button("That answers it", QuestionActions.reuse_resolved.value, value)),
        ]
    value = json.dumps({"q": text[:1800]})
    blocks += [
        divider(),
        actions(
            button(
                "I still need a champion",
                QuestionActions.reuse_escalate.value,
                value,
                style="primary",
            )
        ),
    ]
    return {"response_type": "ephemeral", "text": "Earlier answers", "blocks": blocks}


def queue_message(
    questions: list[Question], user_id: str, *, total: int | None = None, offset: int = 0
) -> dict[str, Any]:
    """A champion's queue from `offset`, paged whole with the true `total`."""
    total = len(questions) if total is None else total
    if not total:
        return {
            "response_type": "ephemeral",
            "text": "No open questions",
            "blocks": [section("No open questions for you. :tada:")],
        }
    head = [section(f"*{plural(total, 'open question')}*")]
    entries = []
    for question in questions:
        mine = question.champion_id == user_id
        state = (
            "claimed by you"
            if question.status == "claimed" and mine
            else ("waiting for your claim" if mine else "unclaimed, in the community channel")
        )
        buttons = [button("Answer", QuestionActions.answer.value, str(question.id))]
        if question.status == "open":
            buttons.insert(0, button("Claim", QuestionActions.claim.value, str(question.id)))
        if mine:
            buttons.append(button("Pass", QuestionActions.pass_on.value, str(question.id)))
        entries.append(
            [
                section(
                    f"#{question.id} · <@{question.asker_id}> · {state}\n"
                    f"{_quote(question.text, 600)}"
                ),
                actions(*buttons),
            ]
        )
    blocks = page(
        head,
        entries,
        total=total,
        offset=offset,
        action_id=QuestionActions.queue_page.value,
        noun=("question", "questions"),
    )
    return {"response_type": "ephemeral", "text": "Your open questions", "blocks": blocks}


def answer_modal(question: Question, metadata: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": ANSWER_MODAL,
        "title": plain("Answer a question", 24),
        "submit": plain("Send answer", 24),
        "close": plain("Cancel", 24),
        "private_metadata": json.dumps(metadata),
        "blocks": [
            section(f"<@{question.asker_id}> asks:\n{_quote(question.text, 2800)}"),
            {
                "type": "input",
                "block_id": ANSWER_BLOCK,
                "label": plain("Your answer", 2000),
                "element": {
                    "type": "plain_text_input",
                    "action_id": ANSWER_BLOCK,
                    "multiline": True,
                    "max_length": 3000,
                },
            },
        ],
    }


CHAMPIONS_PAGE = "champions-list-page"


def champions_list(
    stats: list[ChampionStats], *, offset: int = 0, total: int | None = None
) -> dict[str, Any]:
    """Champions with their load and record, a line each, paged from `offset`."""
    total = len(stats) if total is None else total
    if not total:
        return {
            "response_type": "ephemeral",
            "text": "No champions",
            "blocks": [section("No champions yet: `/ai-coe champions add @user team=… topics=…`")],
        }
    entries = []
    for s in stats:
        away = " _(away)_" if not s.champion.available else ""
        median = f"{s.median_minutes_to_answer:.0f} min" if s.median_minutes_to_answer else "—"
        helpful = f"{s.helpful}/{s.rated} helpful" if s.rated else "no ratings"
        topics = ", ".join(s.champion.topics) or "any topic"
        entries.append(
            [
                section(
                    f"• <@{s.champion.user_id}> · {escape(s.team)} · {escape(topics)}{away} — "
                    f"{s.open_questions} open, {s.answered} answered, median {median}, {helpful}"
                )
            ]
        )
    blocks = page(
        [section(f"*Champions ({total:,})*")],
        entries,
        total=total,
        offset=offset,
        action_id=CHAMPIONS_PAGE,
        noun=("champion", "champions"),
        divided=False,
    )
    return {"response_type": "ephemeral", "text": "Champions", "blocks": blocks}
