"""Block Kit for surveys: the invitation DM, the answer modal, thanks, and results."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

from bot.models import SurveyRun
from bot.services.survey_definitions import QuestionType, SurveyDefinition, SurveyQuestion
from bot.services.survey_results import QuestionResult, RunResults
from bot.services.surveys import Delivery
from bot.views.common import (
    Block,
    actions,
    button,
    clip,
    context,
    escape,
    header,
    plain,
    plural,
    section,
)
from bot.views.paging import MESSAGE_CHARS, page


class SurveyActions(StrEnum):
    answer = "survey-answer"
    stop = "survey-stop"
    send = "survey-send-confirmed"
    cancel = "survey-send-cancelled"


def send_confirmation(
    title: str, count: int, who: str, left_out: dict[str, int], value: str
) -> dict[str, Any]:
    """ "Send *Pulse* to 40 people (everyone on the roster)? [Send] [Cancel]", ephemeral."""
    left = left_out_line(left_out)
    text = f"Send *{escape(title)}* to {plural(count, 'person', 'people')} ({escape(who)})?" + (
        f" {left} (not asked)." if left else ""
    )
    return {
        "response_type": "ephemeral",
        "text": f"Send {title} to {plural(count, 'person', 'people')}?",
        "blocks": [
            section(text),
            actions(
                button("Send", SurveyActions.send.value, value, style="primary"),
                button("Cancel", SurveyActions.cancel.value, value),
            ),
        ],
    }


ANSWER_MODAL = "survey-answer-modal"
NPS_LABELS = {0: "0 – not at all likely", 10: "10 – extremely likely"}


def invitation(
    definition: SurveyDefinition, run_id: int, *, reminder: bool
) -> tuple[str, list[Block]]:
    lead = ":bell: A reminder: " if reminder else ""
    text = escape(f"{lead}{definition.title}")
    blocks = [
        section(f"*{escape(lead + definition.title)}*\n{escape(definition.intro)}"),
        actions(
            button("Answer", SurveyActions.answer.value, str(run_id), style="primary"),
            button("Stop asking me", SurveyActions.stop.value, str(run_id)),
        ),
        context(
            "Anonymous: no Slack ID is stored with your answers."
            if definition.anonymous
            else "Named: the CoE sees who answered, to follow up with the cohort."
        ),
    ]
    return text, blocks


def _element(question: SurveyQuestion, previous: Any) -> dict[str, Any]:
    action = question.id
    if question.type in {QuestionType.likert, QuestionType.nps}:
        if question.type == QuestionType.likert:
            labels = question.options or ["1", "2", "3", "4", "5"]
            values = list(range(1, 6))
        else:
            values = list(range(0, 11))
            labels = [NPS_LABELS.get(v, str(v)) for v in values]
        options = [
            {"text": plain(f"{v} · {label}" if question.options else label, 75), "value": str(v)}
            for v, label in zip(values, labels, strict=True)
        ]
        element: dict[str, Any] = {
            "type": "radio_buttons" if len(options) <= 10 else "static_select",
            "action_id": action,
            "options": options,
        }
        chosen = [o for o in options if previous is not None and o["value"] == str(previous)]
    elif question.type in {QuestionType.single, QuestionType.multi}:
        options = [{"text": plain(o, 75), "value": o} for o in question.options]
        kind = "radio_buttons" if question.type == QuestionType.single else "checkboxes"
        element = {"type": kind, "action_id": action, "options": options}
        picked = previous if isinstance(previous, list) else [previous]
        chosen = [o for o in options if o["value"] in picked]
    else:
        element = {
            "type": "plain_text_input",
            "action_id": action,
            "multiline": True,
            "max_length": 3000,
        }
        if previous:
            element["initial_value"] = str(previous)
        return element
    if element["type"] == "static_select":
        element["placeholder"] = plain("Choose 0 to 10", 150)
    if chosen:
        key = "initial_options" if element["type"] == "checkboxes" else "initial_option"
        element[key] = chosen if key == "initial_options" else chosen[0]
    return element


def answer_modal(
    definition: SurveyDefinition, run_id: int, previous: dict[str, Any]
) -> dict[str, Any]:
    blocks: list[Block] = [section(escape(clip(definition.intro, 2900)))]
    for question in definition.questions:
        blocks.append(
            {
                "type": "input",
                "block_id": question.id,
                "optional": not question.required,
                "label": plain(question.text, 2000),
                "element": _element(question, previous.get(question.id)),
            }
        )
    if previous:
        blocks.insert(1, context("You answered before: change anything and submit again."))
    return {
        "type": "modal",
        "callback_id": ANSWER_MODAL,
        "title": plain(definition.title, 24),
        "submit": plain("Submit", 24),
        "close": plain("Later", 24),
        "private_metadata": json.dumps({"run_id": run_id}),
        "blocks": blocks[:100],
    }


def read_answers(definition: SurveyDefinition, values: dict[str, Any]) -> dict[str, Any]:
    """The modal's state as answers: ints for scales, strings or lists for choices."""
    answers: dict[str, Any] = {}
    for question in definition.questions:
        state = _dict(_dict(values.get(question.id)).get(question.id))
        if question.type == QuestionType.multi:
            chosen = state.get("selected_options")
            answers[question.id] = [
                _dict(o).get("value") for o in (chosen if isinstance(chosen, list) else [])
            ]
        elif question.type == QuestionType.text:
            typed = state.get("value")
            answers[question.id] = typed.strip() or None if isinstance(typed, str) else typed
        else:
            value = _dict(state.get("selected_option")).get("value")
            scale = question.type in {QuestionType.likert, QuestionType.nps}
            if scale and isinstance(value, str) and value.isascii() and value.isdigit():
                value = int(value)
            answers[question.id] = value
    return answers


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def thanks_view(definition: SurveyDefinition, *, changed: bool) -> dict[str, Any]:
    note = "Your answers were updated." if changed else "Your answers were saved."
    return {
        "type": "modal",
        "title": plain("Thank you", 24),
        "close": plain("Done", 24),
        "blocks": [section(f":pray: {note} You can change them until the survey closes.")],
    }


# Slack refuses a message whose blocks are too long in all (`msg_blocks_too_long`) without
# documenting the number (paging.MESSAGE_CHARS: the one budget growing replies keep under).
# 50 blocks and 3,000 characters per text are documented
# (https://docs.slack.dev/reference/block-kit/blocks).
SECTION_TEXT = 2_800
TEXT_SHOWN = 300  # characters of one written answer shown in Slack
TEXTS_SHOWN = 20  # written answers shown per question


def results_message(lines: list[str], title: str, survey_id: str) -> dict[str, Any]:
    """A survey's results in sections of whole lines, as many as fit Slack's limits (50
    blocks, 3,000 characters a section, about 13,000 in all); what does not fit is
    summarised: "N more lines (text answers): `coe-bot export survey ID` has them all"."""
    blocks: list[Block] = [header(f"Results: {title}")]
    size = len(json.dumps(blocks))
    room = MESSAGE_CHARS - 400  # for the summary line
    chunk: list[str] = []
    used = 0
    for n, line in enumerate(lines):
        line = clip(line, SECTION_TEXT)
        grown = [*chunk, line]
        candidate = section("\n".join(grown))
        cost = len(json.dumps(candidate)) + 1
        fits_section = used + len(line) + 1 <= SECTION_TEXT
        if fits_section and size + cost <= room:
            chunk = grown
            used += len(line) + 1
            continue
        if chunk:
            block = section("\n".join(chunk))
            size += len(json.dumps(block)) + 1
            blocks.append(block)
        chunk, used = [line], len(line) + 1
        single = len(json.dumps(section(line))) + 1
        if size + single > room or len(blocks) >= 48:
            chunk = []
            left = len(lines) - n
            blocks.append(
                context(
                    f"{plural(left, 'more line')} (text answers and the rest) do not fit in a"
                    f" Slack message: `coe-bot export survey {escape(survey_id)}` has them all."
                )
            )
            break
    if chunk:
        blocks.append(section("\n".join(chunk)))
    return {"response_type": "ephemeral", "text": f"Results: {escape(title)}", "blocks": blocks}


def results_fallback(title: str, survey_id: str) -> dict[str, Any]:
    """What is sent when Slack refuses the results message anyway: the way to the export."""
    return {
        "response_type": "ephemeral",
        "text": (
            f"The results of {escape(title)} are too long for a Slack message: "
            f"`coe-bot export survey {escape(survey_id)}` has them all."
        ),
    }


REASONS = ("deactivated", "bot", "a bot", "guest")  # the order counts are listed in


def _counts(counts: dict[str, int]) -> str:
    def order(reason: str) -> int:
        return REASONS.index(reason) if reason in REASONS else len(REASONS)

    return ", ".join(f"{counts[r]} {r}" for r in sorted(counts, key=order) if counts[r])


def left_out_line(left_out: dict[str, int]) -> str | None:
    """ "3 left out: 1 deactivated, 1 bot, 1 guest", or None when nobody was."""
    total = sum(left_out.values())
    return f"{total} left out: {_counts(left_out)}" if total else None


def waiting_note(delivery: Delivery) -> str:
    """ " (2 waiting for the survey's hour, their time; next at 2026-12-07 09:00 UTC)"."""
    notes = []
    if delivery.local_hour:
        notes.append(f"{delivery.local_hour} waiting for the survey's hour, their time")
    if delivery.next_at is not None:
        notes.append(f"next at {delivery.next_at:%Y-%m-%d %H:%M} UTC")
    return f" ({'; '.join(notes)})" if notes else ""


def status_lines(run: SurveyRun, title: str, delivery: Delivery) -> list[str]:
    """Where a run's invitations are: sent, waiting (until when), failed (why), left out."""
    lines = [
        f"*{escape(title)}*, run #{run.id} ({run.status}, closes "
        f"{run.closes_at:%Y-%m-%d %H:%M} UTC): {plural(delivery.asked, 'person', 'people')} "
        "asked",
        f"• sent: {delivery.reached}",
        f"• waiting: {delivery.waiting}{waiting_note(delivery)}",
        f"• could not be reached: {delivery.not_reached}"
        + (f" ({_counts(delivery.unreached)})" if delivery.unreached else ""),
    ]
    if left := left_out_line(delivery.left_out):
        lines.append(f"• {left} before asking")
    return lines


def delivery_lines(delivery: Delivery) -> list[str]:
    """Who the invitations did not reach, and who was never asked, when anyone: e.g.
    "_6 asked: 1 could not be reached (1 deactivated), 1 not yet delivered._"."""
    parts = []
    if delivery.not_reached:
        parts.append(f"{delivery.not_reached} could not be reached ({_counts(delivery.unreached)})")
    if delivery.waiting:
        parts.append(f"{delivery.waiting} not yet delivered" + waiting_note(delivery))
    lines = [f"_{delivery.asked} asked: {', '.join(parts)}._"] if parts else []
    if left := left_out_line(delivery.left_out):
        lines.append(f"_{left} before asking._")
    return lines


def result_lines(
    results: RunResults,
    previous: RunResults | None,
    *,
    withheld: str | None,
    min_group: int,
    min_text: int,
    survey_id: str,
) -> list[str]:
    """Results as mrkdwn lines with text bars, user text escaped; `withheld` (why answers
    may not leave yet, from `survey_disclosure`) replaces everything but participation.
    Written answers show their first `TEXT_SHOWN` characters, `TEXTS_SHOWN` of them a
    question; a line says when any was cut and names the export that has them whole."""
    lines = [
        f"*Response rate:* {results.respondents} of {results.reached} reached "
        f"({100 * results.response_rate:.0f}%)"
    ]
    if results.delivery is not None:
        lines += delivery_lines(results.delivery)
    if withheld:
        return [*lines, f"_Results are withheld: {escape(withheld)}._"]
    if results.respondents and not any(r.counts or r.texts for r in results.questions):
        lines.append(f"_Scores are shown from {min_group} respondents._")
    before = {r.question.id: r for r in previous.questions} if previous else {}
    for result in results.questions:
        lines.append(f"\n*{escape(result.question.text)}* ({result.answered} answered)")
        lines += _distribution(result)
        lines += _headline(result, before.get(result.question.id))
        if result.texts_hidden and result.answered:
            lines.append(f"_{result.answered} written answers hidden: shown from {min_text}._")
        lines += [
            f"> {escape(clip(' '.join(t.split()), TEXT_SHOWN))}" for t in result.texts[:TEXTS_SHOWN]
        ]
        more = len(result.texts) - TEXTS_SHOWN
        cut = any(len(" ".join(t.split())) > TEXT_SHOWN for t in result.texts[:TEXTS_SHOWN])
        if more > 0 or cut:
            lines.append(
                (f"_{plural(more, 'more written answer')}" if more > 0 else "_Answers shortened")
                + f": `coe-bot export survey {escape(survey_id)}` has each in full._"
            )
    if results.by_team:
        lines.append("\n*By team*")
        for team, row in results.by_team.items():
            cells = ", ".join(f"{k} {v:.1f}" for k, v in row.items() if v is not None)
            lines.append(f"• {escape(team)}: {cells}")
    if results.hidden_teams:
        lines.append(
            f"_{plural(results.hidden_teams, 'group')} hidden: fewer than {min_group} answers._"
        )
    return lines


def _distribution(result: QuestionResult) -> list[str]:
    if not result.counts:
        return []
    total = sum(result.counts.values())
    keys = (
        [str(v) for v in range(0, 11)]
        if result.question.type == QuestionType.nps
        else [str(v) for v in range(1, 6)]
        if result.question.type == QuestionType.likert
        else list(result.question.options)
    )
    lines = []
    for key in keys:
        count = result.counts.get(key, 0)
        bar = "█" * round(20 * count / total) if total else ""
        lines.append(f"`{key[:28]:<28}` {bar} {count}")
    return lines


def _headline(result: QuestionResult, before: QuestionResult | None) -> list[str]:
    if result.nps is not None:
        change = (
            f" ({result.nps - before.nps:+.0f} since last run)"
            if before and before.nps is not None
            else ""
        )
        return [f"NPS *{result.nps:+.0f}*{change}"]
    if result.mean is not None:
        change = (
            f" ({result.mean - before.mean:+.2f} since last run)"
            if before and before.mean is not None
            else ""
        )
        return [f"Average *{result.mean:.2f}*{change}"]
    return []


SURVEY_LIST_PAGE = "survey-list-page"


def survey_list(lines: list[str], *, offset: int, total: int) -> dict[str, Any]:
    """`/ai-coe survey list`: a line per survey (mrkdwn, escaped), paged from `offset`."""
    blocks = page(
        [section(f"*Surveys* ({total:,})")],
        [[section(line)] for line in lines],
        total=total,
        offset=offset,
        action_id=SURVEY_LIST_PAGE,
        noun=("survey", "surveys"),
        divided=False,
    )
    return {"response_type": "ephemeral", "text": "Surveys", "blocks": blocks}
